"""Quiz writes: question bank, quizzes, attempts, essay marking, regrading.

Every function that takes `now` uses it instead of the clock, so tests (and a replayed
request) can fix the time; the default is `timezone.now()`.
"""

from __future__ import annotations

import random
import re
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.events import grade_source_changed_on_commit
from core.exceptions import ApplicationError, NotFoundError
from courseware.models import Course, LearningObjective, Membership, Session
from courseware.permissions import (
    Actor,
    require_instructor,
    require_staff,
    require_student,
    require_writable,
)
from quizzes import access, errors, grading, presentation
from quizzes.content import (
    DESCRIPTION,
    ESSAY,
    QUESTION_TYPES,
    ContentError,
    compatible_for_regrade,
    validate_content,
)
from quizzes.models import (
    Attempt,
    AttemptQuestion,
    Question,
    QuestionCategory,
    QuestionVersion,
    Quiz,
    QuizOverride,
    QuizSlot,
    RegradeRecord,
)
from quizzes.parsing import ParsedQuestion, Problem, QuestionFileError, parse_questions
from quizzes.review import normalise_review_options

DEFAULT_CATEGORY = "Default"
# A GIFT tag "LO2" links the question to objective 2 of the session it is imported for.
OBJECTIVE_TAG = re.compile(r"^LO(\d+)$", re.IGNORECASE)
_MAX_PATH = 1000


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _clean_save(obj, **kwargs) -> None:
    try:
        obj.full_clean(**kwargs)
    except ValidationError as exc:
        raise ApplicationError("invalid", " ".join(exc.messages)) from exc
    obj.save()


# --- Question bank ---------------------------------------------------------------------------


def category_path_normalise(path: str) -> str:
    parts = [p.strip() for p in (path or "").split("/") if p.strip()]
    if not parts:
        raise ApplicationError("invalid_category", "A category path cannot be empty.")
    normal = "/".join(parts)
    if len(normal) > _MAX_PATH or any(len(p) > 255 for p in parts):
        raise ApplicationError("invalid_category", f"The category path {normal!r} is too long.")
    return normal


@transaction.atomic
def question_category_get_or_create(*, course: Course, path: str) -> QuestionCategory:
    """The category at `path` ("Session 12/Attention"), creating it and its parents."""
    parts = category_path_normalise(path).split("/")
    parent = None
    for depth in range(1, len(parts) + 1):
        current = "/".join(parts[:depth])
        category = QuestionCategory.objects.filter(course=course, path=current).first()
        if category is None:
            category = QuestionCategory(
                course=course, parent=parent, name=parts[depth - 1], path=current
            )
            _clean_save(category, validate_constraints=False)
        parent = category
    return parent


def _validated(content: dict[str, Any]) -> dict[str, Any]:
    try:
        return validate_content(content)
    except ContentError:
        raise
    except (TypeError, KeyError, AttributeError) as exc:
        raise ContentError(f"The question content is malformed ({exc}).") from exc


@transaction.atomic
def question_create(
    *,
    course: Course,
    content: dict[str, Any],
    category: QuestionCategory | None = None,
    objectives: Iterable[LearningObjective] = (),
) -> Question:
    content = _validated(content)
    if category is None:
        category = question_category_get_or_create(course=course, path=DEFAULT_CATEGORY)
    elif category.course_id != course.pk:
        raise errors.category_of_another_course()
    question = Question(
        course=course,
        category=category,
        qtype=content["type"],
        name=content["name"],
        idnumber=content["idnumber"][:100],
    )
    _clean_save(question)
    version = QuestionVersion(question=question, number=1, content=content)
    _clean_save(version, validate_constraints=False)
    question.current_version = version
    question.save(update_fields=["current_version", "updated_at"])
    _objectives_set(question, objectives)
    return question


def _objectives_set(question: Question, objectives: Iterable[LearningObjective]) -> None:
    objectives = list(objectives)
    foreign = [o for o in objectives if o.session.course_id != question.course_id]
    if foreign:
        raise ApplicationError(
            "invalid_objective", "A question can only assess objectives of its own course."
        )
    question.objectives.set(objectives)


