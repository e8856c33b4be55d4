"""Gradebook writes: keep items in step with quizzes, labs and homework, refresh stored cells
and totals for the students an event names, and the instructor's own changes (overrides,
excused cells, manual items and scores, release), each kept in the cell's history.

Nothing here recomputes the whole course on a page view: events refresh the students they
name, and a full refresh happens only when the course's structure changes (an item appears,
settings or categories change) or a due date passes (`next_refresh_at`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Min, Q, Sum
from django.utils import timezone

from accounts.models import Profile
from core.actors import is_system
from core.exceptions import ApplicationError, NotFoundError
from courseware.models import Course, HomeworkTask, Membership, Session
from courseware.permissions import Actor, require_instructor, require_writable
from gradebook import engine, sources
from gradebook.models import (
    CellHistory,
    FinalGradeOverride,
    GradebookSettings,
    GradeCategory,
    GradeCell,
    GradeItem,
    StudentTotals,
)
from labs.models import Lab
from quizzes.content import DESCRIPTION
from quizzes.models import Quiz, QuizSlot

User = get_user_model()
Kind = GradeItem.Kind

# The categories a new gradebook starts with, and where each kind of item goes.
DEFAULT_CATEGORIES = (("Homework", Kind.HOMEWORK), ("Quizzes", Kind.QUIZ), ("Labs", Kind.LAB))
MANUAL_CATEGORY = "Other"
DEFAULT_POINTS = {Kind.LAB: 10.0, Kind.HOMEWORK: 1.0}


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _person(actor: Actor):
    """The user to record in a history row (None for SYSTEM)."""
    return None if is_system(actor) else actor


def _value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:g}" if isinstance(value, float | int) else str(value)


# --- settings and items ---------------------------------------------------------------------


def gradebook_settings_get(*, course: Course) -> GradebookSettings:
    """The course's gradebook settings, created with the default categories on first use."""
    found = GradebookSettings.objects.filter(course=course).first()
    if found is not None:
        return found
    with transaction.atomic():
        settings, created = GradebookSettings.objects.get_or_create(course=course)
        if created:
            for position, (name, _kind) in enumerate(
                [*DEFAULT_CATEGORIES, (MANUAL_CATEGORY, Kind.MANUAL)]
            ):
                GradeCategory.objects.get_or_create(
                    course=course, name=name, defaults={"position": position}
                )
    return settings


def _category_for(course: Course, kind: str) -> GradeCategory:
    kind = Kind.HOMEWORK if kind == Kind.HOMEWORK_SESSION else kind
    name = dict((k, n) for n, k in DEFAULT_CATEGORIES).get(kind, MANUAL_CATEGORY)
    category, _ = GradeCategory.objects.get_or_create(
        course=course, name=name, defaults={"position": GradeCategory.objects.count()}
    )
    return category


@dataclass(frozen=True)
class SourceItem:
    kind: str
    source_id: int
    title: str
    points: float
    due_at: datetime | None
    position: int


def _quiz_sources(course: Course) -> list[SourceItem]:
    marks = dict(
        QuizSlot.objects.filter(quiz__session__course=course)
        .filter(Q(question__isnull=True) | ~Q(question__qtype=DESCRIPTION))
        .values("quiz_id")
        .annotate(total=Sum("mark"))
        .values_list("quiz_id", "total")
    )
    return [
        SourceItem(
            Kind.QUIZ, q.pk, q.title, round(marks.get(q.pk) or 0.0, 7), q.closes_at, n * 10 + 1
        )
        for q, n in (
            (q, q.session.number)
            for q in Quiz.objects.filter(session__course=course).select_related("session")
        )
    ]


def _lab_sources(course: Course) -> list[SourceItem]:
    return [
        SourceItem(Kind.LAB, lab.pk, lab.title, 10.0, lab.closes_at, lab.session.number * 10 + 2)
        for lab in Lab.objects.filter(session__course=course).select_related("session")
    ]


