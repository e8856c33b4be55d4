"""Copying an offering into a new term, in one transaction: the new (draft) course, then each
app's content, each app copying its own (`courseware.services.offerings.sessions_copy`,
`quizzes.offerings.quizzes_copy`, `labs.services.offerings.labs_copy`). If any part fails,
nothing is written. Attempts, submissions, grades, homework ticks, quiz overrides and
memberships are never copied: the person copying becomes the new offering's only member
(its instructor)."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from courseware.models import Course
from courseware.permissions import Actor, require_course_creator, require_instructor
from courseware.services.offerings import offering_create, sessions_copy
from labs.services.offerings import labs_copy
from offerings.selectors import term_offset
from quizzes.offerings import quizzes_copy


@transaction.atomic
def offering_copy(
    *,
    actor: Actor,
    source: Course,
    term: str,
    starts_on: date,
    ends_on: date,
    title: str = "",
) -> Course:
    """A new draft offering of `source`'s code in `term`, with its sessions, quizzes (and
    question bank) and labs (and held-out data), every date moved by the term offset
    (`starts_on` minus the old start date)."""
    require_instructor(user=actor, course=source)
    require_course_creator(user=actor)
    offset = term_offset(source=source, starts_on=starts_on)
    target = offering_create(
        actor=actor,
        code=source.code,
        term=term,
        title=title.strip() or source.title,
        starts_on=starts_on,
        ends_on=ends_on,
        state=Course.State.DRAFT,
    )
    made = sessions_copy(actor=actor, source=source, target=target, offset=offset)
    quizzes_copy(
        actor=actor,
        source=source,
        target=target,
        offset=offset,
        sessions=made.sessions,
        objectives=made.objectives,
    )
    labs_copy(actor=actor, source=source, target=target, offset=offset, sessions=made.sessions)
    return target