@transaction.atomic
def question_update(
    *,
    question: Question,
    content: dict[str, Any],
    objectives: Iterable[LearningObjective] | None = None,
    category: QuestionCategory | None = None,
) -> QuestionVersion:
    """Change a question. If any attempt was given the current version, the change becomes
    a new version (attempts keep the one they saw); otherwise the version is edited."""
    content = _validated(content)
    if content["type"] != question.qtype:
        raise ApplicationError(
            "question_type_change",
            f"This is a {question.qtype} question; create a new question to change its type.",
        )
    question = Question.objects.select_for_update().get(pk=question.pk)
    current = question.current_version
    if current is not None and current.content == content:
        version = current
    elif current is None or current.attempt_questions.exists():
        number = (
            question.versions.order_by("-number").values_list("number", flat=True).first()
        ) or 0
        version = QuestionVersion(question=question, number=number + 1, content=content)
        _clean_save(version, validate_constraints=False)
    else:
        current.content = content
        _clean_save(current, validate_constraints=False)
        version = current
    question.current_version = version
    question.name = content["name"]
    question.idnumber = content["idnumber"][:100]
    if category is not None:
        if category.course_id != question.course_id:
            raise errors.category_of_another_course()
        question.category = category
    _clean_save(question)
    if objectives is not None:
        _objectives_set(question, objectives)
    return version


@dataclass(frozen=True)
class ImportPreview:
    """What importing a file would do: the parsed questions or the problems found."""

    questions: list[ParsedQuestion] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def by_type(self) -> dict[str, int]:
        return _count_types(q.content["type"] for q in self.questions)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "count": len(self.questions),
            "by_type": self.by_type,
            "errors": [{"line": p.line, "message": p.message} for p in self.errors],
            "questions": [
                {"line": q.line, "category": q.category, **q.content} for q in self.questions
            ],
        }


def _count_types(types: Iterable[str]) -> dict[str, int]:
    counts = Counter(types)
    return {t: counts[t] for t in QUESTION_TYPES if counts[t]}


def quiz_import_preview(source: str, format: str = "gift") -> ImportPreview:
    """Parse a question file without touching the database, for an import preview page."""
    try:
        return ImportPreview(questions=parse_questions(source, format))
    except QuestionFileError as exc:
        return ImportPreview(errors=exc.problems)


@dataclass(frozen=True)
class BankImport:
    questions: list[Question]
    created: int
    updated: int
    by_type: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {"imported": len(self.questions), "by_type": self.by_type}


@transaction.atomic
def question_bank_import(
    *,
    actor: Actor,
    course: Course,
    source: str,
    format: str = "gift",
    session: Session | None = None,
    category_path: str | None = None,
) -> BankImport:
    """Import a GIFT or Aiken file into the course's question bank, all or nothing.

    Questions go to their `$CATEGORY:`, else `category_path`, else "Session N" when a session
    is given, else "Default". Tags `LO<n>` link objective n of `session`. A question with an
    `[id:...]` that the course already has updates it (a new version if attempts used it)."""
    require_instructor(user=actor, course=course)
    require_writable(actor=actor, course=course)
    parsed = parse_questions(source, format)
    if session is not None and session.course_id != course.pk:
        raise ApplicationError("invalid_session", "That session belongs to another course.")
    default_path = category_path or (f"Session {session.number}" if session else DEFAULT_CATEGORY)
    objectives = (
        {o.position: o for o in LearningObjective.objects.filter(session=session)}
        if session
        else {}
    )
    existing = {
        q.idnumber: q
        for q in Question.objects.filter(
            course=course,
            idnumber__in=[p.content["idnumber"] for p in parsed if p.content["idnumber"]],
        )
    }
    problems: list[Problem] = []
    plan: list[tuple[ParsedQuestion, list[LearningObjective], Question | None]] = []
    seen_ids: dict[str, int] = {}
    for item in parsed:
        linked = []
        for tag in item.content["tags"]:
            match = OBJECTIVE_TAG.match(tag)
            if match and session is not None:
                objective = objectives.get(int(match.group(1)))
                if objective is None:
                    problems.append(
                        Problem(
                            item.line,
                            f"Tag {tag}: session {session.number} has no objective "
                            f"{match.group(1)} (it has {len(objectives)}).",
                        )
                    )
                else:
                    linked.append(objective)
        idnumber = item.content["idnumber"]
        target = existing.get(idnumber) if idnumber else None
        if idnumber in seen_ids:
            problems.append(
                Problem(
                    item.line,
                    f"[id:{idnumber}] is used again (first on line {seen_ids[idnumber]}).",
                )
            )
        elif idnumber:
            seen_ids[idnumber] = item.line
        if target is not None and target.qtype != item.content["type"]:
            problems.append(
                Problem(
                    item.line,
                    f"[id:{idnumber}] is a {target.qtype} question in the bank, "
                    f"but here a {item.content['type']}.",
                )
            )
        try:
            category_path_normalise(item.category or default_path)
        except ApplicationError as exc:
            problems.append(Problem(item.line, exc.message))
        plan.append((item, linked, target))
    if problems:
        raise QuestionFileError(problems)

    categories: dict[str, QuestionCategory] = {}
    questions = []
    created = updated = 0
    for item, linked, target in plan:
        path = category_path_normalise(item.category or default_path)
        if path not in categories:
            categories[path] = question_category_get_or_create(course=course, path=path)
        if target is None:
            question = question_create(
                course=course, content=item.content, category=categories[path], objectives=linked
            )
            created += 1
        else:
            question_update(
                question=target,
                content=item.content,
                category=categories[path],
                objectives=linked or None,
            )
            question = target
            updated += 1
        questions.append(question)
    return BankImport(
        questions=questions,
        created=created,
        updated=updated,
        by_type=_count_types(q.qtype for q in questions),
    )


