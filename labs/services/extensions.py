"""Per-student deadline extensions: one student may submit after the lab's close.

The rule itself is `labs.rules.lab_phase(..., extended_until=...)`; submissions and the
lab page ask `selectors.lab_phase_for`. Private scores stay hidden from every student until
the lab has closed for everyone (its latest extension ended), so an extension cannot be set
once they have been revealed: the extended student would tune their model on them.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from core.actors import is_system
from core.events import grade_source_changed_on_commit
from core.exceptions import ApplicationError
from courseware.permissions import (
    Actor,
    course_role,
    is_student,
    require_instructor,
    require_writable,
)
from labs import selectors
from labs.models import Lab, LabExtension


def _require_active_student(*, lab: Lab, student) -> None:
    course = lab.session.course
    if student is None or not is_student(course_role(user=student, course=course)):
        name = getattr(student, "username", "This person")
        raise ApplicationError(
            "not_a_student",
            f"{name} is not an active student of {course.code}: extensions are only for "
            "enrolled students (enrol them under People first).",
        )


def _check_dates(*, lab: Lab, closes_at: datetime) -> None:
    if lab.closes_at is None:
        raise ApplicationError(
            "lab_no_deadline",
            "This lab has no close date, so it never closes and needs no extension. "
            "Set a close date on the lab first.",
        )
    if closes_at <= lab.closes_at:
        raise ApplicationError(
            "invalid_extension",
            f"An extension must end after the lab's own close "
            f"({lab.closes_at:%Y-%m-%d %H:%M %Z}); pick a later date.",
        )


def _check_not_revealed(*, lab: Lab) -> None:
    if selectors.lab_is_closed(lab=lab):
        raise ApplicationError(
            "lab_scores_revealed",
            "This lab has closed for everyone and its private scores have been revealed to "
            "students: an extension now would let this student tune on them. Mark their late "
            "work by hand in the gradebook instead.",
            status_code=409,
        )


def _announce(*, lab: Lab, student, was_closed: bool) -> None:
    """The student's due date moves; if the change closes the lab for everyone now (their
    extension was the last one running), every student's score switches to the private part."""
    everyone = not was_closed and selectors.lab_is_closed(lab=lab)
    grade_source_changed_on_commit(
        source="lab",
        source_id=lab.pk,
        user_id=None if everyone else student.pk,
        course_id=lab.session.course_id,
    )


def _locked(lab: Lab) -> Lab:
    # Serialise changes to one lab's extensions (the "revealed" check and the write together).
    return Lab.objects.select_for_update().select_related("session__course").get(pk=lab.pk)


@transaction.atomic
def lab_extension_set(
    *, actor: Actor, lab: Lab, student, closes_at: datetime, reason: str
) -> LabExtension:
    """Let one student submit until `closes_at` (replacing any earlier extension of theirs).
    Instructors only; the close must be after the lab's own close."""
    course = lab.session.course
    require_instructor(user=actor, course=course)
    require_writable(actor=actor, course=course)
    _require_active_student(lab=lab, student=student)
    lab = _locked(lab)
    _check_dates(lab=lab, closes_at=closes_at)
    _check_not_revealed(lab=lab)
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(
            "invalid_extension",
            "Give a reason for the extension (e.g. “medical certificate”): it is kept with it.",
        )
    extension = LabExtension.objects.filter(lab=lab, student=student).first() or LabExtension(
        lab=lab, student=student
    )
    extension.closes_at, extension.reason = closes_at, reason
    extension.created_by = None if is_system(actor) else actor
    try:
        extension.full_clean(validate_constraints=False)  # the lab row lock keeps it unique
    except ValidationError as exc:
        raise ApplicationError("invalid_extension", " ".join(exc.messages)) from exc
    extension.save()
    _announce(lab=lab, student=student, was_closed=False)
    return extension


@transaction.atomic
def lab_extension_delete(*, actor: Actor, lab: Lab, student) -> bool:
    """Remove a student's extension (the lab's own close applies again). Returns whether
    there was one."""
    course = lab.session.course
    require_instructor(user=actor, course=course)
    require_writable(actor=actor, course=course)
    lab = _locked(lab)
    was_closed = selectors.lab_is_closed(lab=lab)
    deleted, _ = LabExtension.objects.filter(lab=lab, student=student).delete()
    if deleted:
        _announce(lab=lab, student=student, was_closed=was_closed)
    return deleted > 0
