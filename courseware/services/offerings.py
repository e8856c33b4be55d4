"""Offerings: a course creator opens a course (and teaches it), its instructors edit it, and
copying an offering into a new term starts with its sessions (`sessions_copy`).

Quizzes and labs copy their own content (`quizzes.offerings`, `labs.services.offerings`):
courseware sits below them and never imports them; `offerings.services.offering_copy` runs
the three in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.exceptions import ApplicationError
from courseware.models import (
    Course,
    HomeworkTask,
    LearningObjective,
    Membership,
    Session,
)
from courseware.permissions import Actor, require_course_creator, require_instructor
from courseware.selectors.offerings import offering_address_check
from courseware.services import course_create


def shift(value: date | datetime | None, offset: timedelta) -> date | datetime | None:
    """A date of the old offering moved into the new term (None stays None). A time keeps its
    wall-clock time in the site's time zone: homework due at 23:59 in winter is due at 23:59
    in summer too (adding to a zoneinfo-aware time is wall-clock arithmetic)."""
    if value is None:
        return None
    if isinstance(value, datetime) and timezone.is_aware(value):
        return timezone.localtime(value) + offset
    return value + offset


@transaction.atomic
def offering_create(
    *,
    actor: Actor,
    code: str,
    title: str,
    term: str = "",
    starts_on: date | None = None,
    ends_on: date | None = None,
    state: str = Course.State.DRAFT,
) -> Course:
    """A course creator opens a course in the portal and becomes its instructor (one
    transaction: there is never a course nobody teaches)."""
    require_course_creator(user=actor)
    offering_address_check(code=code, term=term)
    course = course_create(
        actor=actor,
        code=code,
        title=title,
        term=term,
        starts_on=starts_on,
        ends_on=ends_on,
        state=state,
    )
    if getattr(actor, "pk", None) is not None:
        membership = Membership(course=course, user=actor, role=Membership.Role.INSTRUCTOR)
        membership.full_clean(validate_constraints=False)
        membership.save()
    return course


@transaction.atomic
def course_update(
    *,
    actor: Actor,
    course: Course,
    title: str,
    starts_on: date | None,
    ends_on: date | None,
    state: str,
) -> Course:
    """An instructor edits an offering's title, dates and state. The code and term are fixed
    once it exists: they make its address, which links, exports and API clients hold.

    This is the one write an archived course accepts: it is how it is un-archived."""
    require_instructor(user=actor, course=course)
    locked = Course.objects.select_for_update().get(pk=course.pk)
    locked.title = title.strip()
    locked.starts_on = starts_on
    locked.ends_on = ends_on
    locked.state = state
    locked.full_clean()
    locked.save()
    return locked


# --- Copying an offering ------------------------------------------------------------------


@dataclass
class SessionsCopy:
    """What `sessions_copy` made: old row id -> new row, for the apps that copy next."""

    sessions: dict[int, Session] = field(default_factory=dict)
    objectives: dict[int, LearningObjective] = field(default_factory=dict)
    homework: dict[int, HomeworkTask] = field(default_factory=dict)


def _clean_save(obj) -> None:
    try:
        obj.full_clean(validate_constraints=False)
    except ValidationError as exc:  # a row the old offering holds should always be valid
        raise ApplicationError(
            "copy_failed", f"Could not copy {obj._meta.verbose_name} {obj}: {exc.messages[0]}"
        ) from exc
    obj.save()


@transaction.atomic
def sessions_copy(
    *, actor: Actor, source: Course, target: Course, offset: timedelta
) -> SessionsCopy:
    """Copy every session (slides, speaker notes, objectives, homework) of `source` into
    `target`, moving session dates and homework due dates by `offset`. Never copies who
    ticked which homework."""
    require_instructor(user=actor, course=source)
    require_instructor(user=actor, course=target)
    made = SessionsCopy()
    for old in Session.objects.filter(course=source).prefetch_related("objectives", "homework"):
        new = Session(
            course=target,
            number=old.number,
            title=old.title,
            date=shift(old.date, offset),
            lecturer=old.lecturer,
            homework_intro=old.homework_intro,
            slides_source=old.slides_source,
            slides_html=old.slides_html,
            slide_count=old.slide_count,
            speaker_notes=old.speaker_notes,
            deck_filename=old.deck_filename,
        )
        _clean_save(new)
        made.sessions[old.pk] = new
        for objective in old.objectives.all():
            copy = LearningObjective(session=new, position=objective.position, text=objective.text)
            _clean_save(copy)
            made.objectives[objective.pk] = copy
        for task in old.homework.all():
            copy = HomeworkTask(
                session=new,
                position=task.position,
                text=task.text,
                due_at=shift(task.due_at, offset),
            )
            _clean_save(copy)
            made.homework[task.pk] = copy
    return made