def _homework_sources(course: Course, mode: str) -> list[SourceItem]:
    if mode == GradebookSettings.HomeworkMode.PER_SESSION:
        return [
            SourceItem(
                Kind.HOMEWORK_SESSION,
                s.pk,
                f"Homework, session {s.number}",
                float(s.task_count),
                s.last_due,
                s.number * 10,
            )
            for s in Session.objects.filter(course=course)
            .annotate(task_count=Count("homework"), last_due=Min("homework__due_at"))
            .filter(task_count__gt=0)
        ]
    return [
        SourceItem(
            Kind.HOMEWORK,
            t.pk,
            f"S{t.session.number} homework {t.position}",
            1.0,
            t.due_at,
            t.session.number * 10,
        )
        for t in HomeworkTask.objects.filter(session__course=course).select_related("session")
    ]


@transaction.atomic
def gradebook_items_sync(*, course: Course) -> bool:
    """Create, update and remove the synced items so they match the course's quizzes, labs
    and homework (in the settings' homework mode). Returns whether anything that changes a
    total changed, in which case the caller refreshes every student."""
    settings = gradebook_settings_get(course=course)
    wanted = {
        (s.kind, s.source_id): s
        for s in [
            *_quiz_sources(course),
            *_lab_sources(course),
            *_homework_sources(course, settings.homework_mode),
        ]
    }
    existing = {
        (i.kind, i.source_id): i
        for i in GradeItem.objects.filter(course=course).exclude(kind=Kind.MANUAL)
    }
    changed = False
    stale = [item.pk for key, item in existing.items() if key not in wanted]
    if stale:
        GradeItem.objects.filter(pk__in=stale).delete()
        changed = True
    for key, source in wanted.items():
        item = existing.get(key)
        if item is None:
            item = GradeItem(
                course=course,
                kind=source.kind,
                source_id=source.source_id,
                category=_category_for(course, source.kind),
            )
        before = (item.title, item.points_possible, item.due_at, item.position)
        item.title, item.due_at, item.position = source.title[:255], source.due_at, source.position
        if not item.points_set:
            item.points_possible = source.points
        if item.pk is None or before != (
            item.title,
            item.points_possible,
            item.due_at,
            item.position,
        ):
            item.full_clean(validate_constraints=False)
            item.save()
            changed = True
    return changed


# --- refreshing cells and totals ------------------------------------------------------------


def _active_student_ids(course: Course, user_ids: Iterable[int] | None) -> list[int]:
    members = Membership.objects.filter(course=course, role=Membership.Role.STUDENT, is_active=True)
    if user_ids is not None:
        members = members.filter(user_id__in=list(user_ids))
    return list(members.values_list("user_id", flat=True))


def _source_results(items: list[GradeItem], students: list[int], settings, now):
    by_kind: dict[str, list[GradeItem]] = {}
    for item in items:
        by_kind.setdefault(item.kind, []).append(item)
    results = {}
    results |= sources.quiz_results(items=by_kind.get(Kind.QUIZ, []), student_ids=students)
    results |= sources.lab_results(
        items=by_kind.get(Kind.LAB, []),
        student_ids=students,
        choice=settings.lab_choice,
        now=now,
        lab_points=engine.lab_points,
    )
    results |= sources.homework_results(
        task_items=by_kind.get(Kind.HOMEWORK, []),
        session_items=by_kind.get(Kind.HOMEWORK_SESSION, []),
        student_ids=students,
    )
    return results


def engine_categories(categories: Iterable[GradeCategory]) -> list[engine.Category]:
    return [
        engine.Category(
            id=str(c.pk),
            name=c.name,
            weight=c.weight,
            drop_lowest=c.drop_lowest,
            drop_highest=c.drop_highest,
            late=None
            if c.late_deduct_percent is None
            else engine.LatePolicy(
                deduct_percent=c.late_deduct_percent,
                per=c.late_per,
                minimum_percent=c.late_minimum_percent,
                missing_as_zero=c.missing_as_zero,
            ),
        )
        for c in categories
    ]


def engine_items(items: Iterable[GradeItem]) -> list[engine.Item]:
    return [
        engine.Item(
            id=str(i.pk),
            category_id=str(i.category_id),
            points_possible=i.points_possible,
            due_at=i.due_at,
            never_drop=i.never_drop,
            extra_credit=i.extra_credit,
            released=i.released,
        )
        for i in items
    ]


def engine_cell(cell: GradeCell) -> engine.Cell:
    return engine.Cell(
        item_id=str(cell.item_id),
        score=cell.score,
        submitted_at=cell.submitted_at,
        excused=cell.excused,
        override=cell.override,
        due_at=cell.due_at,
        provisional=cell.provisional,
    )


