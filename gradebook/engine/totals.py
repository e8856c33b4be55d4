"""A student's course totals from items, categories and cells, the way Canvas computes them.

Two totals come out of one pass: *current* leaves ungraded work out (what the student has
earned of what has been graded), *final* counts missing and ungraded work as 0 (what the grade
would be if nothing more came in). Every rule is in docs/gradebook.md with a worked example.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from .types import (
    DEFAULT_LETTER_SCHEME,
    Category,
    CategoryTotal,
    Cell,
    CellResult,
    CellStatus,
    Item,
    LatePolicy,
    LetterScheme,
    Totals,
)

PERIOD_SECONDS = {"day": 86_400, "hour": 3_600}


@dataclass(frozen=True)
class _Scored:
    """One cell after its own rules, before drops: None means 'not in that total'."""

    status: CellStatus
    current: float | None
    final: float | None
    deduction: float = 0.0
    late_periods: int = 0
    overridden: bool = False


def late_periods(submitted_at: datetime, due_at: datetime, per: str) -> int:
    """Started periods between the due date and the submission: 1 minute late is 1 day late."""
    seconds = (submitted_at - due_at).total_seconds()
    return max(0, math.ceil(seconds / PERIOD_SECONDS[per]))


def late_deduction(
    *, score: float, points_possible: float, periods: int, policy: LatePolicy
) -> float:
    """Points taken off: `deduct_percent` of possible per period, never below the minimum.

    The minimum only stops the deduction: a score already under it is not raised (Canvas).
    """
    wanted = periods * policy.deduct_percent / 100 * points_possible
    room = max(0.0, score - policy.minimum_percent / 100 * points_possible)
    return min(wanted, room)


def _score_submitted(item: Item, cell: Cell, category: Category) -> _Scored:
    due = cell.due_at or item.due_at
    periods = 0
    if cell.submitted_at is not None and due is not None and cell.submitted_at > due:
        periods = late_periods(
            cell.submitted_at, due, category.late.per if category.late else "day"
        )
    deduction = 0.0
    if periods and category.late is not None:
        deduction = late_deduction(
            score=cell.score,
            points_possible=item.points_possible,
            periods=periods,
            policy=category.late,
        )
    status: CellStatus = "provisional" if cell.provisional else ("late" if periods else "graded")
    points = cell.score - deduction
    return _Scored(status, points, points, deduction, periods)


def _score_unscored(item: Item, cell: Cell, category: Category, now: datetime) -> _Scored:
    due = cell.due_at or item.due_at
    if cell.submitted_at is None and due is not None and now > due:
        as_zero = category.late is not None and category.late.missing_as_zero
        return _Scored("missing", 0.0 if as_zero else None, 0.0)
    # Submitted and waiting for a grade, or not due yet: only the final total counts it, as 0.
    return _Scored("ungraded", None, 0.0)


def score_cell(item: Item, cell: Cell, category: Category, now: datetime) -> _Scored:
    """The rules that need only this cell: excused, override, late, missing, ungraded."""
    if cell.excused:
        return _Scored("excused", None, None)
    if cell.override is not None:
        # The instructor's number is final: no late deduction on top of it.
        return _Scored("graded", cell.override, cell.override, overridden=True)
    if cell.score is not None:
        return _score_submitted(item, cell, category)
    return _score_unscored(item, cell, category, now)


def _drops(entries: Sequence[tuple[Item, float]], category: Category) -> set[str]:
    """Item ids dropped in one category for one total: lowest N then highest N by percentage.

    Never-drop and zero-point (extra-credit) items are never candidates, and at least one
    counted item always stays, as Canvas keeps one.
    """
    if not (category.drop_lowest or category.drop_highest):
        return set()
    graded = [(item, points) for item, points in entries if item.points_possible > 0]
    candidates = [
        (points / item.points_possible, index, item.id)
        for index, (item, points) in enumerate(graded)
        if not item.never_drop and not item.extra_credit
    ]
    room = len([1 for item, _ in graded if not item.extra_credit]) - 1
    low = min(category.drop_lowest, len(candidates), max(room, 0))
    candidates.sort()
    dropped = {item_id for _, _, item_id in candidates[:low]}
    rest = candidates[low:]
    high = min(category.drop_highest, len(rest), max(room - low, 0))
    dropped |= {item_id for _, _, item_id in rest[len(rest) - high :]} if high else set()
    return dropped


def _sum(entries: Iterable[tuple[Item, float]], dropped: set[str]) -> tuple[float, float]:
    earned = possible = 0.0
    for item, points in entries:
        if item.id in dropped:
            continue
        earned += points
        if not item.extra_credit:
            possible += item.points_possible
    return earned, possible


def _percent(earned: float, possible: float) -> float | None:
    return earned / possible * 100 if possible > 0 else None


def _course_percent(
    categories: Sequence[Category],
    sums: dict[str, tuple[float, float]],
    weighted: bool,
) -> float | None:
    if not weighted:
        earned = sum(e for e, _ in sums.values())
        possible = sum(p for _, p in sums.values())
        return _percent(earned, possible)
    # Canvas: categories with nothing counted drop out and the others' weights are scaled up
    # to 100; weights summing past 100 are not scaled down (the excess acts as extra credit).
    total = full_weight = 0.0
    for category in categories:
        earned, possible = sums[category.id]
        if possible <= 0:
            continue
        weight = category.weight or 0.0
        full_weight += weight
        total += earned / possible * weight
    if full_weight <= 0:
        return None
    return total * 100 / full_weight if full_weight < 100 else total


def student_totals(
    *,
    categories: Sequence[Category],
    items: Sequence[Item],
    cells: Iterable[Cell],
    weighted: bool,
    now: datetime,
    scheme: LetterScheme = DEFAULT_LETTER_SCHEME,
    include_unreleased: bool = False,
) -> Totals:
    """One student's totals. `include_unreleased=False` is the student's view: unreleased
    items are still computed (their CellResult says released=False) but count in no total and
    take part in no drop, so nothing shown to the student depends on a hidden score. The
    instructor's view passes True."""
    by_id = {category.id: category for category in categories}
    cell_by_item = {cell.item_id: cell for cell in cells}
    scored: dict[str, _Scored] = {}
    current: dict[str, list[tuple[Item, float]]] = {category.id: [] for category in categories}
    final: dict[str, list[tuple[Item, float]]] = {category.id: [] for category in categories}
    for item in items:
        category = by_id.get(item.category_id)
        if category is None:
            raise ValueError(f"Item {item.id} names category {item.category_id!r}, not given.")
        result = score_cell(item, cell_by_item.get(item.id) or Cell(item.id), category, now)
        scored[item.id] = result
        if not item.released and not include_unreleased:
            continue
        if result.current is not None:
            current[item.category_id].append((item, result.current))
        if result.final is not None:
            final[item.category_id].append((item, result.final))
    dropped_now = {cid: _drops(current[cid], by_id[cid]) for cid in current}
    dropped_final = {cid: _drops(final[cid], by_id[cid]) for cid in final}
    sums_now = {cid: _sum(current[cid], dropped_now[cid]) for cid in current}
    sums_final = {cid: _sum(final[cid], dropped_final[cid]) for cid in final}
    counted_now = {item.id for entries in current.values() for item, _ in entries}
    counted_final = {item.id for entries in final.values() for item, _ in entries}
    all_dropped_now = set().union(*dropped_now.values())
    all_dropped_final = set().union(*dropped_final.values())
    cell_results = {
        item.id: CellResult(
            item_id=item.id,
            points=scored[item.id].current,
            status=scored[item.id].status,
            deduction=scored[item.id].deduction,
            counted=item.id in counted_now and item.id not in all_dropped_now,
            dropped=item.id in all_dropped_now,
            counted_in_final=item.id in counted_final and item.id not in all_dropped_final,
            dropped_in_final=item.id in all_dropped_final,
            released=item.released,
            late_periods=scored[item.id].late_periods,
            overridden=scored[item.id].overridden,
        )
        for item in items
    }
    category_totals = {
        cid: CategoryTotal(
            category_id=cid,
            earned=sums_now[cid][0],
            possible=sums_now[cid][1],
            percent=_percent(*sums_now[cid]),
            final_earned=sums_final[cid][0],
            final_possible=sums_final[cid][1],
            final_percent=_percent(*sums_final[cid]),
        )
        for cid in by_id
    }
    current_percent = _course_percent(categories, sums_now, weighted)
    final_percent = _course_percent(categories, sums_final, weighted)
    return Totals(
        current_percent=current_percent,
        final_percent=final_percent,
        current_letter=scheme.letter(current_percent),
        final_letter=scheme.letter(final_percent),
        categories=category_totals,
        cells=cell_results,
    )


def lab_points(
    *, metric: float | None, floor: float, target: float, points_possible: float
) -> float | None:
    """A lab metric mapped linearly to points: `floor` → 0, `target` → full marks, clamped.

    0.40 → 0, 0.80 → 10 on a 10-point lab: a macro-F1 of 0.70 earns (0.70 - 0.40) / 0.40 * 10
    = 7.5 points. None (no submission scored) stays None.
    """
    if target <= floor:
        raise ValueError(
            f"A lab's target ({target}) must be above its floor ({floor}): "
            "set the metric that earns full marks higher than the one that earns 0."
        )
    if metric is None:
        return None
    fraction = min(1.0, max(0.0, (metric - floor) / (target - floor)))
    return fraction * points_possible
