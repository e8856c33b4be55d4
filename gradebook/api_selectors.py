"""Reads the gradebook API serves: the staff grid one page of students at a time (a constant
number of queries per page, whatever the class size), a student's own row (from the same
`my_grades` the student's page uses, so the API never shows more than the page), and the
history of a final grade."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from accounts.models import Profile
from core.exceptions import NotFoundError
from courseware.models import Course, Membership
from courseware.permissions import require_staff
from courseware.selectors import course_get
from courseware.selectors.students import student_scope
from gradebook import services
from gradebook.models import (
    CellHistory,
    FinalGradeOverride,
    GradeCategory,
    GradeCell,
    GradeItem,
    StudentTotals,
)
from gradebook.selectors import gradebook_student_get, my_grades


@dataclass(frozen=True)
class CellView:
    """One cell as the API shows it. For a student `score` is what they may see (an
    override included, a quiz mark their review options hide is None) and `override` is
    None."""

    item_id: int
    score: float | None
    override: float | None
    points: float | None
    status: str
    deduction: float
    dropped: bool
    excused: bool
    provisional: bool

    @classmethod
    def of(cls, item: GradeItem, cell: GradeCell | None) -> CellView:
        if cell is None:
            return cls(
                item.pk, None, None, None, GradeCell.Status.UNGRADED, 0.0, False, False, False
            )
        return cls(
            item_id=item.pk,
            score=cell.score,
            override=cell.override,
            points=cell.points,
            status=cell.status,
            deduction=cell.deduction,
            dropped=cell.dropped,
            excused=cell.excused,
            provisional=cell.provisional,
        )


@dataclass(frozen=True)
class RowView:
    student: Any
    section: str
    student_id: str
    totals: dict[str, Any] | None
    cells: list[CellView]
    final_override: FinalGradeOverride | None


class GridRows:
    """The grid's rows as a lazily sliced sequence, so the API's paginator reads only one
    page of students and then their cells, totals and overrides in one query each."""

    def __init__(self, *, course: Course, members: QuerySet, items: list[GradeItem]) -> None:
        self._course, self._members, self._items = course, members, items

    def count(self) -> int:
        return self._members.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self._rows(list(self._members[index]))
        return self._rows(list(self._members[index : index + 1]))[0]

    def _rows(self, members: list[Membership]) -> list[RowView]:
        ids = [m.user_id for m in members]
        cells = {
            (c.item_id, c.student_id): c
            for c in GradeCell.objects.filter(item__course=self._course, student_id__in=ids)
        }
        totals = {
            t.student_id: t
            for t in StudentTotals.objects.filter(course=self._course, student_id__in=ids)
        }
        finals = {
            f.student_id: f
            for f in FinalGradeOverride.objects.filter(course=self._course, student_id__in=ids)
        }
        sids = dict(Profile.objects.filter(user_id__in=ids).values_list("user_id", "student_id"))
        return [
            RowView(
                student=m.user,
                section=m.section,
                student_id=sids.get(m.user_id, ""),
                totals=_stored_totals(totals.get(m.user_id)),
                cells=[CellView.of(item, cells.get((item.pk, m.user_id))) for item in self._items],
                final_override=finals.get(m.user_id),
            )
            for m in members
        ]


def _stored_totals(totals: StudentTotals | None) -> dict[str, Any] | None:
    if totals is None:
        return None
    return {
        "current_percent": totals.current_percent,
        "final_percent": totals.final_percent,
        "current_letter": totals.current_letter,
        "final_letter": totals.final_letter,
        "categories": totals.categories,
    }


@dataclass(frozen=True)
class GridView:
    course: Course
    role: str
    categories: list[GradeCategory]
    items: list[GradeItem]
    rows: GridRows | list[RowView]
    section: str
    sections: tuple[str, ...]
    section_locked: bool


def gradebook_grid_for_api(*, user, code: str, section: str = "") -> GridView:
    """The staff grid (instructors and TAs): every item, released or not, and the course's
    current students, by name, in the section `student_scope` allows (a TA limited to a
    section gets only it). Rows are read a page at a time (`GridRows`)."""
    course, _role = course_get(user=user, code=code)
    role = require_staff(user=user, course=course)
    scope = student_scope(user=user, course=course, section=section)
    services.gradebook_ensure_fresh(course=course)
    members = scope.filter(
        Membership.objects.filter(course=course, role=Membership.Role.STUDENT, is_active=True)
    )
    members = members.select_related("user").order_by(
        "user__last_name", "user__first_name", "user__username", "pk"
    )
    items = list(GradeItem.objects.filter(course=course))
    return GridView(
        course=course,
        role=role,
        categories=list(GradeCategory.objects.filter(course=course)),
        items=items,
        rows=GridRows(course=course, members=members, items=items),
        section=scope.section,
        sections=scope.sections,
        section_locked=scope.locked,
    )


def gradebook_own_row(*, user, code: str) -> GridView:
    """A student's own row: released items only, with the scores and totals `my_grades`
    computes from what they may see (never a hidden item, a quiz mark their review options
    hide, or a lab's private score before it closes)."""
    grades = my_grades(user=user, code=code)
    membership = Membership.objects.filter(course=grades.course, user=user).first()
    cells = [
        CellView(
            item_id=row.item.pk,
            score=row.score,
            override=None,
            points=row.points,
            status=row.status,
            deduction=row.deduction,
            dropped=row.dropped,
            excused=row.status == GradeCell.Status.EXCUSED,
            provisional=row.status == GradeCell.Status.PROVISIONAL,
        )
        for row in grades.items
    ]
    totals = grades.totals
    row = RowView(
        student=user,
        section=membership.section if membership else "",
        student_id=Profile.objects.filter(user=user).values_list("student_id", flat=True).first()
        or "",
        totals={
            "current_percent": totals.current_percent,
            "final_percent": totals.final_percent,
            "current_letter": totals.current_letter or "",
            "final_letter": totals.final_letter or "",
            "categories": services.category_json(totals),
        },
        cells=cells,
        final_override=grades.final_override,
    )
    return GridView(
        course=grades.course,
        role=Membership.Role.STUDENT,
        categories=[category for category, _total in grades.categories],
        items=[row.item for row in grades.items],
        rows=[row],
        section=row.section,
        sections=(),
        section_locked=True,
    )


@dataclass(frozen=True)
class FinalGradeView:
    student: Any
    override: FinalGradeOverride | None
    history: list[CellHistory]


def final_grade_get(*, user, code: str, student_id: int) -> FinalGradeView:
    """A student's final-grade override (None: the computed total stands) and its history;
    teaching staff only."""
    course, student = gradebook_student_get(user=user, code=code, student_id=student_id)
    scope = student_scope(user=user, course=course)
    in_section = Membership.objects.filter(course=course, user=student, section=scope.section)
    if scope.locked and not in_section.exists():
        raise NotFoundError("No such student in your section.")
    return FinalGradeView(
        student=student,
        override=FinalGradeOverride.objects.filter(course=course, student=student).first(),
        history=list(
            CellHistory.objects.filter(
                course=course, student=student, field=CellHistory.Field.FINAL
            ).select_related("changed_by")
        ),
    )
