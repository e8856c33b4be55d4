"""Quiz reads for the API and the portal. Each returns plain data (dataclasses, dicts of
JSON-ready values and datetimes, or querysets) so views only check input and serialize."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from core.exceptions import ApplicationError, NotFoundError, PermissionDeniedError
from courseware.models import Course, Session
from courseware.permissions import (
    is_staff_role,
    require_instructor,
    require_member,
    require_staff,
)
from courseware.selectors import course_get, course_students
from courseware.selectors.students import StudentScope, everyone
from quizzes import access, errors, grading, presentation, statistics
from quizzes.content import DESCRIPTION, ESSAY
from quizzes.gift import export_gift
from quizzes.models import (
    Attempt,
    AttemptQuestion,
    Question,
    QuestionCategory,
    Quiz,
    QuizOverride,
    QuizSlot,
    RegradeRecord,
)
from quizzes.review import DURING, EVERYTHING, NOTHING, normalise_review_options, review_window


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _override(quiz: Quiz, user) -> QuizOverride | None:
    return QuizOverride.objects.filter(quiz=quiz, user=user).first()


# --- Quizzes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuizAccess:
    """A quiz as one student sees it now: their dates, limit and attempts, and whether
    they can start (or continue) an attempt; `reason` says why not."""

    quiz: Quiz
    opens_at: datetime | None
    closes_at: datetime | None
    time_limit: timedelta | None
    attempts_allowed: int  # 0: unlimited
    attempts_used: int
    status: str  # "upcoming" | "open" | "closed"
    in_progress_attempt_id: int | None
    can_start: bool
    reason: str = ""
    # An attempt started now: how long it could run (the earlier of the time limit and the
    # close date), and whether the close date is what cuts it short.
    time_available: timedelta | None = None
    closes_first: bool = False

    @property
    def attempts_left(self) -> int | None:
        if not self.attempts_allowed:
            return None
        return max(0, self.attempts_allowed - self.attempts_used)


def _access(
    quiz: Quiz, override: QuizOverride | None, used: int, in_progress: int | None, now: datetime
) -> QuizAccess:
    settings = access.effective(quiz, override)
    status = access.window_state(now=now, settings=settings)
    reason = ""
    if in_progress is None:
        if status == "upcoming":
            reason = "The quiz has not opened yet."
        elif status == "closed":
            reason = "The quiz has closed."
        elif settings.attempts_allowed and used >= settings.attempts_allowed:
            reason = "No attempts left."
    return QuizAccess(
        quiz=quiz,
        opens_at=settings.opens_at,
        closes_at=settings.closes_at,
        time_limit=settings.time_limit,
        attempts_allowed=settings.attempts_allowed,
        attempts_used=used,
        status=status,
        in_progress_attempt_id=in_progress,
        can_start=not reason,
        reason=reason,
        time_available=access.time_available(now=now, settings=settings),
        closes_first=access.ended_by_close(started_at=now, settings=settings),
    )


def quiz_list(
    *, user, course: Course, session: Session | None = None, now: datetime | None = None
) -> list[QuizAccess]:
    """The quizzes of a course (or one session) the user may see, by session then opening.
    Students get their own dates and attempt counts; teaching staff the quiz's own settings
    (hidden quizzes included)."""
    now = _now(now)
    role = require_member(user=user, course=course)
    quizzes = Quiz.objects.filter(session__course=course).select_related("session")
    if session is not None:
        quizzes = quizzes.filter(session=session)
    if not is_staff_role(role):
        quizzes = quizzes.filter(visible=True)
    quizzes = list(quizzes.order_by("session__number", "opens_at", "pk"))
    if is_staff_role(role):
        return [_access(q, None, 0, None, now) for q in quizzes]
    overrides = {o.quiz_id: o for o in QuizOverride.objects.filter(quiz__in=quizzes, user=user)}
    used = dict(
        Attempt.objects.filter(quiz__in=quizzes, user=user)
        .values("quiz_id")
        .annotate(n=Count("pk"))
        .values_list("quiz_id", "n")
    )
    # Counted as in progress only while time remains: an overdue attempt is submitted when
    # the student next opens it (or by the periodic task).
    in_progress = dict(
        Attempt.objects.filter(quiz__in=quizzes, user=user, state=Attempt.State.IN_PROGRESS)
        .filter(Q(deadline__isnull=True) | Q(deadline__gte=now))
        .values_list("quiz_id", "pk")
    )
    return [
        _access(q, overrides.get(q.pk), used.get(q.pk, 0), in_progress.get(q.pk), now)
        for q in quizzes
    ]


def quiz_get(*, user, quiz_id: int) -> tuple[Quiz, str]:
    """The quiz and the user's role in its course. Not found for non-members, and for
    students while the quiz is hidden."""
    quiz = Quiz.objects.select_related("session__course").filter(pk=quiz_id).first()
    if quiz is None:
        raise errors.no_quiz(quiz_id)
    try:
        role = require_member(user=user, course=quiz.session.course)
    except NotFoundError:
        raise errors.no_quiz(quiz_id) from None
    if not is_staff_role(role) and not quiz.visible:
        raise errors.no_quiz(quiz_id)
    return quiz, role


def quiz_get_for_staff(*, user, quiz_id: int) -> tuple[Quiz, str]:
    """A quiz whose students' work the user may see (instructors and teaching assistants:
    results, statistics, the essay queue), with their role so a page can leave out what only
    instructors may change. Not found as `quiz_get`, forbidden to students."""
    quiz, _role = quiz_get(user=user, quiz_id=quiz_id)
    return quiz, require_staff(user=user, course=quiz.session.course)


def quiz_get_for_instructor(*, user, quiz_id: int) -> Quiz:
    """A quiz of a course the user teaches: not found as `quiz_get`, forbidden to its
    students and teaching assistants (the pages that change it: settings, questions,
    overrides)."""
    quiz, _role = quiz_get(user=user, quiz_id=quiz_id)
    require_instructor(user=user, course=quiz.session.course)
    return quiz


def course_get_for_instructor(*, user, code: str) -> Course:
    """A course the user teaches, for the pages that create quizzes or import questions:
    not found for non-members, forbidden to students."""
    course, _role = course_get(user=user, code=code)
    require_instructor(user=user, course=course)
    return course


def quiz_outline(quiz: Quiz) -> tuple[int, float]:
    """(number of graded questions, maximum grade) of the quiz's slots; descriptions count
    for neither."""
    slots = quiz.slots.filter(Q(question__isnull=True) | ~Q(question__qtype=DESCRIPTION))
    marks = list(slots.values_list("mark", flat=True))
    return len(marks), round(sum(marks), 7)


def quiz_access(*, quiz: Quiz, user, now: datetime | None = None) -> QuizAccess:
    now = _now(now)
    attempts = Attempt.objects.filter(quiz=quiz, user=user)
    in_progress = (
        attempts.filter(state=Attempt.State.IN_PROGRESS)
        .filter(Q(deadline__isnull=True) | Q(deadline__gte=now))
        .values_list("pk", flat=True)
        .first()
    )
    return _access(quiz, _override(quiz, user), attempts.count(), in_progress, now)


# --- Attempts ---------------------------------------------------------------------------------


def attempt_get(*, user, attempt_id: int) -> Attempt:
    """An attempt its owner or an instructor of the course may open, as stored: a caller
    that shows or changes it first applies the deadline with
    `services.attempt_finalize_if_overdue` (a selector never writes)."""
    attempt = Attempt.objects.select_related("quiz__session__course", "user").filter(pk=attempt_id)
    attempt = attempt.first()
    if attempt is None:
        raise NotFoundError(f"No attempt {attempt_id}.")
    if attempt.user_id != getattr(user, "pk", None):
        try:
            role = require_member(user=user, course=attempt.quiz.session.course)
        except NotFoundError:
            role = None
        if not is_staff_role(role):
            raise NotFoundError(f"No attempt {attempt_id}.")
    return attempt


def attempt_get_for_change(*, user, attempt_id: int) -> Attempt:
    """The user's own attempt, about to be answered or submitted: not found as
    `attempt_get`, forbidden to the course's instructors (who may read it, not change it)."""
    attempt = attempt_get(user=user, attempt_id=attempt_id)
    if attempt.user_id != user.pk:
        raise PermissionDeniedError("Only the student who started this attempt can change it.")
    return attempt