# --- Quizzes ----------------------------------------------------------------------------------

_QUIZ_FIELDS = (
    "title",
    "intro",
    "visible",
    "opens_at",
    "closes_at",
    "time_limit",
    "attempts_allowed",
    "grading_method",
    "shuffle_questions",
    "shuffle_answers",
    "pass_percentage",
    "review_options",
)


def _review_options(value: Any) -> dict:
    try:
        return normalise_review_options(value)
    except ValueError as exc:
        raise ApplicationError("invalid_review_options", str(exc)) from exc


@transaction.atomic
def quiz_create(
    *,
    actor: Actor,
    session: Session,
    title: str,
    intro: str = "",
    visible: bool = True,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    time_limit: timedelta | None = None,
    attempts_allowed: int = 0,
    grading_method: str = Quiz.GradingMethod.HIGHEST,
    shuffle_questions: bool = False,
    shuffle_answers: bool = True,
    pass_percentage: float | None = None,
    review_options: dict | None = None,
) -> Quiz:
    require_instructor(user=actor, course=session.course)
    require_writable(actor=actor, course=session.course)
    if time_limit is not None and time_limit <= timedelta(0):
        raise errors.invalid_time_limit()
    quiz = Quiz(
        session=session,
        title=title.strip(),
        intro=intro,
        visible=visible,
        opens_at=opens_at,
        closes_at=closes_at,
        time_limit=time_limit,
        attempts_allowed=attempts_allowed,
        grading_method=grading_method,
        shuffle_questions=shuffle_questions,
        shuffle_answers=shuffle_answers,
        pass_percentage=pass_percentage,
        review_options=_review_options(review_options),
    )
    _clean_save(quiz)
    return quiz


@transaction.atomic
def quiz_update(*, actor: Actor, quiz: Quiz, data: Mapping[str, Any]) -> Quiz:
    """Change quiz settings (keys of `data` among the quiz's settings). Deadlines of
    attempts in progress follow a changed time limit or close date."""
    require_instructor(user=actor, course=quiz.session.course)
    require_writable(actor=actor, course=quiz.session.course)
    unknown = set(data) - set(_QUIZ_FIELDS)
    if unknown:
        raise ApplicationError("invalid", f"Unknown quiz setting {sorted(unknown)[0]!r}.")
    quiz = Quiz.objects.select_for_update().get(pk=quiz.pk)
    for key, value in data.items():
        if key == "review_options":
            value = _review_options(value)
        if key == "time_limit" and value is not None and value <= timedelta(0):
            raise errors.invalid_time_limit()
        setattr(quiz, key, value)
    _clean_save(quiz)
    _deadlines_refresh(quiz=quiz)
    # Dates and the grading method decide every student's quiz grade in the gradebook.
    grade_source_changed_on_commit(
        source="quiz", source_id=quiz.pk, course_id=quiz.session.course_id
    )
    return quiz


def _require_no_attempts(quiz: Quiz) -> None:
    if quiz.attempts.exists():
        raise ApplicationError(
            "quiz_has_attempts",
            "Students have attempted this quiz: its questions can no longer be changed "
            "(edit a question to fix it, then regrade).",
        )


