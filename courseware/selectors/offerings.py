"""Reads for offerings: who may open a course, and what copying an offering's sessions
would bring along (the copy preview)."""

from __future__ import annotations

from django.db.models import QuerySet

from core.exceptions import ApplicationError, PermissionDeniedError
from courseware.models import Course, Session, course_slug
from courseware.permissions import Actor, require_course_creator


def can_create_courses(*, user: Actor) -> bool:
    """Whether the portal offers this person "New course" (the rule is
    `permissions.require_course_creator`)."""
    try:
        require_course_creator(user=user)
    except PermissionDeniedError:
        return False
    return True


def course_creator_get(*, user: Actor) -> Actor:
    """The user, if they may open courses; PermissionDeniedError with the fix-it otherwise."""
    require_course_creator(user=user)
    return user


def sessions_copy_plan(*, course: Course) -> QuerySet[Session]:
    """The sessions `services.offerings.sessions_copy` would copy, with their objectives and
    homework, in order."""
    return (
        Session.objects.filter(course=course)
        .prefetch_related("objectives", "homework")
        .order_by("number")
    )


# `/courses/new/` is the create page: a course named "new" would never be reachable.
RESERVED_SLUGS = frozenset({"new"})


def offering_address_check(*, code: str, term: str) -> None:
    """Refuses a code and term already offered (or whose address is taken or reserved)."""
    slug = course_slug(code.strip(), term.strip())
    if slug.lower() in RESERVED_SLUGS:
        raise ApplicationError(
            "reserved_code", f"{code!r} names a portal page: choose another course code."
        )
    if Course.objects.filter(code__iexact=code.strip(), term__iexact=term.strip()).exists():
        where = f" in term {term.strip()!r}" if term.strip() else ""
        raise ApplicationError(
            "course_exists",
            f"{code.strip()} is already offered{where}: choose another term (e.g. 2027 S2), "
            "or open the existing offering.",
            status_code=409,
        )
    if Course.objects.filter(slug__iexact=slug).exists():
        raise ApplicationError(
            "course_exists",
            f"Another offering already uses the address {slug}: choose another term name.",
            status_code=409,
        )