def attempt_get_for_grading(*, user, attempt_id: int) -> Attempt:
    """An attempt the user may mark (essay marking: instructors and teaching assistants);
    its student gets 403."""
    attempt = attempt_get(user=user, attempt_id=attempt_id)
    require_staff(user=user, course=attempt.quiz.session.course)
    return attempt


def attempt_question_get(*, attempt: Attempt, slot: int) -> AttemptQuestion:
    question = attempt.questions.filter(position=slot).first()
    if question is None:
        raise NotFoundError(f"Attempt {attempt.pk} has no question {slot}.")
    return question


def _attempt_questions(attempt: Attempt) -> list[AttemptQuestion]:
    return list(attempt.questions.select_related("version").order_by("position"))


def attempt_ended_by_close(*, attempt: Attempt) -> bool:
    """Whether the attempt's deadline is the student's close date rather than the end of
    their time limit (so a student told why it ended is told the right reason)."""
    settings = access.effective(attempt.quiz, _override(attempt.quiz, attempt.user))
    return attempt.deadline is not None and attempt.deadline == settings.closes_at


def quiz_slot_list(*, quiz: Quiz) -> list[QuizSlot]:
    """The quiz's slots in order, each with `.number`: the question number students see
    (descriptions are not numbered and get None; a random slot never draws one). Results,
    their CSV, statistics and the instructor pages all label questions with it."""
    slots = list(quiz.slots.select_related("question", "category").order_by("position"))
    n = 0
    for slot in slots:
        if slot.question_id and slot.question.qtype == DESCRIPTION:
            slot.number = None
        else:
            n += 1
            slot.number = n
    return slots