def letter_scheme(settings: GradebookSettings) -> engine.LetterScheme:
    return engine.LetterScheme(
        cutoffs=tuple((str(k), float(v)) for k, v in settings.letter_cutoffs)
    )


def _apply_source(cell: GradeCell, result, history: list[CellHistory]) -> None:
    result = result or sources.SourceResult(None)
    if cell.pk is not None and cell.score != result.score:
        history.append(
            CellHistory(
                course_id=cell.item.course_id,
                student_id=cell.student_id,
                item_id=cell.item_id,
                field=CellHistory.Field.SCORE,
                old_value=_value(cell.score),
                new_value=_value(result.score),
                source=cell.item.kind,
            )
        )
    cell.score, cell.submitted_at = result.score, result.submitted_at
    cell.due_at, cell.provisional = result.due_at, result.provisional


_CELL_FIELDS = [
    "score",
    "submitted_at",
    "due_at",
    "provisional",
    "points",
    "status",
    "deduction",
    "dropped",
    "updated_at",
]


@transaction.atomic
def gradebook_student_refresh(
    *, course: Course, user_ids: Iterable[int] | None, now: datetime | None = None
) -> int:
    """Re-read the sources for these students (None: every active student), store their
    cells and recompute their totals. A constant number of queries per call, whatever the
    class size. Unenrolled students are left as they were (hidden, kept). Returns how many
    students were refreshed."""
    now = _now(now)
    settings = gradebook_settings_get(course=course)
    students = _active_student_ids(course, user_ids)
    if not students:
        return 0
    categories = list(GradeCategory.objects.filter(course=course))
    items = list(GradeItem.objects.filter(course=course))
    results = _source_results(items, students, settings, now)
    cells = {
        (c.item_id, c.student_id): c
        for c in GradeCell.objects.filter(item__course=course, student_id__in=students)
    }
    new, history = [], []
    e_categories, e_items = engine_categories(categories), engine_items(items)
    scheme = letter_scheme(settings)
    by_student: dict[int, list[GradeCell]] = {}
    for student_id in students:
        row = by_student.setdefault(student_id, [])
        for item in items:
            cell = cells.get((item.pk, student_id))
            if cell is None:
                cell = GradeCell(item=item, student_id=student_id)
                new.append(cell)
            cell.item = item
            if item.kind != Kind.MANUAL:
                _apply_source(cell, results.get((item.pk, student_id)), history)
            row.append(cell)
    totals = []
    for student_id, row in by_student.items():
        computed = engine.student_totals(
            categories=e_categories,
            items=e_items,
            cells=[engine_cell(c) for c in row],
            weighted=settings.weighted,
            now=now,
            scheme=scheme,
            include_unreleased=True,
        )
        for cell in row:
            result = computed.cells[str(cell.item_id)]
            cell.points, cell.status = result.points, result.status
            cell.deduction, cell.dropped = result.deduction, result.dropped
        totals.append(_totals_row(course, student_id, computed, now))
    GradeCell.objects.bulk_create(new, batch_size=2000)
    GradeCell.objects.bulk_update(
        [c for c in cells.values() if c.student_id in by_student], _CELL_FIELDS, batch_size=2000
    )
    CellHistory.objects.bulk_create(history)
    _note_extensions(settings, [c.due_at for c in cells.values()] + [c.due_at for c in new], now)
    StudentTotals.objects.bulk_create(
        totals,
        update_conflicts=True,
        unique_fields=["course", "student"],
        update_fields=[
            "current_percent",
            "final_percent",
            "current_letter",
            "final_letter",
            "categories",
            "computed_at",
            "updated_at",
        ],
    )
    return len(by_student)


def _note_extensions(settings: GradebookSettings, due: list, now: datetime) -> None:
    """A new per-student due date may come before the next refresh already planned."""
    upcoming = [d for d in due if d is not None and d > now]
    if upcoming and (settings.next_refresh_at is None or min(upcoming) < settings.next_refresh_at):
        settings.next_refresh_at = min(upcoming)
        settings.save(update_fields=["next_refresh_at", "updated_at"])


