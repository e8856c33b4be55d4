"""The one permission rule: who may do what in a course.

Role names live on `Membership.Role`; every question about a role ("may this person see every
student's work?") is answered here, never by comparing role strings elsewhere. Services that
act for a person call these checks with their `actor`; views and API views never check roles.

A user who is not a member of a course gets "not found" rather than "forbidden", so course
codes and session numbers of other courses are not revealed.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from core.actors import SystemActor, is_system
from core.exceptions import NotFoundError, PermissionDeniedError
from courseware.models import Membership

Role = Membership.Role
INSTRUCTOR = Role.INSTRUCTOR
STUDENT = Role.STUDENT
# Roles that see every student's results in a course.
STAFF_ROLES = frozenset({Role.INSTRUCTOR})

Actor = AbstractBaseUser | AnonymousUser | SystemActor


def is_instructor(role: str | None) -> bool:
    return role == Role.INSTRUCTOR


def is_student(role: str | None) -> bool:
    return role == Role.STUDENT


def is_staff_role(role: str | None) -> bool:
    """Sees every student's work in the course (results, dashboards, private scores)."""
    return role in STAFF_ROLES


def course_role(*, user: Actor, course) -> str | None:
    if is_system(user):
        return Role.INSTRUCTOR
    if not user.is_authenticated:
        return None
    return (
        Membership.objects.filter(course=course, user=user).values_list("role", flat=True).first()
    )


def require_member(*, user: Actor, course) -> str:
    role = course_role(user=user, course=course)
    if role is None:
        raise NotFoundError(f"No course {course.code} among your courses.")
    return role


def require_instructor(*, user: Actor, course) -> str:
    role = require_member(user=user, course=course)
    if not is_instructor(role):
        raise PermissionDeniedError(f"Only instructors of {course.code} can do this.")
    return role


def require_student(*, user: Actor, course) -> str:
    role = require_member(user=user, course=course)
    if not is_student(role):
        raise PermissionDeniedError(f"Only students of {course.code} can do this.")
    return role


def require_course_creator(*, user: Actor) -> None:
    """Courses are made by site staff (the admin) or by a command, never by a course member."""
    if is_system(user) or (user.is_authenticated and getattr(user, "is_staff", False)):
        return
    raise PermissionDeniedError(
        "Only site staff can create courses: ask an administrator, or run "
        "`manage.py import_deck --create-course`."
    )


def require_self(*, actor: Actor, user) -> None:
    """`actor` may act for `user` only if it is that user (or SYSTEM, for commands and the
    demo): nobody ticks homework or makes tokens for someone else."""
    if is_system(actor):
        return
    if not actor.is_authenticated or actor.pk != user.pk:
        raise PermissionDeniedError("You can only do this for yourself.")