def _numbers(questions: list[AttemptQuestion]) -> list[int | None]:
    """Question numbers as shown: descriptions are not numbered."""
    numbers, n = [], 0
    for q in questions:
        if q.version.content["type"] == DESCRIPTION:
            numbers.append(None)
        else:
            n += 1
            numbers.append(n)
    return numbers


def _attempt_header(attempt: Attempt, now: datetime) -> dict[str, Any]:
    seconds_left = None
    if attempt.state == Attempt.State.IN_PROGRESS and attempt.deadline is not None:
        # Rounded up: the countdown reaches 0 at (not up to a second before) the deadline, so
        # the submit it sends finds the attempt over and says why it ended.
        seconds_left = max(0, math.ceil((attempt.deadline - now).total_seconds()))
    # Over for the student from the deadline itself, although the attempt stays open for the
    # network grace (QUIZ_NETWORK_GRACE_S) so that saves already in flight still land.
    time_up = (
        attempt.state == Attempt.State.IN_PROGRESS
        and attempt.deadline is not None
        and now > attempt.deadline
    )
    return {
        "id": attempt.pk,
        "quiz_id": attempt.quiz_id,
        "number": attempt.number,
        "state": attempt.state,
        "started_at": attempt.started_at,
        "deadline": attempt.deadline,
        "seconds_left": seconds_left,
        "time_up": time_up,
        "submitted_at": attempt.submitted_at,
        "auto_submitted": attempt.auto_submitted,
    }


def attempt_display(*, attempt: Attempt, now: datetime | None = None) -> dict[str, Any]:
    """The attempt as the student answers it: questions in the attempt's order, choices in
    its shuffled order, saved responses, and no answers, weights or feedback. If the quiz's
    "during" review options show something, answered questions carry it."""
    now = _now(now)
    options = normalise_review_options(attempt.quiz.review_options)[DURING]
    questions = _attempt_questions(attempt)
    items = []
    for q, number in zip(questions, _numbers(questions), strict=True):
        content = q.version.content
        if any(options.values()) and not grading.is_blank(content, q.response):
            graded = grading.grade(content, q.response)
            mark = None if graded.fraction is None else round(graded.fraction * q.max_mark, 7)
            items.append(
                presentation.question_for_review(
                    content,
                    q.order,
                    slot=q.position,
                    number=number,
                    max_mark=q.max_mark,
                    response=q.response,
                    mark=mark,
                    state=graded.state,
                    comment="",
                    options=options,
                )
            )
        else:
            items.append(
                presentation.question_for_display(
                    content,
                    q.order,
                    slot=q.position,
                    number=number,
                    max_mark=q.max_mark,
                    response=q.response,
                )
            )
    return {"attempt": _attempt_header(attempt, now), "questions": items}


def review_options_for(*, attempt: Attempt, user, now: datetime | None = None) -> tuple[str, dict]:
    """(window, options) that apply to `user` reviewing `attempt` now. Instructors see
    everything."""
    now = _now(now)
    quiz = attempt.quiz
    if attempt.user_id != getattr(user, "pk", None):
        require_staff(user=user, course=quiz.session.course)
        return "instructor", dict(EVERYTHING)
    settings = access.effective(quiz, _override(quiz, user))
    window = review_window(
        finished=attempt.state == Attempt.State.FINISHED,
        submitted_at=attempt.submitted_at,
        closes_at=settings.closes_at,
        now=now,
    )
    return window, normalise_review_options(quiz.review_options)[window]


