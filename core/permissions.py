"""Role checks shared by portal views and API views.

A user who is not a member of a course gets "not found" rather than "forbidden", so course
codes and session numbers of other courses are not revealed.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from core.exceptions import NotFoundError, PermissionDeniedError


def course_role(*, user: AbstractBaseUser | AnonymousUser, course) -> str | None:
    if not user.is_authenticated:
        return None
    from courseware.models import Membership

    return (
        Membership.objects.filter(course=course, user=user).values_list("role", flat=True).first()
    )


def require_member(*, user, course) -> str:
    role = course_role(user=user, course=course)
    if role is None:
        raise NotFoundError(f"No course {course.code} among your courses.")
    return role


def require_instructor(*, user, course) -> None:
    from courseware.models import Membership

    if require_member(user=user, course=course) != Membership.Role.INSTRUCTOR:
        raise PermissionDeniedError(f"Only instructors of {course.code} can do this.")


def require_student(*, user, course) -> None:
    from courseware.models import Membership

    if require_member(user=user, course=course) != Membership.Role.STUDENT:
        raise PermissionDeniedError(f"Only students of {course.code} can do this.")
