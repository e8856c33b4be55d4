"""What copying an offering would do: the preview the page and the API's `dry_run` show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from courseware.models import Course, Session
from courseware.permissions import Actor, require_course_creator, require_instructor
from courseware.selectors.offerings import offering_address_check, sessions_copy_plan
from labs.services.offerings import LabCopyPlan, labs_copy_plan
from quizzes.offerings import QuizzesCopyPlan, quizzes_copy_plan


def term_offset(*, source: Course, starts_on: date) -> timedelta:
    """How far every date moves: the new start minus the old one. An offering without a start
    date keeps its dates as they are (offset zero)."""
    if source.starts_on is None:
        return timedelta(0)
    return starts_on - source.starts_on


@dataclass(frozen=True)
class OfferingCopyPlan:
    source: Course
    offset: timedelta
    sessions: list[Session]  # with objectives and homework prefetched
    quizzes: QuizzesCopyPlan
    labs: list[LabCopyPlan]

    @property
    def offset_days(self) -> int:
        return self.offset.days

    @property
    def objective_count(self) -> int:
        return sum(len(s.objectives.all()) for s in self.sessions)

    @property
    def homework_count(self) -> int:
        return sum(len(s.homework.all()) for s in self.sessions)

    @property
    def dataset_count(self) -> int:
        return sum(len(lab.dataset_versions) for lab in self.labs)


def offering_copy_plan(
    *, user: Actor, source: Course, term: str, starts_on: date
) -> OfferingCopyPlan:
    """Everything `services.offering_copy` would copy; the source's instructors only. Refuses
    up front, as the copy would, a term the code is already offered in."""
    require_instructor(user=user, course=source)
    require_course_creator(user=user)
    offering_address_check(code=source.code, term=term)
    return OfferingCopyPlan(
        source=source,
        offset=term_offset(source=source, starts_on=starts_on),
        sessions=list(sessions_copy_plan(course=source)),
        quizzes=quizzes_copy_plan(course=source),
        labs=labs_copy_plan(course=source),
    )