def _next_position(quiz: Quiz) -> int:
    last = quiz.slots.order_by("-position").values_list("position", flat=True).first()
    return (last or 0) + 1


@transaction.atomic
def quiz_question_add(
    *, actor: Actor, quiz: Quiz, question: Question, mark: float | None = None
) -> QuizSlot:
    quiz = Quiz.objects.select_for_update().select_related("session__course").get(pk=quiz.pk)
    require_instructor(user=actor, course=quiz.session.course)
    require_writable(actor=actor, course=quiz.session.course)
    _require_no_attempts(quiz)
    if question.course_id != quiz.session.course_id:
        raise ApplicationError("invalid_question", "That question belongs to another course.")
    if mark is None:
        mark = question.current_version.content["default_mark"]
    if question.qtype == DESCRIPTION:
        mark = 0.0
    slot = QuizSlot(quiz=quiz, position=_next_position(quiz), question=question, mark=mark)
    _clean_save(slot)
    return slot


@transaction.atomic
def quiz_random_questions_add(
    *,
    actor: Actor,
    quiz: Quiz,
    category: QuestionCategory,
    count: int,
    include_subcategories: bool = False,
    mark: float = 1.0,
) -> list[QuizSlot]:
    """Add `count` slots that each draw a different question from `category` when an
    attempt starts."""
    quiz = Quiz.objects.select_for_update().select_related("session__course").get(pk=quiz.pk)
    require_instructor(user=actor, course=quiz.session.course)
    require_writable(actor=actor, course=quiz.session.course)
    _require_no_attempts(quiz)
    if category.course_id != quiz.session.course_id:
        raise errors.category_of_another_course()
    if count < 1:
        raise ApplicationError("invalid", "Add at least one random question.")
    available = _category_questions(category, include_subcategories).exclude(qtype=DESCRIPTION)
    already = quiz.slots.filter(category__isnull=False).count()
    if available.count() < count + already:
        raise ApplicationError(
            "not_enough_questions",
            f"{category.path} has {available.count()} questions; the quiz would draw "
            f"{count + already} at random.",
        )
    start = _next_position(quiz)
    slots = []
    for i in range(count):
        slot = QuizSlot(
            quiz=quiz,
            position=start + i,
            category=category,
            include_subcategories=include_subcategories,
            mark=mark,
        )
        _clean_save(slot)
        slots.append(slot)
    return slots


@transaction.atomic
def quiz_slot_remove(*, actor: Actor, slot: QuizSlot) -> None:
    quiz = Quiz.objects.select_for_update().select_related("session__course").get(pk=slot.quiz_id)
    require_instructor(user=actor, course=quiz.session.course)
    require_writable(actor=actor, course=quiz.session.course)
    _require_no_attempts(quiz)
    slot.delete()
    for position, remaining in enumerate(quiz.slots.order_by("position"), start=1):
        if remaining.position != position:
            remaining.position = position
            remaining.save(update_fields=["position", "updated_at"])


def _category_questions(category: QuestionCategory, include_subcategories: bool):
    questions = Question.objects.filter(course_id=category.course_id, current_version__isnull=False)
    if include_subcategories:
        return questions.filter(
            Q(category=category) | Q(category__path__startswith=category.path + "/")
        )
    return questions.filter(category=category)


@transaction.atomic
def quiz_override_set(
    *,
    actor: Actor,
    quiz: Quiz,
    student,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    extra_time: timedelta | None = None,
    extra_attempts: int = 0,
) -> QuizOverride:
    """Give one student their own dates, extra time or extra attempts (replacing any
    earlier override). An attempt in progress gets the new deadline at once."""
    require_instructor(user=actor, course=quiz.session.course)
    require_writable(actor=actor, course=quiz.session.course)
    require_student(user=student, course=quiz.session.course)
    if extra_time is not None and extra_time < timedelta(0):
        raise ApplicationError("invalid", "Extra time cannot be negative.")
    override = QuizOverride.objects.filter(quiz=quiz, user=student).first() or QuizOverride(
        quiz=quiz, user=student
    )
    override.opens_at, override.closes_at = opens_at, closes_at
    override.extra_time, override.extra_attempts = extra_time, extra_attempts
    settings = access.effective(quiz, override)
    if settings.opens_at and settings.closes_at and settings.closes_at <= settings.opens_at:
        raise ApplicationError("invalid_dates", "The close date must be after the open date.")
    _clean_save(override, validate_constraints=False)
    _deadlines_refresh(quiz=quiz, user=student)
    # The student's due date (and so lateness) in the gradebook moves with the override.
    grade_source_changed_on_commit(source="quiz", source_id=quiz.pk, user_id=student.pk)
    return override


