"""A course's people, for its instructors: the People page and the members API.

Everything the list shows (role, section, status, last login, invitation date) comes from one
query, however many members the course has."""

from __future__ import annotations

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db.models import Case, CharField, F, IntegerField, Q, QuerySet, Value, When

from core.exceptions import ApplicationError, NotFoundError
from courseware.models import Course, Membership
from courseware.permissions import Actor, require_instructor


class Status:
    ACTIVE = "active"
    # Enrolled, but has not set a password from their invitation yet.
    INVITED = "invited"
    UNENROLLED = "unenrolled"

    choices = [
        (ACTIVE, "Active"),
        (INVITED, "Invited, not accepted"),
        (UNENROLLED, "Unenrolled"),
    ]


STATUS_CHOICES = Status.choices  # named in settings' ENUM_NAME_OVERRIDES (MemberStatusEnum)
STATUS_VALUES = [value for value, _ in STATUS_CHOICES]
ROLE_VALUES = list(Membership.Role.values)
# Instructors first, then teaching assistants, then students.
_ROLE_ORDER = Case(
    *(When(role=role, then=Value(i)) for i, role in enumerate(ROLE_VALUES)),
    default=Value(len(ROLE_VALUES)),
    output_field=IntegerField(),
)
# An account with no password yet (Django marks it with this prefix) has not accepted.
_PENDING = Q(user__password__startswith=UNUSABLE_PASSWORD_PREFIX)
_STATUS = Case(
    When(is_active=False, then=Value(Status.UNENROLLED)),
    When(_PENDING, then=Value(Status.INVITED)),
    default=Value(Status.ACTIVE),
    output_field=CharField(),
)


def _check_choice(name: str, value: str, allowed: list[str]) -> None:
    if value not in allowed:
        raise ApplicationError(
            f"invalid_{name}", f"{value!r} is not a {name}: use one of {', '.join(allowed)}."
        )


def member_list(
    *,
    actor: Actor,
    course: Course,
    role: str | None = None,
    status: str | None = None,
    section: str | None = None,
) -> QuerySet[Membership]:
    """The course's memberships (unenrolled ones too: filter `status`), instructors first,
    then by name. Each has `status` (`Status`), `invited_at` and its `user` loaded."""
    require_instructor(user=actor, course=course)
    members = (
        Membership.objects.filter(course=course)
        .select_related("user", "course")
        .annotate(
            status=_STATUS,
            invited_at=F("user__profile__invited_at"),
            role_order=_ROLE_ORDER,
        )
        .order_by("role_order", "user__last_name", "user__first_name", "user__username")
    )
    if role:
        _check_choice("role", role, ROLE_VALUES)
        members = members.filter(role=role)
    if status:
        _check_choice("status", status, STATUS_VALUES)
        members = members.filter(status=status)
    if section is not None and section.strip():
        members = members.filter(section=section.strip())
    return members


def member_sections(*, actor: Actor, course: Course) -> list[str]:
    """The sections in use in the course, for the section filter."""
    require_instructor(user=actor, course=course)
    return list(
        Membership.objects.filter(course=course)
        .exclude(section="")
        .order_by("section")
        .values_list("section", flat=True)
        .distinct()
    )


def member_get(*, actor: Actor, course: Course, user_id: int) -> Membership:
    """One membership of the course, for its instructors (NotFoundError for a person who
    is not in this course, whatever other courses they are in)."""
    member = member_list(actor=actor, course=course).filter(user_id=user_id).first()
    if member is None:
        raise NotFoundError(f"No person {user_id} in {course.code}.")
    return member
