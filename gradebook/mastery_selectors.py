"""Mastery reads. The staff heatmap reads the stored mastery (a constant number of queries,
whatever the class size); a student's "My objectives" reads their own stored evidence and
keeps only what the sources let them see, so no level reveals a hidden quiz mark."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from core.exceptions import NotFoundError
from courseware.models import Course, HomeworkTask, LearningObjective, Membership, Session
from courseware.permissions import require_instructor, require_student
from courseware.selectors import course_get
from courseware.selectors.students import student_scope
from gradebook import mastery
from gradebook.models import GradebookSettings, ObjectiveEvidence, ObjectiveLink, ObjectiveMastery
from labs.models import Lab
from quizzes.selectors import score_history

LEVEL_LABELS = dict(ObjectiveMastery.Level.choices)


@dataclass(frozen=True)
class ObjectiveRow:
    objective: LearningObjective
    score: float | None
    level: str
    evidence: list[ObjectiveEvidence]

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS[self.level]


@dataclass(frozen=True)
class MyObjectives:
    course: Course
    settings: GradebookSettings
    sessions: list[tuple[Session, list[ObjectiveRow]]]


def _objectives(course: Course) -> list[LearningObjective]:
    return list(
        LearningObjective.objects.filter(session__course=course)
        .select_related("session")
        .order_by("session__number", "position")
    )


def _visible_quiz_ids(user, course: Course, now: datetime) -> set[int]:
    """Quizzes whose marks the student's review options show (a hidden or invisible quiz's
    attempts give no evidence the student can see)."""
    return {
        h.quiz.pk for h in score_history(user=user, course=course, now=now) if h.grade is not None
    }


def my_objectives(*, user, code: str, now: datetime | None = None) -> MyObjectives:
    """The student's objectives by session with the evidence they may see and the level it
    gives under the course's method."""
    now = now or timezone.now()
    course, _role = course_get(user=user, code=code)
    require_student(user=user, course=course)
    settings = mastery.mastery_ensure_fresh(course=course, now=now, pending_for=[user.pk])
    visible = _visible_quiz_ids(user, course, now)
    evidence: dict[int, list[ObjectiveEvidence]] = {}
    for e in ObjectiveEvidence.objects.filter(
        objective__session__course=course, student=user
    ).order_by("observed_at", "kind", "source_id"):
        if e.kind == ObjectiveEvidence.Kind.QUIZ and e.quiz_id not in visible:
            continue
        evidence.setdefault(e.objective_id, []).append(e)
    sessions: list[tuple[Session, list[ObjectiveRow]]] = []
    for objective in _objectives(course):
        shown = evidence.get(objective.pk, [])
        score, level = mastery.mastery_of([e.score for e in shown], settings)
        row = ObjectiveRow(objective=objective, score=score, level=level, evidence=shown)
        if not sessions or sessions[-1][0].pk != objective.session_id:
            sessions.append((objective.session, []))
        sessions[-1][1].append(row)
    return MyObjectives(course=course, settings=settings, sessions=sessions)


@dataclass(frozen=True)
class ObjectiveSummary:
    objective: LearningObjective
    mastered: int
    students: int

    @property
    def percent(self) -> float | None:
        return 100 * self.mastered / self.students if self.students else None


@dataclass(frozen=True)
class HeatmapRow:
    student: Any
    section: str
    cells: list[ObjectiveMastery | None]


@dataclass(frozen=True)
class Heatmap:
    course: Course
    settings: GradebookSettings
    objectives: list[LearningObjective]
    summaries: list[ObjectiveSummary]
    rows: list[HeatmapRow]
    sections: tuple[str, ...]
    section: str
    section_locked: bool


def mastery_heatmap(*, user, code: str, section: str = "", now: datetime | None = None) -> Heatmap:
    """Staff: current students (of one section) by the course's objectives, from the stored
    mastery, with the share of those students who mastered each objective."""
    course, _role = course_get(user=user, code=code)
    scope = student_scope(user=user, course=course, section=section)
    settings = mastery.mastery_ensure_fresh(course=course, now=now)
    members = list(
        scope.filter(
            Membership.objects.filter(
                course=course, role=Membership.Role.STUDENT, is_active=True
            ).select_related("user")
        ).order_by("user__last_name", "user__first_name", "user__username")
    )
    ids = [m.user_id for m in members]
    objectives = _objectives(course)
    stored = {
        (m.objective_id, m.student_id): m
        for m in ObjectiveMastery.objects.filter(
            objective__session__course=course, student_id__in=ids
        )
    }
    rows = [
        HeatmapRow(
            student=m.user,
            section=m.section,
            cells=[stored.get((o.pk, m.user_id)) for o in objectives],
        )
        for m in members
    ]
    summaries = [
        ObjectiveSummary(
            objective=o,
            mastered=sum(
                1
                for uid in ids
                if (cell := stored.get((o.pk, uid)))
                and cell.level == ObjectiveMastery.Level.MASTERED
            ),
            students=len(ids),
        )
        for o in objectives
    ]
    return Heatmap(
        course=course,
        settings=settings,
        objectives=objectives,
        summaries=summaries,
        rows=rows,
        sections=scope.sections,
        section=scope.section,
        section_locked=scope.locked,
    )


@dataclass(frozen=True)
class TaggableSession:
    session: Session
    objectives: list[LearningObjective]
    labs: list[tuple[Lab, set[int]]]
    tasks: list[tuple[HomeworkTask, set[int]]]


def objective_tagging(*, user, code: str) -> tuple[Course, list[TaggableSession]]:
    """Instructors: each session with objectives and labs or homework, and the tags."""
    course, _role = course_get(user=user, code=code)
    require_instructor(user=user, course=course)
    objectives = _objectives(course)
    labs = list(Lab.objects.filter(session__course=course).order_by("pk"))
    tasks = list(HomeworkTask.objects.filter(session__course=course))
    tagged_labs: dict[int, set[int]] = {}
    tagged_tasks: dict[int, set[int]] = {}
    for link in ObjectiveLink.objects.filter(objective__session__course=course):
        if link.lab_id:
            tagged_labs.setdefault(link.lab_id, set()).add(link.objective_id)
        else:
            tagged_tasks.setdefault(link.homework_task_id, set()).add(link.objective_id)
    result = []
    for session in Session.objects.filter(course=course).order_by("number"):
        own = [o for o in objectives if o.session_id == session.pk]
        session_labs = [
            (lab, tagged_labs.get(lab.pk, set())) for lab in labs if lab.session_id == session.pk
        ]
        session_tasks = [
            (t, tagged_tasks.get(t.pk, set())) for t in tasks if t.session_id == session.pk
        ]
        if own and (session_labs or session_tasks):
            result.append(TaggableSession(session, own, session_labs, session_tasks))
    return course, result


def session_get_for_tagging(*, user, code: str, number: int) -> Session:
    course, _role = course_get(user=user, code=code)
    require_instructor(user=user, course=course)
    session = Session.objects.filter(course=course, number=number).first()
    if session is None:
        raise NotFoundError(f"No session {number} in {course.code}.")
    return session