@transaction.atomic
def quiz_override_delete(*, actor: Actor, quiz: Quiz, student) -> bool:
    require_instructor(user=actor, course=quiz.session.course)
    require_writable(actor=actor, course=quiz.session.course)
    deleted, _ = QuizOverride.objects.filter(quiz=quiz, user=student).delete()
    _deadlines_refresh(quiz=quiz, user=student)
    grade_source_changed_on_commit(source="quiz", source_id=quiz.pk, user_id=student.pk)
    return deleted > 0


def _deadlines_refresh(*, quiz: Quiz, user=None) -> None:
    attempts = Attempt.objects.filter(quiz=quiz, state=Attempt.State.IN_PROGRESS)
    if user is not None:
        attempts = attempts.filter(user=user)
    overrides = {o.user_id: o for o in QuizOverride.objects.filter(quiz=quiz)}
    for attempt in attempts.select_for_update():
        settings = access.effective(quiz, overrides.get(attempt.user_id))
        deadline = access.deadline(started_at=attempt.started_at, settings=settings)
        if deadline != attempt.deadline:
            attempt.deadline = deadline
            attempt.save(update_fields=["deadline", "updated_at"])


# --- Attempts ---------------------------------------------------------------------------------


def _network_grace() -> timedelta:
    """How long after a deadline a request the browser sent in time may still arrive
    (QUIZ_NETWORK_GRACE_S): network and queueing delay, not extra time for the student."""
    return timedelta(seconds=django_settings.QUIZ_NETWORK_GRACE_S)


def _time_up(attempt: Attempt, now: datetime) -> bool:
    """The deadline has passed: pages show the attempt as over from here on."""
    return (
        attempt.state == Attempt.State.IN_PROGRESS
        and attempt.deadline is not None
        and now > attempt.deadline
    )


def _overdue(attempt: Attempt, now: datetime) -> bool:
    """The deadline and the network grace have passed: nothing more is accepted."""
    return _time_up(attempt, now) and now > attempt.deadline + _network_grace()


def _finish_if_overdue(locked: Attempt, now: datetime, *, grace: bool = True) -> bool:
    """Submit an attempt whose time is up, as it stands (the caller holds its row lock);
    whether it did. Every path that meets an overdue attempt comes through here. With
    `grace` it waits out the network grace, so a save sent in time still lands."""
    if not (_overdue(locked, now) if grace else _time_up(locked, now)):
        return False
    _attempt_finish(locked, now=now, auto=True)
    return True


def _draw(quiz: Quiz, rng: random.Random) -> list[tuple[QuizSlot, Question]]:
    slots = list(quiz.slots.select_related("question__current_version", "category"))
    used = {slot.question_id for slot in slots if slot.question_id}
    drawn = []
    for slot in slots:
        question = slot.question
        if question is None:
            pool = sorted(
                _category_questions(slot.category, slot.include_subcategories)
                .exclude(qtype=DESCRIPTION)
                .exclude(pk__in=used)
                .select_related("current_version"),
                key=lambda q: q.pk,
            )
            if not pool:
                raise ApplicationError(
                    "not_enough_questions",
                    f"Category {slot.category.path} has run out of questions for slot "
                    f"{slot.position}: ask your instructor.",
                )
            question = rng.choice(pool)
            used.add(question.pk)
        drawn.append((slot, question))
    if quiz.shuffle_questions:
        # Descriptions stay where the author put them (they usually introduce what follows).
        movable = [i for i, (_, q) in enumerate(drawn) if q.qtype != DESCRIPTION]
        shuffled = [drawn[i] for i in movable]
        rng.shuffle(shuffled)
        for i, item in zip(movable, shuffled, strict=True):
            drawn[i] = item
    return drawn


