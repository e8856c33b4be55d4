"""Mastery writes: gather each student's evidence on the course's learning objectives, store
it with the mastery the course's method makes of it, and tag labs and homework tasks.

Evidence (every item a fraction in 0..1, oldest first):
- a finished quiz attempt, per objective: the marks on the attempt's questions tagged with it
  over their maximum (questions not marked yet, e.g. an essay, are left out);
- a lab tagged with it: the gradebook's lab score (the chosen submission's primary metric
  mapped between the lab item's floor and target) over its points, provisional before the
  lab closes;
- a homework task tagged with it: 1 once ticked.

Stored, never computed per view: grade events (gradebook.receivers) refresh the students they
name; a view recomputes the course once when the mastery settings changed, a tag changed or a
tagged lab closed since the last time (`mastery_ensure_fresh`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from core.exceptions import ApplicationError, NotFoundError
from courseware.models import Course, HomeworkCompletion, LearningObjective, Session
from courseware.permissions import Actor, require_instructor, require_writable
from courseware.selectors.students import active_student_ids
from gradebook import engine, services, sources
from gradebook.models import (
    GradebookSettings,
    GradeItem,
    ObjectiveEvidence,
    ObjectiveLink,
    ObjectiveMastery,
)
from labs.models import Lab
from quizzes.models import Attempt, AttemptQuestion

Kind = ObjectiveEvidence.Kind
Level = ObjectiveMastery.Level


def settings_key(settings: GradebookSettings) -> str:
    """The mastery settings the stored mastery was computed with."""
    return (
        f"{settings.mastery_method}|{settings.mastery_weight:g}|{settings.mastery_n}|"
        f"{settings.mastery_threshold:g}|{settings.mastery_near_margin:g}"
    )


def mastery_of(scores: list[float], settings: GradebookSettings) -> tuple[float | None, str]:
    """(score, level) of one objective's evidence under the course's settings. Evidence that
    gives no score yet (n times: fewer than n at mastery) is *not yet*, not *no evidence*."""
    score = engine.mastery_score(
        scores,
        method=settings.mastery_method,
        weight=settings.mastery_weight,
        n=settings.mastery_n,
        threshold=settings.mastery_threshold,
    )
    if score is None:
        return None, Level.NOT_YET if scores else Level.NO_EVIDENCE
    level = engine.mastery_level(
        score, threshold=settings.mastery_threshold, near_margin=settings.mastery_near_margin
    )
    return score, level


@dataclass(frozen=True)
class Evidence:
    objective_id: int
    student_id: int
    kind: str
    source_id: int
    label: str
    score: float
    observed_at: datetime
    quiz_id: int | None = None
    provisional: bool = False


def _quiz_evidence(objective_ids: list[int], students: list[int]) -> list[Evidence]:
    totals: dict[tuple[int, int], list] = {}
    rows = AttemptQuestion.objects.filter(
        attempt__state=Attempt.State.FINISHED,
        attempt__user_id__in=students,
        question__objectives__in=objective_ids,
        mark__isnull=False,
        max_mark__gt=0,
    ).values_list(
        "question__objectives",
        "attempt_id",
        "attempt__quiz_id",
        "attempt__quiz__title",
        "attempt__number",
        "attempt__user_id",
        "attempt__submitted_at",
        "mark",
        "max_mark",
    )
    for objective_id, attempt_id, quiz_id, title, number, user_id, at, mark, max_mark in rows:
        key = (objective_id, attempt_id)
        if key not in totals:
            totals[key] = [quiz_id, f"{title}, attempt {number}", user_id, at, 0.0, 0.0]
        totals[key][4] += mark
        totals[key][5] += max_mark
    return [
        Evidence(
            objective_id=objective_id,
            student_id=user_id,
            kind=Kind.QUIZ,
            source_id=attempt_id,
            label=label[:255],
            score=min(1.0, max(0.0, round(marks / possible, 6))),
            observed_at=at,
            quiz_id=quiz_id,
        )
        for (objective_id, attempt_id), (quiz_id, label, user_id, at, marks, possible) in (
            totals.items()
        )
    ]


def _lab_evidence(
    course: Course, links: list[ObjectiveLink], students: list[int], settings, now: datetime
) -> list[Evidence]:
    by_lab: dict[int, list[int]] = defaultdict(list)
    for link in links:
        if link.lab_id is not None:
            by_lab[link.lab_id].append(link.objective_id)
    if not by_lab:
        return []
    items = list(
        GradeItem.objects.filter(course=course, kind=GradeItem.Kind.LAB, source_id__in=by_lab)
    )
    results = sources.lab_results(
        items=items,
        student_ids=students,
        choice=settings.lab_choice,
        now=now,
        lab_points=engine.lab_points,
    )
    by_item = {item.pk: item for item in items}
    found = []
    for (item_id, user_id), result in results.items():
        item = by_item[item_id]
        if result.score is None or not item.points_possible:
            continue
        fraction = min(1.0, max(0.0, round(result.score / item.points_possible, 6)))
        found += [
            Evidence(
                objective_id=objective_id,
                student_id=user_id,
                kind=Kind.LAB,
                source_id=item.source_id,
                label=item.title[:255],
                score=fraction,
                observed_at=result.submitted_at or now,
                provisional=result.provisional,
            )
            for objective_id in by_lab[item.source_id]
        ]
    return found


def _homework_evidence(links: list[ObjectiveLink], students: list[int]) -> list[Evidence]:
    by_task: dict[int, list[int]] = defaultdict(list)
    for link in links:
        if link.homework_task_id is not None:
            by_task[link.homework_task_id].append(link.objective_id)
    if not by_task:
        return []
    ticks = HomeworkCompletion.objects.filter(
        task_id__in=by_task, student_id__in=students
    ).select_related("task__session")
    return [
        Evidence(
            objective_id=objective_id,
            student_id=tick.student_id,
            kind=Kind.HOMEWORK,
            source_id=tick.task_id,
            label=f"S{tick.task.session.number} homework {tick.task.position}",
            score=1.0,
            observed_at=tick.created_at,
        )
        for tick in ticks
        for objective_id in by_task[tick.task_id]
    ]


def _students(course: Course, user_ids: Iterable[int] | None) -> list[int]:
    members = active_student_ids(course=course)
    if user_ids is not None:
        members = members.filter(user_id__in=list(user_ids))
    return list(members.values_list("user_id", flat=True))


@transaction.atomic
def mastery_refresh(
    *, course: Course, user_ids: Iterable[int] | None, now: datetime | None = None
) -> int:
    """Gather these students' evidence (None: every current student) from the sources and
    store it with their mastery of every objective; a constant number of queries whatever
    the class size. Unenrolled students keep what was stored (hidden from every list).
    Returns how many students were refreshed."""
    now = now or timezone.now()
    settings = services.gradebook_settings_get(course=course)
    if user_ids is None:
        settings.mastery_computed_at, settings.mastery_key = now, settings_key(settings)
        settings.save(update_fields=["mastery_computed_at", "mastery_key", "updated_at"])
    students = _students(course, user_ids)
    if not students:
        return 0
    objective_ids = list(
        LearningObjective.objects.filter(session__course=course).values_list("pk", flat=True)
    )
    links = list(ObjectiveLink.objects.filter(objective_id__in=objective_ids))
    found = [
        *_quiz_evidence(objective_ids, students),
        *_lab_evidence(course, links, students, settings, now),
        *_homework_evidence(links, students),
    ]
    ObjectiveEvidence.objects.filter(
        objective_id__in=objective_ids, student_id__in=students
    ).delete()
    ObjectiveEvidence.objects.bulk_create(
        [
            ObjectiveEvidence(
                objective_id=e.objective_id,
                student_id=e.student_id,
                kind=e.kind,
                source_id=e.source_id,
                quiz_id=e.quiz_id,
                label=e.label,
                score=e.score,
                provisional=e.provisional,
                observed_at=e.observed_at,
            )
            for e in found
        ],
        batch_size=2000,
    )
    ObjectiveMastery.objects.filter(
        objective_id__in=objective_ids, student_id__in=students
    ).delete()
    ObjectiveMastery.objects.bulk_create(_mastery_rows(found, settings, now), batch_size=2000)
    return len(students)


def _mastery_rows(found: list[Evidence], settings, now: datetime) -> list[ObjectiveMastery]:
    grouped: dict[tuple[int, int], list[Evidence]] = defaultdict(list)
    for e in found:
        grouped[(e.objective_id, e.student_id)].append(e)
    rows = []
    for (objective_id, student_id), evidence in grouped.items():
        evidence.sort(key=lambda e: (e.observed_at, e.kind, e.source_id))
        score, level = mastery_of([e.score for e in evidence], settings)
        rows.append(
            ObjectiveMastery(
                objective_id=objective_id,
                student_id=student_id,
                score=score,
                level=level,
                evidence_count=len(evidence),
                computed_at=now,
            )
        )
    return rows


def mastery_mark_stale(*, course_id: int) -> None:
    """Something every student's evidence depends on changed (a question's tags, a lab's
    mapping): the next mastery view recomputes the course once."""
    GradebookSettings.objects.filter(course_id=course_id).update(mastery_computed_at=None)


def mastery_ensure_fresh(
    *, course: Course, now: datetime | None = None, pending_for: list[int] | None = None
) -> GradebookSettings:
    """Before a page reads the stored mastery: the gradebook is fresh (items synced, which
    the lab evidence reads), and the course's mastery is recomputed once if it never was,
    the settings changed, it was marked stale or a tagged lab closed since (its evidence
    moves from the public to the private part)."""
    now = now or timezone.now()
    settings = services.gradebook_ensure_fresh(course=course, now=now, pending_for=pending_for)
    computed = settings.mastery_computed_at
    stale = (
        computed is None
        or settings.mastery_key != settings_key(settings)
        or Lab.objects.filter(
            session__course=course,
            objective_links__isnull=False,
            closes_at__gt=computed,
            closes_at__lte=now,
        ).exists()
    )
    if stale:
        mastery_refresh(course=course, user_ids=None, now=now)
        settings.refresh_from_db()
    return settings


def mastery_refresh_if_started(*, course: Course, user_ids: Iterable[int] | None) -> None:
    """The grade events' hook: a course whose mastery nobody has viewed yet is skipped (its
    first view computes everyone)."""
    if GradebookSettings.objects.filter(course=course, mastery_computed_at__isnull=False).exists():
        mastery_refresh(course=course, user_ids=user_ids)


# --- tagging labs and homework -----------------------------------------------------------------


@transaction.atomic
def session_objective_links_set(
    *,
    actor: Actor,
    session: Session,
    labs: dict[int, set[int]],
    tasks: dict[int, set[int]],
) -> int:
    """Set which of the session's objectives each of its labs and homework tasks is tagged
    with (`{lab id: {objective id, ...}}`, the same for tasks; a lab or task left out keeps
    its tags). Every student's mastery follows. Returns how many links the session has."""
    course = session.course
    require_instructor(user=actor, course=course)
    require_writable(actor=actor, course=course)
    objectives = set(session.objectives.values_list("pk", flat=True))
    lab_ids = set(Lab.objects.filter(session=session).values_list("pk", flat=True))
    task_ids = set(session.homework.values_list("pk", flat=True))
    for wanted, known, what in ((labs, lab_ids, "lab"), (tasks, task_ids, "homework task")):
        unknown = set(wanted) - known
        if unknown:
            raise NotFoundError(f"No {what} {min(unknown)} in session {session.number}.")
        for chosen in wanted.values():
            if set(chosen) - objectives:
                raise ApplicationError(
                    "unknown_objective",
                    f"Tag with session {session.number}'s own objectives; reload the page "
                    "if they were just re-imported.",
                )
    for field, wanted in (("lab_id", labs), ("homework_task_id", tasks)):
        for source_id, chosen in wanted.items():
            current = ObjectiveLink.objects.filter(**{field: source_id})
            current.exclude(objective_id__in=chosen).delete()
            have = set(current.values_list("objective_id", flat=True))
            for objective_id in sorted(set(chosen) - have):
                link = ObjectiveLink(objective_id=objective_id, **{field: source_id})
                link.full_clean()
                link.save()
    mastery_refresh(course=course, user_ids=None)
    return ObjectiveLink.objects.filter(objective__session=session).count()
