"""The gradebook engine: plain Python, no Django. Items, categories and cells in, totals out."""

from .mastery import METHODS, mastery_level, mastery_score
from .totals import lab_points, late_deduction, late_periods, student_totals
from .types import (
    DEFAULT_LETTER_SCHEME,
    Category,
    CategoryTotal,
    Cell,
    CellResult,
    Item,
    LatePolicy,
    LetterScheme,
    Totals,
)

__all__ = [
    "DEFAULT_LETTER_SCHEME",
    "METHODS",
    "Category",
    "CategoryTotal",
    "Cell",
    "CellResult",
    "Item",
    "LatePolicy",
    "LetterScheme",
    "Totals",
    "lab_points",
    "late_deduction",
    "late_periods",
    "mastery_level",
    "mastery_score",
    "student_totals",
]