@transaction.atomic
def attempt_start(
    *, actor: Actor, quiz: Quiz, now: datetime | None = None, seed: int | None = None
) -> Attempt:
    """Start an attempt, or return the one in progress (so a double click, or two tabs
    racing, yield one attempt). An overdue attempt in progress is submitted first."""
    now = _now(now)
    course = quiz.session.course
    require_student(user=actor, course=course)
    require_writable(actor=actor, course=course)
    user = actor
    # Serialises starts per student: the second request waits here, then sees the first's
    # attempt. The partial unique constraint on in-progress attempts is the backstop.
    Membership.objects.select_for_update().filter(course=course, user=user).first()
    current = (
        Attempt.objects.select_for_update()
        .filter(quiz=quiz, user=user, state=Attempt.State.IN_PROGRESS)
        .first()
    )
    # No grace here: asking for a new attempt means the student has left the old one.
    if current is not None and not _finish_if_overdue(current, now, grace=False):
        return current
    override = QuizOverride.objects.filter(quiz=quiz, user=user).first()
    settings = access.effective(quiz, override)
    if not quiz.visible:
        raise NotFoundError("No such quiz.")
    state = access.window_state(now=now, settings=settings)
    if state == "upcoming":
        raise ApplicationError(
            "quiz_not_open", f"This quiz opens at {timezone.localtime(settings.opens_at):%c}."
        )
    if state == "closed":
        raise ApplicationError("quiz_closed", "This quiz has closed.")
    used = Attempt.objects.filter(quiz=quiz, user=user).count()
    if settings.attempts_allowed and used >= settings.attempts_allowed:
        raise ApplicationError(
            "no_attempts_left",
            f"You have used all {settings.attempts_allowed} attempts at this quiz.",
        )
    rng = random.Random(seed if seed is not None else secrets.randbits(64))
    drawn = _draw(quiz, rng)
    if not drawn:
        raise ApplicationError("quiz_empty", "This quiz has no questions yet.")
    attempt = Attempt(
        quiz=quiz,
        user=user,
        number=used + 1,
        started_at=now,
        deadline=access.deadline(started_at=now, settings=settings),
        max_score=round(sum(s.mark for s, q in drawn if q.qtype != DESCRIPTION), 7),
    )
    _clean_save(attempt, validate_constraints=False)
    rows = []
    for position, (slot, question) in enumerate(drawn, start=1):
        content = question.current_version.content
        info = question.qtype == DESCRIPTION
        rows.append(
            AttemptQuestion(
                attempt=attempt,
                position=position,
                slot_position=slot.position,
                question=question,
                version=question.current_version,
                max_mark=0.0 if info else slot.mark,
                order=presentation.make_order(content, shuffle=quiz.shuffle_answers, rng=rng),
                state=AttemptQuestion.State.INFO if info else AttemptQuestion.State.PENDING,
            )
        )
    AttemptQuestion.objects.bulk_create(rows)
    return attempt


def _locked_own_attempt(attempt: Attempt, actor: Actor) -> Attempt:
    locked = (
        Attempt.objects.select_for_update()
        .select_related("quiz__session__course")
        .get(pk=attempt.pk)
    )
    if locked.user_id != getattr(actor, "pk", None):
        raise NotFoundError("No such attempt.")
    require_writable(actor=actor, course=locked.quiz.session.course)
    return locked


def _save_response(attempt: Attempt, slot: int, response: Any, now: datetime) -> AttemptQuestion:
    question = attempt.questions.select_related("version").filter(position=slot).first()
    if question is None:
        raise errors.no_question_in_attempt(slot)
    question.response = presentation.response_from_display(
        question.version.content, question.order, response
    )
    question.answered_at = now
    question.save(update_fields=["response", "answered_at", "updated_at"])
    return question


def attempt_answer_save(
    *, actor: Actor, attempt: Attempt, slot: int, response: Any, now: datetime | None = None
) -> AttemptQuestion:
    """Autosave one answer (`response` as the display sends it; None clears it). Within
    QUIZ_NETWORK_GRACE_S after the deadline it is still saved (it was sent in time); later
    the answer is refused and the attempt is submitted."""
    now = _now(now)
    # Not one atomic block: the automatic submission must be committed even though the
    # request then fails with attempt_overdue.
    with transaction.atomic():
        locked = _locked_own_attempt(attempt, actor)
        if locked.state == Attempt.State.FINISHED:
            raise errors.attempt_finished()
        overdue = _finish_if_overdue(locked, now)
        if not overdue:
            saved = _save_response(locked, slot, response, now)
    if overdue:
        raise errors.attempt_overdue()
    return saved


