"""Gradebook reads. The staff grid reads stored cells and totals (a constant number of
queries, whatever the class size); a student's own page computes their row with the engine
from what they may see (released items, quiz marks their review options show), which is one
student's work, never the course's."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone

from accounts.models import Profile
from core.exceptions import NotFoundError
from courseware.models import Course, Membership
from courseware.permissions import (
    is_teaching_assistant,
    require_instructor,
    require_staff,
    require_student,
)
from courseware.selectors import course_get
from gradebook import engine, services
from gradebook.models import (
    CellHistory,
    FinalGradeOverride,
    GradebookSettings,
    GradeCategory,
    GradeCell,
    GradeItem,
    StudentTotals,
)
from quizzes.selectors import score_history


@dataclass(frozen=True, slots=True)
class GridCell:
    """The stored fields of a GradeCell the grid and the exports show. Read as plain rows:
    building 18,000 model instances (with their four timestamps parsed) was most of the
    page's time for 300 students x 60 items (bench/gradebook_page.py)."""

    item_id: int
    student_id: int
    score: float | None
    points: float | None
    status: str
    excused: bool
    override: float | None
    dropped: bool
    deduction: float
    provisional: bool


GRID_CELL_FIELDS = [f for f in GridCell.__slots__]


@dataclass(frozen=True)
class GridRow:
    student: Any
    section: str
    student_id: str
    totals: StudentTotals | None
    cells: list[GridCell | None]
    final_override: FinalGradeOverride | None = None


@dataclass(frozen=True)
class Grid:
    course: Course
    role: str
    settings: GradebookSettings
    categories: list[GradeCategory]
    items: list[GradeItem]
    rows: list[GridRow]
    sections: list[str]
    section: str
    section_locked: bool


SORTS = ("name", "-name", "total", "-total", "section")


def _ta_section(course: Course, user) -> str:
    """A teaching assistant who looks after one section sees only that section."""
    return (
        Membership.objects.filter(course=course, user=user, is_active=True)
        .values_list("section", flat=True)
        .first()
        or ""
    )


def gradebook_grid(
    *, user, code: str, section: str = "", sort: str = "name", now: datetime | None = None
) -> Grid:
    course, _role = course_get(user=user, code=code)
    role = require_staff(user=user, course=course)
    settings = services.gradebook_ensure_fresh(course=course, now=now)
    locked = ""
    if is_teaching_assistant(role):
        locked = _ta_section(course, user)
    section = locked or section
    members = Membership.objects.filter(
        course=course, role=Membership.Role.STUDENT, is_active=True
    ).select_related("user")
    sections = sorted({s for s in members.values_list("section", flat=True) if s})
    if section:
        members = members.filter(section=section)
    members = list(members)
    student_ids = [m.user_id for m in members]
    items = list(GradeItem.objects.filter(course=course).select_related("category"))
    cells = {
        (c.item_id, c.student_id): c
        for c in (
            GridCell(*values)
            for values in GradeCell.objects.filter(
                item__course=course, student_id__in=student_ids
            ).values_list(*GRID_CELL_FIELDS)
        )
    }
    totals = {
        t.student_id: t
        for t in StudentTotals.objects.filter(course=course, student_id__in=student_ids)
    }
    finals = {
        f.student_id: f
        for f in FinalGradeOverride.objects.filter(course=course, student_id__in=student_ids)
    }
    sids = dict(
        Profile.objects.filter(user_id__in=student_ids).values_list("user_id", "student_id")
    )
    rows = [
        GridRow(
            student=m.user,
            section=m.section,
            student_id=sids.get(m.user_id, ""),
            totals=totals.get(m.user_id),
            cells=[cells.get((item.pk, m.user_id)) for item in items],
            final_override=finals.get(m.user_id),
        )
        for m in members
    ]
    rows = _sorted(rows, sort)
    return Grid(
        course=course,
        role=role,
        settings=settings,
        categories=list(GradeCategory.objects.filter(course=course)),
        items=items,
        rows=rows,
        sections=sections,
        section=section,
        section_locked=bool(locked),
    )


def _name_key(row: GridRow):
    u = row.student
    return (u.last_name.lower(), u.first_name.lower(), u.username)


def _sorted(rows: list[GridRow], sort: str) -> list[GridRow]:
    if sort in ("total", "-total"):

        def key(row):
            value = row.totals.current_percent if row.totals else None
            return (value is None, value or 0.0)

        ordered = sorted(rows, key=key)
        return list(reversed(ordered)) if sort == "-total" else ordered
    if sort == "section":
        return sorted(rows, key=lambda r: (r.section, _name_key(r)))
    ordered = sorted(rows, key=_name_key)
    return list(reversed(ordered)) if sort == "-name" else ordered


@dataclass(frozen=True)
class CellDetail:
    course: Course
    role: str
    item: GradeItem
    student: Any
    cell: GradeCell | None
    history: list[CellHistory]


def cell_detail(*, user, code: str, item_id: int, student_id: int) -> CellDetail:
    course, _role = course_get(user=user, code=code)
    role = require_staff(user=user, course=course)
    item = GradeItem.objects.filter(course=course, pk=item_id).first()
    member = (
        Membership.objects.filter(course=course, user_id=student_id, role=Membership.Role.STUDENT)
        .select_related("user")
        .first()
    )
    if item is None or member is None:
        raise NotFoundError("No such cell in this gradebook.")
    if is_teaching_assistant(role):
        locked = _ta_section(course, user)
        if locked and member.section != locked:
            raise NotFoundError("No such cell in your section.")
    return CellDetail(
        course=course,
        role=role,
        item=item,
        student=member.user,
        cell=GradeCell.objects.filter(item=item, student_id=student_id).first(),
        history=list(
            CellHistory.objects.filter(item=item, student_id=student_id).select_related(
                "changed_by"
            )
        ),
    )


