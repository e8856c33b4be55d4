"""What quizzes, labs and homework say about a student's result on a gradebook item.

Each reader takes the course's synced items of one kind and a set of students and returns
`{(item_id, student_id): SourceResult}` in a constant number of queries, whatever the class
size. The gradebook stores these in its cells (gradebook.services).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from courseware.models import HomeworkCompletion, HomeworkTask
from labs.models import Lab, LabExtension, Submission
from labs.rules import LabPhase, lab_phase
from quizzes.grading import quiz_grade
from quizzes.models import Attempt, Quiz, QuizOverride

Key = tuple[int, int]  # (item id, student id)


@dataclass(frozen=True)
class SourceResult:
    score: float | None
    submitted_at: datetime | None = None
    due_at: datetime | None = None  # a per-student extension
    provisional: bool = False


def _counting_submitted_at(attempts: list[Attempt], method: str) -> datetime | None:
    """When the attempt whose score counts was submitted (lateness is judged on it)."""
    if method == Quiz.GradingMethod.FIRST:
        return attempts[0].submitted_at
    if method == Quiz.GradingMethod.HIGHEST:
        scored = [a for a in attempts if a.score is not None]
        if scored:
            return max(scored, key=lambda a: a.score).submitted_at
    return attempts[-1].submitted_at


def quiz_results(*, items: list, student_ids: Iterable[int]) -> dict[Key, SourceResult]:
    """The quiz's own grading method (highest, average, first, last) over finished attempts,
    scaled to the item's points; a quiz override's close date is the student's due date."""
    by_quiz = {item.source_id: item for item in items}
    if not by_quiz:
        return {}
    students = list(student_ids)
    quizzes = {q.pk: q for q in Quiz.objects.filter(pk__in=by_quiz)}
    attempts: dict[Key, list[Attempt]] = defaultdict(list)
    for attempt in Attempt.objects.filter(
        quiz_id__in=by_quiz, user_id__in=students, state=Attempt.State.FINISHED
    ).order_by("number"):
        attempts[(attempt.quiz_id, attempt.user_id)].append(attempt)
    extensions = {
        (o.quiz_id, o.user_id): o.closes_at
        for o in QuizOverride.objects.filter(
            quiz_id__in=by_quiz, user_id__in=students, closes_at__isnull=False
        )
    }
    results = {}
    for (quiz_id, user_id), group in attempts.items():
        quiz, item = quizzes[quiz_id], by_quiz[quiz_id]
        grade = quiz_grade([a.score for a in group], quiz.grading_method)
        max_score = max(a.max_score for a in group)
        score = None
        if grade is not None and max_score:
            score = round(grade / max_score * item.points_possible, 7)
        results[(item.pk, user_id)] = SourceResult(
            score=score,
            submitted_at=_counting_submitted_at(group, quiz.grading_method),
            due_at=extensions.get((quiz_id, user_id)),
        )
    for (quiz_id, user_id), closes_at in extensions.items():
        results.setdefault((by_quiz[quiz_id].pk, user_id), SourceResult(None, due_at=closes_at))
    return results


def _metric(metrics, name: str) -> float | None:
    value = metrics.get(name) if isinstance(metrics, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def lab_results(
    *, items: list, student_ids: Iterable[int], choice: str, now: datetime, lab_points
) -> dict[Key, SourceResult]:
    """The primary metric of the chosen scored submission (best or last): on the private part
    once the lab has closed for everyone (its latest deadline extension ended too), else on
    the public part and provisional (students never see a private score early). A student's
    extension is their due date. `lab_points` maps the metric to points (the engine's)."""
    by_lab = {item.source_id: item for item in items}
    if not by_lab:
        return {}
    students = list(student_ids)
    labs = {lab.pk: lab for lab in Lab.objects.filter(pk__in=by_lab)}
    extensions: dict[Key, datetime] = {}
    last_extension: dict[int, datetime] = {}
    for e in LabExtension.objects.filter(lab_id__in=by_lab):
        last_extension[e.lab_id] = max(e.closes_at, last_extension.get(e.lab_id, e.closes_at))
        extensions[(e.lab_id, e.student_id)] = e.closes_at
    closed = {
        pk: lab_phase(lab, now, extended_until=last_extension.get(pk)) == LabPhase.CLOSED
        for pk, lab in labs.items()
    }
    chosen: dict[Key, tuple[Submission, float]] = {}
    for s in Submission.objects.filter(
        lab_id__in=by_lab,
        student_id__in=students,
        status=Submission.Status.SCORED,
        is_reference=False,
    ).order_by("created_at", "pk"):
        lab = labs[s.lab_id]
        part = s.metrics_private if closed[s.lab_id] else s.metrics_public
        metric = _metric(part, lab.primary_metric)
        if metric is None:
            continue
        key = (s.lab_id, s.student_id)
        if choice == "last" or key not in chosen or metric > chosen[key][1]:
            chosen[key] = (s, metric)
    results = {}
    for (lab_id, user_id), (submission, metric) in chosen.items():
        item = by_lab[lab_id]
        points = lab_points(
            metric=metric,
            floor=item.lab_floor,
            target=item.lab_target,
            points_possible=item.points_possible,
        )
        results[(item.pk, user_id)] = SourceResult(
            score=None if points is None else round(points, 7),
            submitted_at=submission.created_at,
            due_at=extensions.get((lab_id, user_id)),
            provisional=not closed[lab_id],
        )
    wanted = set(students)
    for (lab_id, user_id), closes_at in extensions.items():
        if user_id in wanted:
            results.setdefault((by_lab[lab_id].pk, user_id), SourceResult(None, due_at=closes_at))
    return results


def homework_results(
    *, task_items: list, session_items: list, student_ids: Iterable[int]
) -> dict[Key, SourceResult]:
    """Per task: a ticked task earns full marks. Per session: one point per ticked task
    (scaled to the item's points). Nothing ticked: no score (missing once due)."""
    task_by_id = {item.source_id: item for item in task_items}
    session_by_id = {item.source_id: item for item in session_items}
    if not task_by_id and not session_by_id:
        return {}
    tasks = HomeworkTask.objects.filter(pk__in=task_by_id) | HomeworkTask.objects.filter(
        session_id__in=session_by_id
    )
    task_session = dict(tasks.values_list("pk", "session_id"))
    per_session_count: dict[int, int] = defaultdict(int)
    for session_id in task_session.values():
        per_session_count[session_id] += 1
    done: dict[Key, list[datetime]] = defaultdict(list)
    results = {}
    for c in HomeworkCompletion.objects.filter(
        task_id__in=list(task_session), student_id__in=list(student_ids)
    ):
        if c.task_id in task_by_id:
            item = task_by_id[c.task_id]
            results[(item.pk, c.student_id)] = SourceResult(
                score=item.points_possible, submitted_at=c.created_at
            )
        session_id = task_session[c.task_id]
        if session_id in session_by_id:
            done[(session_by_id[session_id].pk, c.student_id)].append(c.created_at)
    session_items_by_pk = {item.pk: item for item in session_items}
    for (item_id, user_id), times in done.items():
        item = session_items_by_pk[item_id]
        total = per_session_count[item.source_id]
        results[(item_id, user_id)] = SourceResult(
            score=round(len(times) / total * item.points_possible, 7),
            submitted_at=max(times),
        )
    return results