def attempt_submit(
    *,
    actor: Actor,
    attempt: Attempt,
    responses: Mapping[int, Any] | None = None,
    now: datetime | None = None,
) -> Attempt:
    """Submit an attempt, saving `responses` ({slot: response}) first. Submitting again
    returns the finished attempt unchanged. Responses that arrive within the network grace
    after the deadline are saved (the submission then counts as automatic, made at the
    deadline); later ones are refused (attempt_overdue) but the attempt is still submitted
    with what was saved."""
    now = _now(now)
    with transaction.atomic():
        locked = _locked_own_attempt(attempt, actor)
        if locked.state == Attempt.State.FINISHED:
            return locked
        overdue = _finish_if_overdue(locked, now)
        if not overdue:
            for slot, response in (responses or {}).items():
                _save_response(locked, int(slot), response, now)
            _attempt_finish(locked, now=now, auto=_time_up(locked, now))
    if overdue and responses:
        raise errors.attempt_overdue()
    return locked


_FINISH_FIELDS = ("state", "submitted_at", "auto_submitted", "needs_grading", "score")


def attempt_finalize_if_overdue(*, attempt: Attempt, now: datetime | None = None) -> bool:
    """The deadline rule: submit the attempt if its time and the network grace are up (within
    the grace it stays open for saves already in flight). Returns whether this call
    submitted it, so a caller can say "time is up" rather than "already submitted";
    `attempt` is updated in place either way.

    It acts for nobody in particular (the deadline does): whoever may open the attempt,
    which the selector that found it checked, triggers it, like the periodic task."""
    now = _now(now)
    if not _overdue(attempt, now):
        return False
    with transaction.atomic():
        locked = Attempt.objects.select_for_update().select_related("quiz").get(pk=attempt.pk)
        finished = _finish_if_overdue(locked, now)
    for name in _FINISH_FIELDS:
        setattr(attempt, name, getattr(locked, name))
    return finished


def attempts_finalize_overdue(*, now: datetime | None = None, limit: int = 500) -> int:
    """Submit attempts whose time (and network grace) is up (the periodic task). Returns
    how many. An attempt another request holds is skipped: that request finalises it or the
    next run does."""
    now = _now(now)
    ids = list(
        Attempt.objects.filter(state=Attempt.State.IN_PROGRESS, deadline__lt=now - _network_grace())
        .order_by("deadline")
        .values_list("pk", flat=True)[:limit]
    )
    done = 0
    for pk in ids:
        with transaction.atomic():
            attempt = (
                Attempt.objects.select_for_update(skip_locked=True)
                .select_related("quiz")
                .filter(pk=pk)
                .first()
            )
            if attempt is not None and _finish_if_overdue(attempt, now):
                done += 1
    return done


def _grade_question(question: AttemptQuestion) -> None:
    graded = grading.grade(question.version.content, question.response)
    if graded.state == grading.INFO:
        question.state, question.fraction, question.mark = AttemptQuestion.State.INFO, None, None
    elif graded.fraction is None:
        question.state = AttemptQuestion.State.NEEDS_GRADING
        question.fraction = question.mark = None
    else:
        question.state = graded.state
        question.fraction = round(graded.fraction, 7)
        question.mark = round(graded.fraction * question.max_mark, 7)


def _attempt_finish(attempt: Attempt, *, now: datetime, auto: bool) -> None:
    """Grade and close an attempt (the caller holds its row lock)."""
    questions = list(attempt.questions.select_related("version"))
    for question in questions:
        _grade_question(question)
    AttemptQuestion.objects.bulk_update(questions, ["state", "fraction", "mark", "updated_at"])
    attempt.state = Attempt.State.FINISHED
    # A late submission counts as made when time ran out.
    attempt.submitted_at = min(now, attempt.deadline) if attempt.deadline else now
    attempt.auto_submitted = auto
    _attempt_rescore(attempt, questions)


def _attempt_rescore(attempt: Attempt, questions: list[AttemptQuestion] | None = None) -> None:
    if questions is None:
        questions = list(attempt.questions.all())
    attempt.needs_grading = any(q.state == AttemptQuestion.State.NEEDS_GRADING for q in questions)
    total = sum(q.mark or 0 for q in questions)
    attempt.score = None if attempt.needs_grading else round(total, 7)
    attempt.save(
        update_fields=[
            "state",
            "submitted_at",
            "auto_submitted",
            "needs_grading",
            "score",
            "updated_at",
        ]
    )
    # Finished, auto-submitted, essay-marked or regraded: the gradebook recomputes.
    grade_source_changed_on_commit(
        source="quiz", source_id=attempt.quiz_id, user_id=attempt.user_id
    )


