"""The gradebook engine's values: frozen dataclasses, no Django, no database.

The app (gradebook/models.py) maps its rows onto these, calls `student_totals` and stores what it
returns; nothing here knows where the numbers came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Period = Literal["day", "hour"]
CellStatus = Literal["graded", "late", "missing", "excused", "ungraded", "provisional"]


@dataclass(frozen=True)
class LatePolicy:
    """Canvas's late policy for one category.

    `deduct_percent` of points possible comes off per `per` late, counting every started period
    (1 minute late is 1 period), never below `minimum_percent` of points possible. Missing work
    (no score, no submission, past the due date) counts 0 in the current total too when
    `missing_as_zero`; otherwise it is left out of the current total (and 0 in the final one).
    """

    deduct_percent: float
    per: Period
    minimum_percent: float = 0.0
    missing_as_zero: bool = True

    def __post_init__(self) -> None:
        if self.per not in ("day", "hour"):
            raise ValueError(f"LatePolicy.per must be 'day' or 'hour', not {self.per!r}.")
        if not 0 <= self.deduct_percent <= 100 or not 0 <= self.minimum_percent <= 100:
            raise ValueError("LatePolicy percentages must be between 0 and 100.")


@dataclass(frozen=True)
class Category:
    """An assignment group (Homework, Quizzes, Labs, …) with its weight and rules."""

    id: str
    name: str
    weight: float | None = None
    drop_lowest: int = 0
    drop_highest: int = 0
    late: LatePolicy | None = None

    def __post_init__(self) -> None:
        if self.drop_lowest < 0 or self.drop_highest < 0:
            raise ValueError(f"Category {self.id}: drop counts cannot be negative.")
        if self.weight is not None and self.weight < 0:
            raise ValueError(f"Category {self.id}: weight cannot be negative.")


@dataclass(frozen=True)
class Item:
    """One gradable column: a quiz, a lab, a homework task or session, or a manual item."""

    id: str
    category_id: str
    points_possible: float
    due_at: datetime | None = None
    never_drop: bool = False
    extra_credit: bool = False
    # Unreleased items are computed (the instructor sees them) but left out of the student's
    # totals, so the total a student sees never reveals a hidden score.
    released: bool = True


@dataclass(frozen=True)
class Cell:
    """One student's result on one item, as stored (before any rule is applied)."""

    item_id: str
    score: float | None = None
    submitted_at: datetime | None = None
    excused: bool = False
    override: float | None = None
    due_at: datetime | None = None  # a per-student extension replaces Item.due_at
    provisional: bool = False


@dataclass(frozen=True)
class CellResult:
    """One cell after the rules: `points` is what counts (late deduction taken off).

    `counted`/`dropped` describe the current total; `counted_in_final`/`dropped_in_final` the
    final one (where missing and ungraded work counts 0, so drops can fall differently).
    """

    item_id: str
    points: float | None
    status: CellStatus
    deduction: float
    counted: bool
    dropped: bool
    counted_in_final: bool = False
    dropped_in_final: bool = False
    released: bool = True
    late_periods: int = 0
    overridden: bool = False


@dataclass(frozen=True)
class CategoryTotal:
    """A category's current total; `percent` is None when nothing in it counts yet."""

    category_id: str
    earned: float
    possible: float
    percent: float | None
    final_earned: float = 0.0
    final_possible: float = 0.0
    final_percent: float | None = None


@dataclass(frozen=True)
class LetterScheme:
    """Cut-offs from the top: a percent gets the first letter whose cut-off it reaches."""

    cutoffs: tuple[tuple[str, float], ...]

    def __post_init__(self) -> None:
        values = [cutoff for _, cutoff in self.cutoffs]
        if not values:
            raise ValueError("A letter scheme needs at least one cut-off.")
        if values != sorted(values, reverse=True) or len(set(values)) != len(values):
            raise ValueError("Letter cut-offs must be listed from the highest, each lower.")
        if values[-1] != 0:
            raise ValueError("The last letter cut-off must be 0 so every percent gets a letter.")

    def letter(self, percent: float | None) -> str | None:
        if percent is None:
            return None
        # Float sums such as 0.1 + 0.2 land a hair under a cut-off; round before comparing.
        rounded = round(percent, 6)
        for letter, cutoff in self.cutoffs:
            if rounded >= cutoff:
                return letter
        return self.cutoffs[-1][0]


DEFAULT_LETTER_SCHEME = LetterScheme(
    cutoffs=(("A", 90.0), ("B", 80.0), ("C", 70.0), ("D", 60.0), ("F", 0.0))
)


@dataclass(frozen=True)
class Totals:
    """A student's course totals: current (ungraded left out) and final (missing as 0)."""

    current_percent: float | None
    final_percent: float | None
    current_letter: str | None
    final_letter: str | None
    categories: dict[str, CategoryTotal] = field(default_factory=dict)
    cells: dict[str, CellResult] = field(default_factory=dict)