def _passed(quiz: Quiz, percentage: float | None) -> bool | None:
    if quiz.pass_percentage is None or percentage is None:
        return None
    return percentage >= quiz.pass_percentage - 1e-9


def attempt_review(*, attempt: Attempt, user, now: datetime | None = None) -> dict[str, Any]:
    """A submitted attempt for review, with only what the quiz's review options allow in
    the current window (all of it for instructors). Students cannot review an attempt in
    progress."""
    now = _now(now)
    window, options = review_options_for(attempt=attempt, user=user, now=now)
    if attempt.state != Attempt.State.FINISHED and window != "instructor":
        raise ApplicationError(
            "attempt_in_progress", "Submit the attempt to review it.", status_code=409
        )
    questions = _attempt_questions(attempt)
    header = _attempt_header(attempt, now)
    if options["marks"]:
        header.update(
            score=attempt.score,
            max_score=attempt.max_score,
            percentage=attempt.percentage,
            needs_grading=attempt.needs_grading,
            passed=_passed(attempt.quiz, attempt.percentage),
        )
    items = [
        presentation.question_for_review(
            q.version.content,
            q.order,
            slot=q.position,
            number=number,
            max_mark=q.max_mark,
            response=q.response,
            mark=q.mark,
            state=q.state,
            comment=q.comment,
            options=options,
        )
        for q, number in zip(questions, _numbers(questions), strict=True)
    ]
    return {"attempt": header, "window": window, "options": options, "questions": items}


def _marks_visible(attempt: Attempt, quiz: Quiz, closes_at: datetime | None, now) -> bool:
    window = review_window(
        finished=attempt.state == Attempt.State.FINISHED,
        submitted_at=attempt.submitted_at,
        closes_at=closes_at,
        now=now,
    )
    return normalise_review_options(quiz.review_options).get(window, NOTHING)["marks"]


@dataclass(frozen=True)
class QuizHistory:
    quiz: Quiz
    attempts: list[dict[str, Any]]
    grade: float | None  # None when unknown or hidden by the review options
    max_score: float | None
    percentage: float | None
    passed: bool | None


def score_history(*, user, course: Course, now: datetime | None = None) -> list[QuizHistory]:
    """A student's attempts and grades across a course's quizzes, as they may see them:
    scores are left out while the review options hide marks."""
    now = _now(now)
    require_member(user=user, course=course)
    attempts = list(
        Attempt.objects.filter(quiz__session__course=course, user=user, quiz__visible=True)
        .select_related("quiz__session")
        .order_by("quiz__session__number", "quiz_id", "number")
    )
    overrides = {
        o.quiz_id: o for o in QuizOverride.objects.filter(user=user, quiz__session__course=course)
    }
    by_quiz: dict[int, list[Attempt]] = {}
    for attempt in attempts:
        by_quiz.setdefault(attempt.quiz_id, []).append(attempt)
    history = []
    for group in by_quiz.values():
        quiz = group[0].quiz
        closes_at = access.effective(quiz, overrides.get(quiz.pk)).closes_at
        rows, scores, all_visible = [], [], True
        for attempt in group:
            visible = _marks_visible(attempt, quiz, closes_at, now)
            finished = attempt.state == Attempt.State.FINISHED
            if finished:
                scores.append(attempt.score)
                all_visible = all_visible and visible
            rows.append(
                {
                    "id": attempt.pk,
                    "number": attempt.number,
                    "state": attempt.state,
                    "started_at": attempt.started_at,
                    "submitted_at": attempt.submitted_at,
                    "score": attempt.score if visible else None,
                    "max_score": attempt.max_score,
                    "percentage": attempt.percentage if visible else None,
                    "needs_grading": attempt.needs_grading,
                }
            )
        grade = grading.quiz_grade(scores, quiz.grading_method) if all_visible else None
        max_score = max((a.max_score for a in group), default=None)
        percentage = 100 * grade / max_score if grade is not None and max_score else None
        history.append(
            QuizHistory(
                quiz=quiz,
                attempts=rows,
                grade=grade,
                max_score=max_score,
                percentage=percentage,
                passed=_passed(quiz, percentage),
            )
        )
    return history