@transaction.atomic
def essay_mark(
    *, actor: Actor, attempt_question: AttemptQuestion, mark: float, comment: str = ""
) -> AttemptQuestion:
    """A member of the teaching staff (instructor or teaching assistant) marks an essay (or
    re-marks it); the attempt's score follows."""
    question = (
        AttemptQuestion.objects.select_for_update()
        .select_related("attempt__quiz__session__course", "version")
        .get(pk=attempt_question.pk)
    )
    attempt = question.attempt
    require_staff(user=actor, course=attempt.quiz.session.course)
    require_writable(actor=actor, course=attempt.quiz.session.course)
    if question.version.content["type"] != ESSAY:
        raise ApplicationError("not_an_essay", "Only essay questions are marked by hand.")
    if attempt.state != Attempt.State.FINISHED:
        raise ApplicationError(
            "attempt_in_progress",
            "The student has not submitted this attempt yet.",
            status_code=409,
        )
    if not isinstance(mark, int | float) or isinstance(mark, bool):
        raise ApplicationError("invalid_mark", "The mark must be a number.")
    if not 0 <= mark <= question.max_mark:
        raise ApplicationError(
            "invalid_mark", f"The mark must be between 0 and {question.max_mark:g}."
        )
    attempt = Attempt.objects.select_for_update().get(pk=attempt.pk)
    question.mark = round(float(mark), 7)
    question.fraction = round(mark / question.max_mark, 7) if question.max_mark else 1.0
    question.state = AttemptQuestion.State.MANUALLY_GRADED
    question.comment = comment.strip()
    question.graded_by = actor
    question.graded_at = timezone.now()
    question.save()
    _attempt_rescore(attempt)
    return question


@dataclass(frozen=True)
class RegradeSummary:
    version: QuestionVersion
    records: list[RegradeRecord]
    in_progress_updated: int

    @property
    def changed(self) -> list[RegradeRecord]:
        return [r for r in self.records if r.changed]


@transaction.atomic
def question_regrade(*, actor: Actor, question: Question) -> RegradeSummary:
    """Regrade every attempt at `question` against its current version (after the answer
    key was fixed). Finished attempts get a RegradeRecord with the old and new marks; attempts
    in progress just switch to the fixed version. Essays keep their hand-given marks."""
    require_instructor(user=actor, course=question.course)
    require_writable(actor=actor, course=question.course)
    question = Question.objects.select_related("current_version").get(pk=question.pk)
    target = question.current_version
    attempt_ids = AttemptQuestion.objects.filter(question=question).values_list(
        "attempt_id", flat=True
    )
    attempts = {
        a.pk: a for a in Attempt.objects.select_for_update().filter(pk__in=list(attempt_ids))
    }
    rows = list(
        AttemptQuestion.objects.filter(question=question)
        .select_related("version")
        .order_by("attempt_id", "position")
    )
    for row in rows:
        why = compatible_for_regrade(row.version.content, target.content)
        if why:
            raise ApplicationError(
                "regrade_incompatible",
                f"Cannot regrade: {why} since version {row.version.number}. Make the fix "
                "without changing the answers' number or order.",
            )
    records = []
    in_progress = 0
    for row in rows:
        attempt = attempts[row.attempt_id]
        old_version = row.version
        row.version = target
        if attempt.state == Attempt.State.IN_PROGRESS:
            row.save(update_fields=["version", "updated_at"])
            in_progress += 1
            continue
        old_fraction, old_mark = row.fraction, row.mark
        if row.state != AttemptQuestion.State.MANUALLY_GRADED:
            _grade_question(row)
        row.save()
        record = RegradeRecord(
            attempt_question=row,
            old_version=old_version,
            new_version=target,
            old_fraction=old_fraction,
            new_fraction=row.fraction,
            old_mark=old_mark,
            new_mark=row.mark,
            regraded_by=actor,
        )
        _clean_save(record)
        records.append(record)
    for attempt in attempts.values():
        if attempt.state == Attempt.State.FINISHED:
            _attempt_rescore(attempt)
    return RegradeSummary(version=target, records=records, in_progress_updated=in_progress)
