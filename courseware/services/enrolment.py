"""Self-enrolment with a join code: instructors turn it on, rotate the code and may restrict
it to an email domain; a signed-in person who has the code joins as a student.

A wrong, rotated or switched-off code gets one message, so codes cannot be told apart by
trying them (the portal also throttles failed attempts per client address)."""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.core.validators import DomainNameValidator
from django.db import transaction

from core.actors import is_system
from core.exceptions import ApplicationError, PermissionDeniedError
from courseware.models import Course, Membership
from courseware.permissions import Actor, is_staff_role, require_instructor, require_writable

# No 0/O or 1/I: a code read off a projector or typed from a slide is not misread.
JOIN_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
JOIN_CODE_LENGTH = 8
INVALID_CODE_MESSAGE = (
    "That join code does not open a course (it may be mistyped, replaced by a new one, or "
    "switched off): check the code with your instructor."
)


def join_code_normalize(code: str) -> str:
    """What a person typed, as stored: upper case, without spaces or dashes."""
    return "".join(ch for ch in code.upper() if ch not in " -\t")


def _new_join_code() -> str:
    while True:
        code = "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))
        if not Course.objects.filter(join_code=code).exists():
            return code


def _clean_domain(email_domain: str) -> str:
    domain = email_domain.strip().lower().removeprefix("@")
    if not domain:
        return ""
    try:
        DomainNameValidator(accept_idna=False)(domain)
    except ValidationError:
        raise ApplicationError(
            "invalid_email_domain",
            f"{email_domain.strip()!r} is not an email domain: write the part after the @, "
            "e.g. student.example.edu, or leave it blank to accept any address.",
        ) from None
    return domain


@transaction.atomic
def join_settings_update(
    *, actor: Actor, course: Course, enabled: bool, email_domain: str, section: str
) -> Course:
    """Turn self-enrolment on or off and set who may join: an email domain (blank: anyone
    with the code) and the section joiners are put in. Turning it on the first time makes a
    code."""
    require_instructor(user=actor, course=course)
    require_writable(actor=actor, course=course)
    course.join_enabled = enabled
    course.join_email_domain = _clean_domain(email_domain)
    course.join_section = section.strip()
    if enabled and not course.join_code:
        course.join_code = _new_join_code()
    course.full_clean()
    course.save(update_fields=["join_enabled", "join_email_domain", "join_section", "join_code"])
    return course


@transaction.atomic
def join_code_rotate(*, actor: Actor, course: Course) -> str:
    """A new code; the old one stops working at once (people already enrolled stay)."""
    require_instructor(user=actor, course=course)
    require_writable(actor=actor, course=course)
    course.join_code = _new_join_code()
    course.full_clean()
    course.save(update_fields=["join_code"])
    return course.join_code


def course_for_join_code(*, code: str) -> Course:
    """The published course this code opens, or the one generic refusal."""
    normalized = join_code_normalize(code)
    course = (
        Course.objects.filter(
            join_code=normalized, join_enabled=True, state=Course.State.PUBLISHED
        ).first()
        if normalized
        else None
    )
    if course is None:
        raise ApplicationError("join_code_invalid", INVALID_CODE_MESSAGE)
    return course


def _email_in_domain(email: str, domain: str) -> bool:
    host = email.rsplit("@", 1)[-1].lower() if "@" in email else ""
    return host == domain or host.endswith("." + domain)


def join_email_check(*, course: Course, email: str) -> None:
    """Refuse an address outside the course's join domain (its subdomains are in)."""
    domain = course.join_email_domain
    if domain and not _email_in_domain(email, domain):
        raise ApplicationError(
            "join_email_domain",
            f"{course.code} is open only to @{domain} email addresses: sign up or log in with "
            f"your @{domain} address (you can change an account's email on your profile page).",
        )


@transaction.atomic
def course_join(*, actor: Actor, code: str) -> Membership:
    """Enrol the signed-in `actor` as a student of the course `code` opens, in the course's
    join section. Joining again is harmless; an unenrolled student's membership (with all
    their work) becomes active again. Staff of the course are refused: a code only enrols
    students, and must never demote an instructor."""
    if is_system(actor) or not actor.is_authenticated:
        raise PermissionDeniedError("Log in (or sign up) to join a course with a code.")
    course = course_for_join_code(code=code)
    join_email_check(course=course, email=actor.email)
    membership = Membership.objects.select_for_update().filter(course=course, user=actor).first()
    if membership is not None and membership.is_active:
        if is_staff_role(membership.role):
            raise ApplicationError(
                "already_staff",
                f"You teach {course.code} ({membership.get_role_display()}): a join code "
                "only enrols students. Use another account to try the student view.",
            )
        return membership
    if membership is None:
        membership = Membership(course=course, user=actor)
    membership.role = Membership.Role.STUDENT
    membership.is_active = True
    membership.unenrolled_at = None
    if course.join_section:
        membership.section = course.join_section
    membership.full_clean(validate_constraints=False)
    membership.save()
    return membership
