"""A course's people: adding one person by email, changing role and section, unenrolling and
re-enrolling, resending invitations. Instructors only (rosters are not a TA's job).

Unenrolling never deletes: the membership stays (`is_active=False`, `unenrolled_at`), so a
person's attempts, submissions and homework ticks survive, and re-enrolling restores them."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from accounts import selectors as account_selectors
from accounts import services as account_services
from core.exceptions import ApplicationError
from courseware.models import Course, Membership
from courseware.permissions import Actor, is_instructor, require_instructor, require_writable

ROLE_LABELS = dict(Membership.Role.choices)
SECTION_MAX = Membership._meta.get_field("section").max_length


def _clean_role(role: str) -> str:
    if role not in ROLE_LABELS:
        choices = ", ".join(f"{value} ({label.lower()})" for value, label in ROLE_LABELS.items())
        raise ApplicationError("invalid_role", f"{role!r} is not a role: use one of {choices}.")
    return role


def _clean_section(section: str) -> str:
    section = section.strip()
    if len(section) > SECTION_MAX:
        raise ApplicationError(
            "invalid_section",
            f"A section name is at most {SECTION_MAX} characters; {section[:20]!r}… has "
            f"{len(section)}. Shorten it (e.g. 'Tue lab').",
        )
    return section


def _name(user: AbstractBaseUser) -> str:
    return user.get_full_name() or user.get_username()


def _save(membership: Membership) -> Membership:
    membership.full_clean(validate_constraints=False)
    membership.save()
    return membership


def _require_another_instructor(membership: Membership, *, doing: str) -> None:
    """A course keeps at least one active instructor: someone must be able to manage it.
    The instructors' rows are locked, so two instructors demoting each other at the same
    moment cannot both succeed."""
    if not (membership.is_active and is_instructor(membership.role)):
        return
    instructors = list(
        Membership.objects.select_for_update()
        .filter(course=membership.course, role=Membership.Role.INSTRUCTOR, is_active=True)
        .values_list("pk", flat=True)
    )
    if instructors == [membership.pk]:
        raise ApplicationError(
            "last_instructor",
            f"{_name(membership.user)} is the only instructor of {membership.course.code}: "
            f"add another instructor before you {doing}.",
        )


@transaction.atomic
def member_add(
    *,
    actor: Actor,
    course: Course,
    email: str,
    role: str = Membership.Role.STUDENT,
    section: str = "",
    first_name: str = "",
    last_name: str = "",
) -> tuple[Membership, bool]:
    """Enrol the person with this email; an email with no account gets a new account and an
    invitation to set its password. Adding an unenrolled member re-enrols them (with the
    role and section given). Returns the membership and whether an invitation was sent."""
    require_instructor(user=actor, course=course)
    require_writable(actor=actor, course=course)
    role, section = _clean_role(role), _clean_section(section)
    user = account_selectors.user_by_email(email=email)
    invited = user is None
    if user is None:
        user = account_services.account_create(
            actor=actor, email=email, first_name=first_name, last_name=last_name
        )
    membership = Membership.objects.select_for_update().filter(
        course=course, user=user
    ).first() or Membership(course=course, user=user)
    if membership.pk and membership.is_active:
        raise ApplicationError(
            "already_member",
            f"{_name(user)} ({user.email}) is already in {course.code} as "
            f"{ROLE_LABELS[membership.role].lower()}: change their role in the list instead.",
        )
    membership.role, membership.section = role, section
    membership.is_active, membership.unenrolled_at = True, None
    _save(membership)
    if invited:
        account_services.account_invite(actor=actor, user=user)
    return membership, invited


@transaction.atomic
def member_update(
    *,
    actor: Actor,
    membership: Membership,
    role: str | None = None,
    section: str | None = None,
) -> Membership:
    """Change a member's role and/or section (None leaves it as it is)."""
    require_instructor(user=actor, course=membership.course)
    require_writable(actor=actor, course=membership.course)
    if role is not None:
        role = _clean_role(role)
        if not is_instructor(role):
            _require_another_instructor(membership, doing="changing their role")
        membership.role = role
    if section is not None:
        membership.section = _clean_section(section)
    return _save(membership)


@transaction.atomic
def member_unenrol(*, actor: Actor, membership: Membership) -> Membership:
    """Take away the member's access and hide them from lists, leaderboards and exports,
    keeping all their work. Unenrolling an unenrolled member changes nothing."""
    require_instructor(user=actor, course=membership.course)
    require_writable(actor=actor, course=membership.course)
    if not membership.is_active:
        return membership
    _require_another_instructor(membership, doing="unenrolling them")
    membership.is_active, membership.unenrolled_at = False, timezone.now()
    return _save(membership)


@transaction.atomic
def member_reenrol(*, actor: Actor, membership: Membership) -> Membership:
    """Give an unenrolled member their access back, with their role, section and work as
    they were. Re-enrolling an active member changes nothing."""
    require_instructor(user=actor, course=membership.course)
    require_writable(actor=actor, course=membership.course)
    if membership.is_active:
        return membership
    membership.is_active, membership.unenrolled_at = True, None
    return _save(membership)


@transaction.atomic
def member_invite_resend(*, actor: Actor, membership: Membership) -> None:
    """Email the member a new link to set their password (older links stop working).
    Refused for someone who has set a password (they can log in or reset it) and for an
    unenrolled member (re-enrol them first)."""
    require_instructor(user=actor, course=membership.course)
    require_writable(actor=actor, course=membership.course)
    if not membership.is_active:
        raise ApplicationError(
            "not_enrolled",
            f"{_name(membership.user)} is unenrolled from {membership.course.code}: "
            "re-enrol them before inviting them.",
        )
    account_services.account_invite(actor=actor, user=membership.user)


@transaction.atomic
def member_change(
    *,
    actor: Actor,
    membership: Membership,
    role: str | None = None,
    section: str | None = None,
    is_active: bool | None = None,
) -> Membership:
    """The API's PATCH: any of role, section and enrolment (`is_active`) in one transaction.
    Re-enrolling comes first and unenrolling last, so a change of role applies either way."""
    if is_active:
        member_reenrol(actor=actor, membership=membership)
    membership = member_update(actor=actor, membership=membership, role=role, section=section)
    if is_active is False:
        member_unenrol(actor=actor, membership=membership)
    return membership