def grade_item_get_for_staff(*, user, code: str, item_id: int) -> GradeItem:
    course, _role = course_get(user=user, code=code)
    require_staff(user=user, course=course)
    item = GradeItem.objects.filter(course=course, pk=item_id).first()
    if item is None:
        raise NotFoundError("No such item in this gradebook.")
    return item


def gradebook_student_get(*, user, code: str, student_id: int):
    course, _role = course_get(user=user, code=code)
    require_staff(user=user, course=course)
    member = (
        Membership.objects.filter(course=course, user_id=student_id, role=Membership.Role.STUDENT)
        .select_related("user")
        .first()
    )
    if member is None:
        raise NotFoundError("No such student in this course.")
    return course, member.user


# --- a student's own grades -------------------------------------------------------------------


@dataclass(frozen=True)
class MyItem:
    item: GradeItem
    score: float | None
    status: str
    points: float | None
    deduction: float
    dropped: bool
    what_if: float | None = None


@dataclass(frozen=True)
class MyGrades:
    course: Course
    settings: GradebookSettings
    categories: list[tuple[GradeCategory, Any]]
    items: list[MyItem]
    totals: Any
    final_override: FinalGradeOverride | None = None
    what_if: dict[int, float] = field(default_factory=dict)


def _hidden_quiz_ids(user, course: Course, now: datetime) -> set[int]:
    """Quizzes whose marks the student's review options do not show yet."""
    return {h.quiz.pk for h in score_history(user=user, course=course, now=now) if h.grade is None}


def my_grades(
    *, user, code: str, what_if: dict[int, float] | None = None, now: datetime | None = None
) -> MyGrades:
    """The student's released items, with what they may see of each score, and the totals
    computed from those alone. `what_if` ({item id: score}) fills in ungraded work for the
    what-if mode; nothing is saved."""
    now = now or timezone.now()
    course, _role = course_get(user=user, code=code)
    require_student(user=user, course=course)
    settings = services.gradebook_ensure_fresh(course=course, now=now, pending_for=[user.pk])
    items = [i for i in GradeItem.objects.filter(course=course, released=True)]
    categories = list(GradeCategory.objects.filter(course=course))
    cells = {c.item_id: c for c in GradeCell.objects.filter(item__in=items, student=user)}
    hidden = _hidden_quiz_ids(user, course, now)
    what_if = {k: v for k, v in (what_if or {}).items() if v is not None}
    e_cells = []
    for item in items:
        cell = cells.get(item.pk) or GradeCell(item=item, student=user)
        if item.kind == GradeItem.Kind.QUIZ and item.source_id in hidden:
            cell = GradeCell(item=item, student=user, excused=cell.excused, due_at=cell.due_at)
        cells[item.pk] = cell
        e = services.engine_cell(cell)
        if item.pk in what_if and cell.score is None and cell.override is None:
            e = engine.Cell(item_id=e.item_id, score=what_if[item.pk], due_at=e.due_at)
        e_cells.append(e)
    totals = engine.student_totals(
        categories=services.engine_categories(categories),
        items=services.engine_items(items),
        cells=e_cells,
        weighted=settings.weighted,
        now=now,
        scheme=services.letter_scheme(settings),
    )
    rows = []
    for item in items:
        cell, result = cells[item.pk], totals.cells[str(item.pk)]
        shown = cell.override if cell.override is not None else cell.score
        rows.append(
            MyItem(
                item=item,
                score=shown,
                status=result.status,
                points=result.points,
                deduction=result.deduction,
                dropped=result.dropped,
                what_if=what_if.get(item.pk) if shown is None else None,
            )
        )
    return MyGrades(
        course=course,
        settings=settings,
        categories=[(c, totals.categories.get(str(c.pk))) for c in categories],
        items=rows,
        totals=totals,
        final_override=FinalGradeOverride.objects.filter(course=course, student=user).first(),
        what_if=what_if,
    )


def cell_history_list(*, item: GradeItem, student_id: int) -> QuerySet[CellHistory]:
    return CellHistory.objects.filter(item=item, student_id=student_id).select_related("changed_by")


# --- the instructor's settings and categories page -------------------------------------------


@dataclass(frozen=True)
class Setup:
    course: Course
    settings: GradebookSettings
    categories: list[GradeCategory]  # each with `item_count`
    items: list[GradeItem]


def gradebook_setup(*, user, code: str) -> Setup:
    """What the settings page edits: the course's settings, its categories (with how many
    items each holds) and its items. Instructors only."""
    course, _role = course_get(user=user, code=code)
    require_instructor(user=user, course=course)
    settings = services.gradebook_settings_get(course=course)
    services.gradebook_items_sync(course=course)
    return Setup(
        course=course,
        settings=settings,
        categories=list(
            GradeCategory.objects.filter(course=course).annotate(item_count=Count("items"))
        ),
        items=list(GradeItem.objects.filter(course=course).select_related("category")),
    )


def grade_category_get_for_instructor(*, user, code: str, category_id: int) -> GradeCategory:
    course, _role = course_get(user=user, code=code)
    require_instructor(user=user, course=course)
    category = GradeCategory.objects.filter(course=course, pk=category_id).first()
    if category is None:
        raise NotFoundError("No such category in this gradebook.")
    return category


def grade_item_get_for_instructor(*, user, code: str, item_id: int) -> GradeItem:
    course, _role = course_get(user=user, code=code)
    require_instructor(user=user, course=course)
    item = GradeItem.objects.filter(course=course, pk=item_id).select_related("course").first()
    if item is None:
        raise NotFoundError("No such item in this gradebook.")
    return item