# --- Instructors ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResultsTable:
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)


@dataclass(frozen=True)
class _FinishedAttempt:
    """What the results and statistics need of a finished attempt: read as plain values, not
    model instances (building 300 Attempts and 6,000 AttemptQuestions was most of a
    300-student results page)."""

    pk: int
    user_id: int
    number: int
    score: float | None
    max_score: float
    needs_grading: bool


def _finished_attempts(quiz: Quiz, scope: StudentScope, order: tuple[str, ...]):
    rows = scope.filter(Attempt.objects.filter(quiz=quiz, state=Attempt.State.FINISHED))
    return [
        _FinishedAttempt(*values)
        for values in rows.order_by(*order).values_list(
            "pk", "user_id", "number", "score", "max_score", "needs_grading"
        )
    ]


def _question_marks(
    quiz: Quiz, scope: StudentScope
) -> dict[int, list[tuple[int, float | None, str]]]:
    """attempt id -> [(slot position, mark, state)] of the questions of every finished
    attempt in the scope: one query, whatever the class size (and even when no attempt
    counts yet)."""
    rows = scope.filter(
        AttemptQuestion.objects.filter(attempt__quiz=quiz, attempt__state=Attempt.State.FINISHED),
        "attempt__user",
    ).order_by()
    marks: dict[int, list[tuple[int, float | None, str]]] = {}
    for attempt_id, slot, mark, state in rows.values_list(
        "attempt_id", "slot_position", "mark", "state"
    ):
        marks.setdefault(attempt_id, []).append((slot, mark, state))
    return marks


def _counting_attempt(finished: list, method: str):
    """The attempt whose marks make the grade (None for "average")."""
    if not finished or method == Quiz.GradingMethod.AVERAGE:
        return None
    if method == Quiz.GradingMethod.FIRST:
        return finished[0]
    if method == Quiz.GradingMethod.LAST:
        return finished[-1]
    graded = [a for a in finished if a.score is not None]
    return max(graded, key=lambda a: (a.score, -a.number)) if graded else None


def quiz_results(*, quiz: Quiz, scope: StudentScope | None = None) -> ResultsTable:
    """One row per current student of the course, or of the scope's section (CSV-ready):
    attempts, grade by the quiz's grading method, percentage, pass, and per-slot marks of
    the attempt that counts. Unenrolled students' attempts are kept but not listed."""
    # Descriptions carry no marks and no number: no column either.
    slots = [
        (s.position, s.number, s.mark) for s in quiz_slot_list(quiz=quiz) if s.number is not None
    ]
    columns = [
        "username",
        "last_name",
        "first_name",
        "email",
        "attempts",
        "grade",
        "max_grade",
        "percentage",
        "passed",
        "needs_grading",
        *[f"Q{number} /{mark:g}" for _, number, mark in slots],
    ]
    scope = scope or everyone(course=quiz.session.course)
    students = course_students(course=quiz.session.course, section=scope.section).values_list(
        "pk", "username", "last_name", "first_name", "email"
    )
    attempts: dict[int, list[_FinishedAttempt]] = {}
    for attempt in _finished_attempts(quiz, scope, ("number",)):
        attempts.setdefault(attempt.user_id, []).append(attempt)
    max_grade = max((a.max_score for group in attempts.values() for a in group), default=None)
    if max_grade is None:
        max_grade = sum(mark for _, _, mark in slots)
    method = quiz.grading_method
    counting = {user_id: _counting_attempt(group, method) for user_id, group in attempts.items()}
    marks_of = _question_marks(quiz, scope)
    positions = [position for position, _, _ in slots]
    rounded_max = _round(max_grade)
    rows = []
    for pk, username, last_name, first_name, email in students:
        finished = attempts.get(pk, [])
        grade = grading.quiz_grade([a.score for a in finished], method)
        percentage = 100 * grade / max_grade if grade is not None and max_grade else None
        chosen = counting.get(pk)
        marks = {}
        if chosen is not None:
            marks = {slot: mark for slot, mark, _state in marks_of.get(chosen.pk, ())}
        rows.append(
            [
                username,
                last_name,
                first_name,
                email,
                len(finished),
                _round(grade),
                rounded_max,
                grading.round_percentage(percentage),
                _passed(quiz, percentage),
                any(a.needs_grading for a in finished),
                *[_round(marks.get(position)) for position in positions],
            ]
        )
    return ResultsTable(columns=columns, rows=rows)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def essay_marking_queue(
    *, course: Course, quiz: Quiz | None = None, scope: StudentScope | None = None
) -> QuerySet[AttemptQuestion]:
    """Essays in submitted attempts still waiting for a mark, oldest submission first: of
    current students (of the scope's section), not of unenrolled ones."""
    queue = (scope or everyone(course=course)).filter(
        AttemptQuestion.objects.all(), "attempt__user"
    )
    queue = queue.filter(
        attempt__quiz__session__course=course,
        attempt__state=Attempt.State.FINISHED,
        state=AttemptQuestion.State.NEEDS_GRADING,
        question__qtype=ESSAY,
    )
    if quiz is not None:
        queue = queue.filter(attempt__quiz=quiz)
    return queue.select_related("attempt__user", "attempt__quiz", "version").order_by(
        "attempt__submitted_at", "attempt_id", "position"
    )


