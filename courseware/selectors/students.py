"""Which students the teaching staff's lists show: the one rule for every roster, results
table, dashboard, leaderboard and export.

- An unenrolled student (`Membership.is_active=False`) keeps every attempt, submission and
  homework tick, but drops out of all of them; re-enrolling brings them back.
- A `?section=` filter narrows them to one section of the class list.
- A teaching assistant whose membership names a section sees only that section, whatever
  `?section=` says.

Filters are subqueries on `Membership`, so a filtered list costs the same number of queries
as an unfiltered one, whatever the class size.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from core.actors import is_system
from core.exceptions import ApplicationError, PermissionDeniedError
from courseware.models import Course, Membership
from courseware.permissions import is_teaching_assistant, require_staff


def course_sections(*, course: Course) -> list[str]:
    """The sections of the course's current students, sorted (empty when it has none)."""
    return sorted(
        set(
            Membership.objects.filter(course=course, role=Membership.Role.STUDENT, is_active=True)
            .exclude(section="")
            .values_list("section", flat=True)
        )
    )


def active_student_ids(*, course: Course | int, section: str = "") -> QuerySet:
    """The user ids of the course's current students (of one section), as a subquery."""
    memberships = Membership.objects.filter(
        course=course, role=Membership.Role.STUDENT, is_active=True
    )
    if section:
        memberships = memberships.filter(section=section)
    return memberships.values("user_id")


def unenrolled_user_ids(*, course: Course) -> QuerySet:
    """The user ids of the course's unenrolled members, as a subquery."""
    return Membership.objects.filter(course=course, is_active=False).values("user_id")


@dataclass(frozen=True)
class StudentScope:
    """The students one viewer's lists show in one course.

    `section` is "" for the whole course; `sections` is what the section filter offers;
    `locked` is True for a teaching assistant limited to their section."""

    course: Course
    section: str = ""
    sections: tuple[str, ...] = ()
    locked: bool = False

    def filter(self, queryset: QuerySet, field: str = "user") -> QuerySet:
        """`queryset` without the rows whose `field` (a user foreign key, or "pk" for a user
        queryset) is an unenrolled member; with a section, only that section's students'
        rows (an instructor's reference submissions are nobody's section)."""
        if self.section:
            ids = active_student_ids(course=self.course, section=self.section)
            return queryset.filter(**{f"{field}__in": ids})
        return queryset.exclude(**{f"{field}__in": unenrolled_user_ids(course=self.course)})


def everyone(*, course: Course) -> StudentScope:
    """The whole course's current students (no section, nobody unenrolled)."""
    return StudentScope(course=course)


def student_scope(*, user, course: Course, section: str = "") -> StudentScope:
    """The scope of the teaching staff's lists for `user`, with the `?section=` they asked
    for. A teaching assistant with a section is held to it; an unknown section is an error
    (not an empty list) so a typo in a link is noticed."""
    require_staff(user=user, course=course)
    section = (section or "").strip()
    own = "" if is_system(user) else _own_section(user=user, course=course)
    if own:
        if section and section != own:
            raise PermissionDeniedError(
                f"You look after section {own!r} of {course.code}: only its students are "
                "shown to you. Ask an instructor to change your section."
            )
        return StudentScope(course=course, section=own, sections=(own,), locked=True)
    sections = tuple(course_sections(course=course))
    if section and section not in sections:
        offered = ", ".join(repr(s) for s in sections) or "none"
        raise ApplicationError(
            "unknown_section",
            f"{course.code} has no section {section!r} (sections: {offered}); "
            "leave the filter empty for the whole course.",
        )
    return StudentScope(course=course, section=section, sections=sections)


def _own_section(*, user, course: Course) -> str:
    """The section a teaching assistant is limited to ("" for anyone else)."""
    row = (
        Membership.objects.filter(course=course, user=user, is_active=True)
        .values_list("role", "section")
        .first()
    )
    if row is None or not is_teaching_assistant(row[0]):
        return ""
    return row[1].strip()
