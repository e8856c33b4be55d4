from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Q, QuerySet
from rest_framework.authtoken.models import Token

from core.exceptions import ApplicationError, NotFoundError
from courseware.models import Course, HomeworkCompletion, HomeworkTask, Membership, Session
from courseware.permissions import require_instructor, require_member, require_staff
from courseware.selectors.students import active_student_ids, student_scope

User = get_user_model()


def course_find(*, code: str, term: str | None = None) -> Course:
    """The offering the command line names: `--course CODE [--term TERM]`, or its slug."""
    code = code.strip()
    if term is not None:
        course = Course.objects.filter(code__iexact=code, term__iexact=term.strip()).first()
        if course is None:
            raise NotFoundError(f"No course {code} in term {term.strip()!r}.")
        return course
    course = Course.objects.filter(slug__iexact=code).first()
    if course is not None:
        return course
    offerings = list(Course.objects.filter(code__iexact=code))
    if len(offerings) == 1:
        return offerings[0]
    if not offerings:
        raise NotFoundError(f"No course {code}.")
    terms = ", ".join(repr(o.term) for o in offerings)
    raise ApplicationError(
        "ambiguous_course",
        f"{code} is offered in several terms ({terms}): name one with --term.",
    )


def course_get(*, user, code: str) -> tuple[Course, str]:
    """The course (named by its slug, which is its code for a course without a term) and the
    user's role in it; NotFoundError unless the user is a member."""
    course = Course.objects.filter(slug__iexact=code).first()
    if course is None:
        raise NotFoundError(f"No course {code} among your courses.")
    return course, require_member(user=user, course=course)


def course_get_for_instructor(*, user, code: str) -> Course:
    """The course, for its instructor's pages: not found for non-members, forbidden for
    students."""
    course, _role = course_get(user=user, code=code)
    require_instructor(user=user, course=course)
    return course


def session_list(*, course: Course) -> QuerySet[Session]:
    return (
        Session.objects.filter(course=course)
        .annotate(homework_count=Count("homework", distinct=True))
        .order_by("number")
    )


def session_get(*, course: Course, number: int) -> Session:
    session = (
        Session.objects.filter(course=course, number=number)
        .prefetch_related("objectives", "homework")
        .first()
    )
    if session is None:
        raise NotFoundError(f"{course.code} has no session {number}.")
    return session


def homework_task_get(*, user, task_id: int) -> tuple[HomeworkTask, str]:
    task = HomeworkTask.objects.select_related("session__course").filter(pk=task_id).first()
    if task is None:
        raise NotFoundError(f"No homework task {task_id}.")
    try:
        role = require_member(user=user, course=task.session.course)
    except NotFoundError:
        raise NotFoundError(f"No homework task {task_id}.") from None
    return task, role


def homework_task_get_for_instructor(*, user, task_id: int) -> HomeworkTask:
    task, _role = homework_task_get(user=user, task_id=task_id)
    require_instructor(user=user, course=task.session.course)
    return task


def completed_task_ids(*, user, tasks) -> set[int]:
    if not user.is_authenticated:
        return set()
    return set(
        HomeworkCompletion.objects.filter(student=user, task__in=tasks).values_list(
            "task_id", flat=True
        )
    )


def homework_upcoming(*, user) -> QuerySet[HomeworkTask]:
    """A student's homework not yet done, in their courses: dated tasks first, soonest due
    first, then undated ones. NULLS LAST is spelled out because SQLite (`make run`) puts
    NULLs first in ascending order where PostgreSQL puts them last."""
    return (
        HomeworkTask.objects.filter(
            session__course__memberships__user=user,
            session__course__memberships__role=Membership.Role.STUDENT,
        )
        .exclude(session__course__state=Course.State.DRAFT)
        .exclude(completions__student=user)
        .select_related("session__course")
        .order_by(
            F("due_at").asc(nulls_last=True), "session__course__code", "session__number", "position"
        )
    )


def course_students(
    *, course: Course, section: str = "", include_inactive: bool = False
) -> QuerySet:
    """The course's students by name: current ones (unenrolled students keep their work but
    drop out of every list), of one section if given. The membership conditions are in one
    `filter()` so they hold for the same membership row."""
    conditions = {"memberships__course": course, "memberships__role": Membership.Role.STUDENT}
    if not include_inactive:
        conditions["memberships__is_active"] = True
    if section:
        conditions["memberships__section"] = section
    return (
        User.objects.filter(**conditions).order_by("last_name", "first_name", "username").distinct()
    )


@dataclass(frozen=True)
class CompletionRow:
    student: object
    done: list[bool]
    done_count: int


@dataclass(frozen=True)
class CompletionGrid:
    tasks: list[HomeworkTask]
    rows: list[CompletionRow]

    @property
    def task_totals(self) -> list[int]:
        return [sum(row.done[i] for row in self.rows) for i in range(len(self.tasks))]