def _totals_row(course: Course, student_id: int, computed, now: datetime) -> StudentTotals:
    return StudentTotals(
        course=course,
        student_id=student_id,
        current_percent=computed.current_percent,
        final_percent=computed.final_percent,
        current_letter=computed.current_letter or "",
        final_letter=computed.final_letter or "",
        categories=category_json(computed),
        computed_at=now,
    )


def category_json(computed) -> dict:
    return {
        cid: {
            "earned": round(t.earned, 4),
            "possible": round(t.possible, 4),
            "percent": None if t.percent is None else round(t.percent, 4),
            "final_percent": None if t.final_percent is None else round(t.final_percent, 4),
        }
        for cid, t in computed.categories.items()
    }


def _next_deadline(course: Course, now: datetime) -> datetime | None:
    """The next moment a stored total goes stale by itself: a due date or an extension
    passing (missing work starts counting, a lab's private part is revealed)."""
    item_due = GradeItem.objects.filter(course=course, due_at__gt=now).aggregate(m=Min("due_at"))[
        "m"
    ]
    cell_due = GradeCell.objects.filter(item__course=course, due_at__gt=now).aggregate(
        m=Min("due_at")
    )["m"]
    return min((d for d in (item_due, cell_due) if d is not None), default=None)


def gradebook_ensure_fresh(
    *, course: Course, now: datetime | None = None, pending_for: list[int] | None = None
) -> GradebookSettings:
    """Before a page reads the stored results: the items are synced (a few queries); the
    first view computes everyone; later views recompute only when the items changed or a
    deadline has passed since the last time, never on every view; and the students whose
    refresh task is still queued (a student's own write) are caught up: all of them, or
    only those in `pending_for` (a student's own page catches up only that student)."""
    now = _now(now)
    settings = gradebook_settings_get(course=course)
    first = not StudentTotals.objects.filter(course=course).exists()
    due = settings.next_refresh_at is not None and settings.next_refresh_at <= now
    # A quiz, lab or task created since (no grade event for those) is a structure change.
    changed = gradebook_items_sync(course=course)
    if first or due or changed:
        with transaction.atomic():
            gradebook_student_refresh(course=course, user_ids=None, now=now)
            settings.next_refresh_at = _next_deadline(course, now)
            settings.save(update_fields=["next_refresh_at", "updated_at"])
    # Students whose refresh task has not run yet (gradebook/refresh.py), their mastery too,
    # which a course recompute above leaves out; imported here because that module builds
    # on this one.
    from gradebook.refresh import refresh_pending

    if refresh_pending(course=course, student_ids=pending_for):
        settings.refresh_from_db()
    return settings


def gradebook_course_refresh(*, course: Course, now: datetime | None = None) -> None:
    """Sync items and refresh every student (after a change to the course's structure)."""
    now = _now(now)
    settings = gradebook_settings_get(course=course)
    gradebook_items_sync(course=course)
    gradebook_student_refresh(course=course, user_ids=None, now=now)
    settings.next_refresh_at = _next_deadline(course, now)
    settings.save(update_fields=["next_refresh_at", "updated_at"])


# --- the instructor's changes ---------------------------------------------------------------


def _cell_for(*, item: GradeItem, student) -> GradeCell:
    if not Membership.objects.filter(
        course_id=item.course_id, user=student, role=Membership.Role.STUDENT
    ).exists():
        raise NotFoundError(f"No student {student} in {item.course.code}.")
    cell, _ = GradeCell.objects.select_for_update().get_or_create(item=item, student=student)
    return cell


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(
            "reason_required", "Say why you are changing this grade: the reason is kept."
        )
    return reason


