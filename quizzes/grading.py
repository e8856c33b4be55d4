"""Automatic grading: plain Python, no database.

`grade(content, response)` scores one response to one question version as a fraction of the
question's mark, in [0, 1]. Responses are in canonical form (answer positions in the
question's own order, see quizzes.presentation):

- single_choice {"choice": i}; multiple_choice {"choices": [i, ...]}
- true_false {"value": bool}; short_answer {"text": str}; numerical {"value": str | number}
- matching {"matches": {"<pair index>": choice index}}; essay {"text": str}

Every fraction is clamped to [0, 1]: negative weights can cancel credit within a question
but never take marks away from other questions. The score of each type comes from its
plug-in's `grade` hook (quizzes.qtypes); this module turns it into a state and a clamped mark.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from quizzes import qtypes

CORRECT = "correct"
PARTIAL = "partial"
INCORRECT = "incorrect"
UNANSWERED = "unanswered"
NEEDS_GRADING = "needs_grading"
INFO = "info"  # a description: nothing to grade

GRADING_METHODS = ("highest", "average", "first", "last")


@dataclass(frozen=True)
class Grade:
    fraction: float | None  # None: waits for an instructor (essay)
    state: str
    feedback: list[str] = field(default_factory=list)  # for the answers the student gave


# Moodle's question_state::graded_state_for_fraction: within this of 1 is right, within it
# of 0 is wrong. Weights stored with 7 digits (three at 0.3333333) add up to 0.9999999.
STATE_TOLERANCE = 1e-6


def state_for(fraction: float) -> str:
    if fraction > 1 - STATE_TOLERANCE:
        return CORRECT
    if fraction < STATE_TOLERANCE:
        return INCORRECT
    return PARTIAL


def clamp(value: float) -> float:
    """The fraction in [0, 1]; one within STATE_TOLERANCE of 1 or 0 *is* 1 or 0, so the mark,
    the attempt's total and the state agree ("Correct", 1 out of 1)."""
    # Not rounded otherwise: a mark is fraction x max mark, and 2/3 rounded first would give
    # 2.0000001 out of 3.
    if value > 1 - STATE_TOLERANCE:
        return 1.0
    if value < STATE_TOLERANCE:
        return 0.0
    return value


def is_blank(content: dict[str, Any], response: Any) -> bool:
    """Whether a response says nothing (so the question counts as not answered)."""
    if not isinstance(response, dict) or not response:
        return True
    return qtypes.get(content["type"]).is_blank(response)


def grade(content: dict[str, Any], response: Any) -> Grade:
    plugin = qtypes.get(content["type"])
    if not plugin.answerable:
        return Grade(None, INFO)
    if is_blank(content, response):
        # An unanswered essay scores 0 at once: nothing for an instructor to read.
        return Grade(0.0, UNANSWERED)
    scored = plugin.grade(content, response)
    if scored is None:
        return Grade(None, NEEDS_GRADING)
    fraction, feedback = scored
    fraction = clamp(fraction)
    return Grade(fraction, state_for(fraction), [f for f in feedback if f])


def right_answer(content: dict[str, Any]) -> str:
    """A one-line statement of the right answer, for review."""
    return qtypes.get(content["type"]).right_answer(content)


def quiz_grade(scores: Sequence[float | None], method: str) -> float | None:
    """The grade a student keeps from their finished attempts' scores, oldest first. None
    stands for an attempt still waiting for an essay mark: "first" and "last" wait for that
    attempt; "highest" and "average" use the graded ones."""
    if method not in GRADING_METHODS:
        raise ValueError(f"Unknown grading method {method!r}")
    if not scores:
        return None
    if method == "first":
        return scores[0]
    if method == "last":
        return scores[-1]
    graded = [s for s in scores if s is not None]
    if not graded:
        return None
    if method == "highest":
        return max(graded)
    return round(sum(graded) / len(graded), 7)


def round_percentage(value: float | None) -> float | None:
    """A percentage as every page, export and API response shows it: one decimal, halves
    up (as Django's floatformat), from the unrounded value. Rounding once, here, is what
    keeps 3.846 at 3.8 everywhere (rounded to 3.85 first, it became 3.9 in a table)."""
    if value is None:
        return None
    return float(Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