def completion_grid(*, course: Course, section: str = "") -> CompletionGrid:
    """Student-by-homework-task matrix for a course's instructor page (three queries): its
    current students, of one section if given."""
    tasks = list(
        HomeworkTask.objects.filter(session__course=course)
        .select_related("session")
        .order_by("session__number", "position")
    )
    done_pairs = set(
        HomeworkCompletion.objects.filter(
            task__session__course=course,
            student__in=active_student_ids(course=course, section=section),
        ).values_list("student_id", "task_id")
    )
    rows = []
    for student in course_students(course=course, section=section):
        done = [(student.pk, task.pk) in done_pairs for task in tasks]
        rows.append(CompletionRow(student=student, done=done, done_count=sum(done)))
    return CompletionGrid(tasks=tasks, rows=rows)


def session_progress(*, user, course: Course) -> dict[int, tuple[int, int]]:
    """{session_id: (done, total)} homework progress of one student across a course."""
    sessions = Session.objects.filter(course=course).annotate(
        total=Count("homework", distinct=True),
        done=Count("homework__completions", filter=Q(homework__completions__student=user)),
    )
    return {s.pk: (s.done, s.total) for s in sessions}


# --- Portal read helpers ------------------------------------------------------------------


def membership_list(*, user) -> QuerySet[Membership]:
    """The user's memberships (course + role), for the "My courses" page."""
    if not user.is_authenticated:
        return Membership.objects.none()
    return (
        _visible_memberships(Membership.objects.filter(user=user))
        .select_related("course")
        .order_by("course__code", "course__term")
    )


def _visible_memberships(memberships: QuerySet[Membership]) -> QuerySet[Membership]:
    """Leaves out the draft offerings a student is enrolled in: only their teaching staff see
    a draft (the rule in `permissions.course_role`)."""
    return memberships.exclude(role=Membership.Role.STUDENT, course__state=Course.State.DRAFT)


def homework_done_counts(*, session: Session, section: str = "") -> dict[int, int]:
    """{task_id: number of current students (of one section) who ticked it} for one
    session's homework."""
    students = active_student_ids(course=session.course_id, section=section)
    return dict(
        HomeworkTask.objects.filter(session=session)
        .annotate(
            done=Count("completions", filter=Q(completions__student__in=students), distinct=True)
        )
        .values_list("pk", "done")
    )


@dataclass(frozen=True)
class DeckImportPlan:
    """What importing a parsed deck into a course would do, for the preview page."""

    existing: Session | None
    completions_kept: int
    completions_dropped: int
    homework_dropped: list[str]

    @property
    def creates(self) -> bool:
        return self.existing is None


def deck_import_plan(*, course: Course, number: int, homework_count: int) -> DeckImportPlan:
    """Mirrors `services.session_import_deck`: homework rows are matched by position, so
    completions of tasks beyond the deck's last task are the only ones dropped."""
    existing = Session.objects.filter(course=course, number=number).first()
    if existing is None:
        return DeckImportPlan(None, 0, 0, [])
    completions = HomeworkCompletion.objects.filter(task__session=existing)
    kept = completions.filter(task__position__lte=homework_count).count()
    dropped_tasks = HomeworkTask.objects.filter(session=existing, position__gt=homework_count)
    return DeckImportPlan(
        existing=existing,
        completions_kept=kept,
        completions_dropped=completions.count() - kept,
        homework_dropped=list(dropped_tasks.order_by("position").values_list("text", flat=True)),
    )


def api_token_get(*, user) -> Token | None:
    """The user's API token, or None."""
    if not user.is_authenticated:
        return None
    return Token.objects.filter(user=user).first()


# --- API read helpers ---------------------------------------------------------------------


def membership_list_with_session_count(*, user) -> QuerySet[Membership]:
    """The user's memberships (course + role), each with `session_count`, by course code."""
    if not user.is_authenticated:
        return Membership.objects.none()
    return (
        _visible_memberships(Membership.objects.filter(user=user))
        .select_related("course")
        .annotate(session_count=Count("course__sessions", distinct=True))
        .order_by("course__code")
    )


def session_list_with_counts(*, course: Course) -> QuerySet[Session]:
    """`session_list` plus `objective_count` (and the course, for building links)."""
    return (
        session_list(course=course)
        .annotate(objective_count=Count("objectives", distinct=True))
        .select_related("course")
    )


def homework_completion_list(
    *, user, task: HomeworkTask, section: str = ""
) -> QuerySet[HomeworkCompletion]:
    """Who ticked a homework task, and when: earliest first. Teaching staff of the course
    only (instructors and teaching assistants); current students only (of one section, or
    the viewer's own as `student_scope` says)."""
    require_staff(user=user, course=task.session.course)
    scope = student_scope(user=user, course=task.session.course, section=section)
    return (
        scope.filter(HomeworkCompletion.objects.filter(task=task), "student")
        .select_related("student")
        .order_by("created_at", "pk")
    )