def _points(value: float | None, *, item: GradeItem | None = None, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ApplicationError("invalid_score", f"The {what} must be a number of 0 or more.")
    return float(value)


@transaction.atomic
def cell_override_set(
    *, actor: Actor, item: GradeItem, student, override: float | None, reason: str
) -> GradeCell:
    """Replace the computed score of one cell (None removes the override); the reason and
    the old → new value go into the cell's history."""
    require_instructor(user=actor, course=item.course)
    require_writable(actor=actor, course=item.course)
    reason = _reason(reason)
    override = _points(override, what="override")
    cell = _cell_for(item=item, student=student)
    _history(actor, cell, CellHistory.Field.OVERRIDE, cell.override, override, reason)
    cell.override, cell.override_reason = override, reason if override is not None else ""
    cell.save(update_fields=["override", "override_reason", "updated_at"])
    gradebook_student_refresh(course=item.course, user_ids=[student.pk])
    return cell


@transaction.atomic
def cell_excused_set(
    *, actor: Actor, item: GradeItem, student, excused: bool, reason: str
) -> GradeCell:
    """Excuse a cell (EX: it drops out of every total) or take the excuse back."""
    require_instructor(user=actor, course=item.course)
    require_writable(actor=actor, course=item.course)
    reason = _reason(reason)
    cell = _cell_for(item=item, student=student)
    _history(actor, cell, CellHistory.Field.EXCUSED, cell.excused, excused, reason)
    cell.excused = excused
    cell.save(update_fields=["excused", "updated_at"])
    gradebook_student_refresh(course=item.course, user_ids=[student.pk])
    return cell


@transaction.atomic
def manual_score_set(
    *, actor: Actor, item: GradeItem, student, score: float | None, reason: str = ""
) -> GradeCell:
    """Enter a score on a manual item (participation, a paper exam)."""
    require_instructor(user=actor, course=item.course)
    require_writable(actor=actor, course=item.course)
    if item.kind != Kind.MANUAL:
        raise ApplicationError(
            "not_manual",
            f"{item.title} takes its scores from its {item.get_kind_display().lower()}: "
            "override the cell instead.",
        )
    score = _points(score, what="score")
    cell = _cell_for(item=item, student=student)
    _history(actor, cell, CellHistory.Field.SCORE, cell.score, score, reason.strip())
    cell.score = score
    cell.save(update_fields=["score", "updated_at"])
    gradebook_student_refresh(course=item.course, user_ids=[student.pk])
    return cell


def _history(actor, cell: GradeCell, field: str, old, new, reason: str) -> None:
    if old == new:
        return
    CellHistory.objects.create(
        course_id=cell.item.course_id,
        student_id=cell.student_id,
        item_id=cell.item_id,
        field=field,
        old_value=_value(old),
        new_value=_value(new),
        reason=reason,
        changed_by=_person(actor),
        source="" if _person(actor) else str(actor),
    )


@transaction.atomic
def final_grade_override_set(
    *, actor: Actor, course: Course, student, percent: float | None, reason: str
) -> FinalGradeOverride | None:
    """Override a student's final grade (None removes it); kept in the history."""
    require_instructor(user=actor, course=course)
    require_writable(actor=actor, course=course)
    reason = _reason(reason)
    percent = _points(percent, what="final grade")
    if not Membership.objects.filter(
        course=course, user=student, role=Membership.Role.STUDENT
    ).exists():
        raise NotFoundError(f"No student {student} in {course.code}.")
    current = FinalGradeOverride.objects.filter(course=course, student=student).first()
    old = current.percent if current else None
    if old != percent:
        CellHistory.objects.create(
            course=course,
            student=student,
            field=CellHistory.Field.FINAL,
            old_value=_value(old),
            new_value=_value(percent),
            reason=reason,
            changed_by=_person(actor),
        )
    if percent is None:
        if current:
            current.delete()
        return None
    settings = gradebook_settings_get(course=course)
    override = current or FinalGradeOverride(course=course, student=student)
    override.percent, override.reason, override.set_by = percent, reason, _person(actor)
    override.letter = letter_scheme(settings).letter(percent) or ""
    override.full_clean(validate_constraints=False)
    override.save()
    return override


ITEM_FIELDS = (
    "title",
    "points_possible",
    "due_at",
    "released",
    "extra_credit",
    "never_drop",
    "lab_floor",
    "lab_target",
    "category",
)


@transaction.atomic
def grade_item_update(*, actor: Actor, item: GradeItem, **fields) -> GradeItem:
    """Change an item (release it, its points, category, lab mapping); every student's
    totals follow."""
    require_instructor(user=actor, course=item.course)
    require_writable(actor=actor, course=item.course)
    unknown = set(fields) - set(ITEM_FIELDS)
    if unknown:
        raise ApplicationError("invalid", f"Unknown item field {sorted(unknown)[0]!r}.")
    if "category" in fields and fields["category"].course_id != item.course_id:
        raise NotFoundError("No such category in this course.")
    # Only a real change of points pins them: saving the form unchanged keeps a synced item
    # following its quiz's marks.
    if "points_possible" in fields and fields["points_possible"] != item.points_possible:
        item.points_set = True
    for name, value in fields.items():
        setattr(item, name, value)
    if item.kind == Kind.LAB and item.lab_target <= item.lab_floor:
        raise ApplicationError(
            "invalid_lab_mapping",
            "The lab's target (full marks) must be above its floor (0 points).",
        )
    item.full_clean(validate_constraints=False)
    item.save()
    gradebook_course_refresh(course=item.course)
    return item


@transaction.atomic
def manual_item_create(
    *,
    actor: Actor,
    course: Course,
    title: str,
    points_possible: float,
    category: GradeCategory | None = None,
    due_at: datetime | None = None,
) -> GradeItem:
    require_instructor(user=actor, course=course)
    require_writable(actor=actor, course=course)
    gradebook_settings_get(course=course)
    if category is not None and category.course_id != course.pk:
        raise NotFoundError("No such category in this course.")
    if not title.strip():
        raise ApplicationError("invalid", "Give the item a title, e.g. 'Participation'.")
    item = GradeItem(
        course=course,
        kind=Kind.MANUAL,
        title=title.strip(),
        points_possible=_points(points_possible, what="points possible") or 0.0,
        points_set=True,
        category=category or _category_for(course, Kind.MANUAL),
        due_at=due_at,
        position=10_000 + GradeItem.objects.filter(course=course, kind=Kind.MANUAL).count(),
    )
    item.full_clean(validate_constraints=False)
    item.save()
    gradebook_student_refresh(course=course, user_ids=None)
    return item


@dataclass(frozen=True)
class ScoreImport:
    updated: int
    unchanged: int


def _student_lookup(course: Course) -> dict[str, int]:
    """Every way a CSV may name a student: username, email, roster student id."""
    lookup: dict[str, int] = {}
    students = User.objects.filter(
        memberships__course=course, memberships__role=Membership.Role.STUDENT
    )
    for pk, username, email in students.values_list("pk", "username", "email"):
        lookup[username.lower()] = pk
        if email:
            lookup[email.lower()] = pk
    for user_id, sid in (
        Profile.objects.filter(user__in=students)
        .exclude(student_id="")
        .values_list("user_id", "student_id")
    ):
        lookup[sid.lower()] = user_id
    return lookup


@transaction.atomic
def manual_scores_import(
    *, actor: Actor, item: GradeItem, source: str, reason: str = "CSV import"
) -> ScoreImport:
    """Scores for a manual item from CSV with a `student` column (username, email or student
    id) and a `score` column (blank clears it, EX excuses). All rows or none."""
    require_instructor(user=actor, course=item.course)
    require_writable(actor=actor, course=item.course)
    if item.kind != Kind.MANUAL:
        raise ApplicationError("not_manual", "Only manual items take imported scores.")
    reader = csv.DictReader(io.StringIO(source.lstrip("\ufeff")))
    fields = {(f or "").strip().lower(): f for f in reader.fieldnames or []}
    if "student" not in fields or "score" not in fields:
        raise ApplicationError(
            "invalid_csv",
            "The CSV needs a header with `student` (username, email or student id) and "
            "`score` columns.",
        )
    lookup = _student_lookup(item.course)
    parsed, errors = [], []
    for line, row in enumerate(reader, start=2):
        who = (row.get(fields["student"]) or "").strip()
        raw = (row.get(fields["score"]) or "").strip()
        user_id = lookup.get(who.lower())
        if user_id is None:
            errors.append(f"line {line}: no student {who!r} in {item.course.code}")
            continue
        if raw.upper() == "EX":
            parsed.append((user_id, None, True))
            continue
        try:
            score = float(raw) if raw else None
        except ValueError:
            errors.append(f"line {line}: {raw!r} is not a number")
            continue
        if score is not None and score < 0:
            errors.append(f"line {line}: a score cannot be negative")
            continue
        parsed.append((user_id, score, False))
    if errors:
        raise ApplicationError(
            "invalid_csv", "Nothing was imported. Fix these rows: " + "; ".join(errors[:10])
        )
    cells = {c.student_id: c for c in GradeCell.objects.filter(item=item)}
    updated = unchanged = 0
    for user_id, score, excused in parsed:
        cell = cells.get(user_id) or GradeCell(item=item, student_id=user_id)
        if cell.pk is not None and cell.score == score and cell.excused == excused:
            unchanged += 1
            continue
        _history(actor, cell, CellHistory.Field.SCORE, cell.score, score, reason)
        if cell.excused != excused:
            _history(actor, cell, CellHistory.Field.EXCUSED, cell.excused, excused, reason)
        cell.score, cell.excused = score, excused
        cell.save()
        updated += 1
    gradebook_student_refresh(course=item.course, user_ids=[u for u, _, _ in parsed])
    return ScoreImport(updated=updated, unchanged=unchanged)


SETTINGS_FIELDS = (
    "weighted",
    "letter_cutoffs",
    "lab_choice",
    "homework_mode",
    "mastery_method",
    "mastery_weight",
    "mastery_n",
    "mastery_threshold",
    "mastery_near_margin",
)


@transaction.atomic
def gradebook_settings_update(*, actor: Actor, course: Course, **fields) -> GradebookSettings:
    require_instructor(user=actor, course=course)
    require_writable(actor=actor, course=course)
    settings = gradebook_settings_get(course=course)
    unknown = set(fields) - set(SETTINGS_FIELDS)
    if unknown:
        raise ApplicationError("invalid", f"Unknown gradebook setting {sorted(unknown)[0]!r}.")
    for name, value in fields.items():
        setattr(settings, name, value)
    try:
        letters = [str(letter).strip() for letter, _cutoff in settings.letter_cutoffs]
        letter_scheme(settings)
    except (ValueError, TypeError) as error:
        raise ApplicationError("invalid_letter_scheme", str(error)) from error
    if any(not letter or len(letter) > 8 for letter in letters) or len(set(letters)) != len(
        letters
    ):
        raise ApplicationError(
            "invalid_letter_scheme",
            "Give each cut-off its own letter of 1 to 8 characters, e.g. 'A', 'B+', 'Pass'.",
        )
    settings.full_clean()
    settings.save()
    gradebook_course_refresh(course=course)
    return settings


CATEGORY_FIELDS = (
    "name",
    "weight",
    "drop_lowest",
    "drop_highest",
    "late_deduct_percent",
    "late_per",
    "late_minimum_percent",
    "missing_as_zero",
    "position",
)


@transaction.atomic
def grade_category_save(
    *, actor: Actor, course: Course, category: GradeCategory | None = None, **fields
) -> GradeCategory:
    """Create a category, or change one (weights, drops, late policy)."""
    require_instructor(user=actor, course=course)
    require_writable(actor=actor, course=course)
    gradebook_settings_get(course=course)
    unknown = set(fields) - set(CATEGORY_FIELDS)
    if unknown:
        raise ApplicationError("invalid", f"Unknown category field {sorted(unknown)[0]!r}.")
    if category is not None and category.course_id != course.pk:
        raise NotFoundError("No such category in this course.")
    category = category or GradeCategory(
        course=course, position=GradeCategory.objects.filter(course=course).count()
    )
    for name, value in fields.items():
        setattr(category, name, value)
    category.name = (category.name or "").strip()
    taken = GradeCategory.objects.filter(course=course, name__iexact=category.name)
    if category.pk is not None:
        taken = taken.exclude(pk=category.pk)
    if not category.name or taken.exists():
        raise ApplicationError(
            "invalid_category",
            f"Give the category a name not used yet in {course.code}, e.g. 'Exams'.",
        )
    category.full_clean()
    category.save()
    gradebook_course_refresh(course=course)
    return category


@transaction.atomic
def grade_category_delete(*, actor: Actor, category: GradeCategory) -> None:
    """Delete an empty category; one that still holds items is refused (their grades would
    have nowhere to count), and a course always keeps one category."""
    course = category.course
    require_instructor(user=actor, course=course)
    require_writable(actor=actor, course=course)
    count = GradeItem.objects.filter(category=category).count()
    if count:
        raise ApplicationError(
            "category_not_empty",
            f"{category.name} still holds {count} item{'s' if count != 1 else ''}: move "
            "them to another category first (Items, below), then delete it.",
        )
    if GradeCategory.objects.filter(course=course).count() <= 1:
        raise ApplicationError(
            "last_category", "A gradebook needs at least one category: add another first."
        )
    category.delete()
    gradebook_course_refresh(course=course)