STATISTICS_ATTEMPTS = ("first", "last", "highest", "all")


@dataclass(frozen=True)
class QuizStatisticsReport:
    quiz: statistics.QuizStatistics
    questions: list[statistics.QuestionStatistics]
    names: dict[int, str]  # slot -> question name (or "Random from <category>")
    attempts: str
    numbers: dict[int, int | None] = field(default_factory=dict)  # slot -> number as shown


def quiz_statistics(
    *, quiz: Quiz, attempts: str = "first", scope: StudentScope | None = None
) -> QuizStatisticsReport:
    """Moodle's quiz and question statistics (see quizzes.statistics) over each student's
    first attempt by default, or their last, highest, or all graded attempts. Unlike Moodle,
    unenrolled students' attempts are left out (as from the results and their CSV), so the
    statistics describe the class as it is; with a section, only its students' attempts."""
    if attempts not in STATISTICS_ATTEMPTS:
        raise ApplicationError(
            "invalid", f"Use attempts={', '.join(STATISTICS_ATTEMPTS)}, not {attempts!r}."
        )
    scope = scope or everyone(course=quiz.session.course)
    finished = _finished_attempts(quiz, scope, ("user_id", "number"))
    chosen = _statistics_attempts(finished, attempts)
    marks_of = _question_marks(quiz, scope)
    slots = quiz_slot_list(quiz=quiz)
    names = {
        s.position: s.question.name if s.question_id else f"Random from {s.category.path}"
        for s in slots
    }
    graded_slots = sorted(
        {
            slot
            for a in chosen
            for slot, _mark, state in marks_of.get(a.pk, ())
            if state != AttemptQuestion.State.INFO
        }
    )
    max_marks = {s.position: s.mark for s in slots}
    matrix = []
    for attempt in chosen:
        marks = {slot: mark or 0.0 for slot, mark, _state in marks_of.get(attempt.pk, ())}
        matrix.append([marks.get(slot, 0.0) for slot in graded_slots])
    quiz_stats, question_stats = statistics.compute(
        matrix, [max_marks.get(slot, 0.0) for slot in graded_slots], graded_slots
    )
    return QuizStatisticsReport(
        quiz=quiz_stats,
        questions=question_stats,
        names=names,
        attempts=attempts,
        numbers={s.position: s.number for s in slots},
    )


def _statistics_attempts(finished: list[_FinishedAttempt], which: str) -> list[_FinishedAttempt]:
    graded = [a for a in finished if a.score is not None]
    if which == "all":
        return graded
    per_user: dict[int, list[_FinishedAttempt]] = {}
    for attempt in finished:
        per_user.setdefault(attempt.user_id, []).append(attempt)
    chosen = []
    for group in per_user.values():
        if which == "first":
            pick = group[0]
        elif which == "last":
            pick = group[-1]
        else:
            scored = [a for a in group if a.score is not None]
            pick = max(scored, key=lambda a: (a.score, -a.number)) if scored else None
        if pick is not None and pick.score is not None:
            chosen.append(pick)
    return chosen


def regrade_record_list(*, question: Question) -> QuerySet[RegradeRecord]:
    return RegradeRecord.objects.filter(attempt_question__question=question).select_related(
        "attempt_question__attempt__user", "old_version", "new_version", "regraded_by"
    )


# --- Question bank ----------------------------------------------------------------------------


