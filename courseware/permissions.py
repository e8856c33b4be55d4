"""The one permission rule: who may do what in a course.

Role names live on `Membership.Role`; every question about a role ("may this person see every
student's work?") is answered here, never by comparing role strings elsewhere. Services that
act for a person call these checks with their `actor`; views and API views never check roles.

A user who is not a member of a course gets "not found" rather than "forbidden", so course
codes and session numbers of other courses are not revealed.

An archived course is read-only for every person, whatever their role: every write service
calls `require_writable` after its role check (reads and CSV exports keep working).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from core.actors import SystemActor, is_system
from core.exceptions import ApplicationError, NotFoundError, PermissionDeniedError
from courseware.models import Course, Membership

Role = Membership.Role
INSTRUCTOR = Role.INSTRUCTOR
STUDENT = Role.STUDENT
TEACHING_ASSISTANT = Role.TEACHING_ASSISTANT
# Roles that see every student's results in a course (a TA marks and re-grades, but changes
# no course settings, held-out data, quizzes or rosters).
STAFF_ROLES = frozenset({Role.INSTRUCTOR, Role.TEACHING_ASSISTANT})

Actor = AbstractBaseUser | AnonymousUser | SystemActor


def is_instructor(role: str | None) -> bool:
    return role == Role.INSTRUCTOR


def is_student(role: str | None) -> bool:
    return role == Role.STUDENT


def is_teaching_assistant(role: str | None) -> bool:
    return role == Role.TEACHING_ASSISTANT


def is_staff_role(role: str | None) -> bool:
    """Sees every student's work in the course (results, dashboards, private scores)."""
    return role in STAFF_ROLES


def course_role(*, user: Actor, course) -> str | None:
    if is_system(user):
        return Role.INSTRUCTOR
    if not user.is_authenticated:
        return None
    # An unenrolled member (is_active=False) keeps their work but has no role: no access.
    role = (
        Membership.objects.filter(course=course, user=user, is_active=True)
        .values_list("role", flat=True)
        .first()
    )
    # A draft offering is being prepared: its students do not see it yet ("not found", as for
    # any course that is not theirs), only its teaching staff do.
    if role is not None and course.state == course.State.DRAFT and not is_staff_role(role):
        return None
    return role


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


def require_staff(*, user: Actor, course) -> str:
    """Instructors and teaching assistants: those who see every student's work."""
    role = require_member(user=user, course=course)
    if not is_staff_role(role):
        raise PermissionDeniedError(f"Only the teaching staff of {course.code} can do this.")
    return role


def require_student(*, user: Actor, course) -> str:
    role = require_member(user=user, course=course)
    if not is_student(role):
        raise PermissionDeniedError(f"Only students of {course.code} can do this.")
    return role


def require_course_creator(*, user: Actor) -> None:
    """Courses are made by site staff, by people staff made course creators (the
    `courseware.create_course` permission), or by a command."""
    if is_system(user) or (
        user.is_authenticated
        and (getattr(user, "is_staff", False) or user.has_perm("courseware.create_course"))
    ):
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


# 409 Conflict: the request is allowed for this person but not in the course's present state
# (an instructor can publish the course again); 403 would say "not you", which is wrong.
ARCHIVED_STATUS = 409


def require_writable(*, actor: Actor, course) -> None:
    """Refuse any change to an archived course, for every person. SYSTEM (commands, the demo
    loader, grading workers finishing a submission already made) may still write: an operator
    who runs a command on an archived course means it, and work in flight must be recorded."""
    if is_system(actor) or course.state != Course.State.ARCHIVED:
        return
    raise ApplicationError(
        "course_archived",
        f"{course.code} {course.term}".strip()
        + " is archived (read-only): its work can be read and exported, not changed. "
        "An instructor can set the course back to published in its settings.",
        status_code=ARCHIVED_STATUS,
    )


def is_site_staff(user: Actor) -> bool:
    """Site staff (Django's `is_staff`) run the site: they register LMS platforms (lti)."""
    return is_system(user) or bool(
        getattr(user, "is_authenticated", False)
        and getattr(user, "is_active", False)
        and getattr(user, "is_staff", False)
    )


def require_site_staff(*, user: Actor) -> None:
    """Site-wide settings (LMS platform registrations) are site staff's, not a course's:
    instructors, TAs and students are refused alike."""
    if not is_site_staff(user):
        raise PermissionDeniedError(
            "Only site staff can do this: ask an administrator of this Coursebench site."
        )