def question_get(*, user, question_id: int) -> Question:
    """A bank question of one of the user's courses (NotFoundError otherwise)."""
    question = Question.objects.select_related("course").filter(pk=question_id).first()
    if question is None:
        raise NotFoundError(f"No question {question_id}.")
    try:
        require_member(user=user, course=question.course)
    except NotFoundError:
        raise NotFoundError(f"No question {question_id}.") from None
    return question


def question_category_list(*, course: Course) -> QuerySet[QuestionCategory]:
    """The bank's categories in path order (so a tree reads top-down), with question counts."""
    return (
        QuestionCategory.objects.filter(course=course)
        .annotate(question_count=Count("questions"))
        .order_by("path")
    )


def question_list(
    *,
    course: Course,
    category: QuestionCategory | None = None,
    include_subcategories: bool = True,
    qtype: str | None = None,
) -> QuerySet[Question]:
    questions = Question.objects.filter(course=course)
    if category is not None:
        in_category = Q(category=category)
        if include_subcategories:
            in_category |= Q(category__path__startswith=category.path + "/")
        questions = questions.filter(in_category)
    if qtype:
        questions = questions.filter(qtype=qtype)
    return questions.select_related("category", "current_version").prefetch_related("objectives")


def question_bank_export(*, course: Course, category: QuestionCategory | None = None) -> str:
    """The bank (or one category and its subcategories) as GIFT, current versions."""
    questions = question_list(course=course, category=category).order_by("category__path", "pk")
    return export_gift(
        (q.current_version.content, q.category.path)
        for q in questions
        if q.current_version is not None
    )


# --- Quiz settings and overrides (instructors' pages) -----------------------------------------


def quiz_override_list(*, quiz: Quiz) -> QuerySet[QuizOverride]:
    """The quiz's per-student overrides, by student name."""
    return (
        QuizOverride.objects.filter(quiz=quiz)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__username")
    )


@dataclass(frozen=True)
class OverrideRow:
    """One student of the course on a quiz's overrides page: their override (if any), the
    settings that apply to them and how many attempts they have started."""

    student: Any
    override: QuizOverride | None
    settings: access.Effective
    attempts_used: int


def quiz_override_rows(*, quiz: Quiz) -> list[OverrideRow]:
    """Every student of the quiz's course (by name), whether or not they have an override."""
    students = course_students(course=quiz.session.course)
    overrides = {o.user_id: o for o in QuizOverride.objects.filter(quiz=quiz)}
    used = dict(
        Attempt.objects.filter(quiz=quiz)
        .values("user_id")
        .annotate(n=Count("pk"))
        .values_list("user_id", "n")
    )
    return [
        OverrideRow(
            student=student,
            override=overrides.get(student.pk),
            settings=access.effective(quiz, overrides.get(student.pk)),
            attempts_used=used.get(student.pk, 0),
        )
        for student in students
    ]


@dataclass(frozen=True)
class SettingsImpact:
    """What changing a quiz's settings would do to its attempts."""

    attempts: int  # every attempt at the quiz
    in_progress: int  # attempts still running now
    moved: int  # of those, how many would get another deadline
    cut_off: int  # of those, how many would be out of time at once (and so submitted)


def quiz_settings_impact(
    *, quiz: Quiz, changes: dict[str, Any] | None = None, now: datetime | None = None
) -> SettingsImpact:
    """How `changes` (keys of `services.quiz_update`) would affect attempts in progress:
    their deadlines follow a new time limit or close date (with each student's override)."""
    now = _now(now)
    changed = copy.copy(quiz)
    for key, value in (changes or {}).items():
        setattr(changed, key, value)
    overrides = {o.user_id: o for o in QuizOverride.objects.filter(quiz=quiz)}
    running = Attempt.objects.filter(quiz=quiz, state=Attempt.State.IN_PROGRESS).filter(
        Q(deadline__isnull=True) | Q(deadline__gte=now)
    )
    in_progress = moved = cut_off = 0
    for attempt in running:
        in_progress += 1
        settings = access.effective(changed, overrides.get(attempt.user_id))
        deadline = access.deadline(started_at=attempt.started_at, settings=settings)
        if deadline != attempt.deadline:
            moved += 1
            if deadline is not None and deadline < now:
                cut_off += 1
    return SettingsImpact(
        attempts=Attempt.objects.filter(quiz=quiz).count(),
        in_progress=in_progress,
        moved=moved,
        cut_off=cut_off,
    )
