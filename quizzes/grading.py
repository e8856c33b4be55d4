"""Automatic grading: plain Python, no database.

`grade(content, response)` scores one response to one question version as a fraction of the
question's mark, in [0, 1]. Responses are in canonical form (answer positions in the
question's own order, see quizzes.presentation):

- single_choice {"choice": i}; multiple_choice {"choices": [i, ...]}
- true_false {"value": bool}; short_answer {"text": str}; numerical {"value": str | number}
- matching {"matches": {"<pair index>": choice index}}; essay {"text": str}

Every fraction is clamped to [0, 1]: negative weights can cancel credit within a question
but never take marks away from other questions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from quizzes.content import (
    DESCRIPTION,
    ESSAY,
    MATCHING,
    MULTIPLE_CHOICE,
    NUMERICAL,
    SHORT_ANSWER,
    SINGLE_CHOICE,
    TRUE_FALSE,
    matching_choices,
    matching_stems,
)

CORRECT = "correct"
PARTIAL = "partial"
INCORRECT = "incorrect"
UNANSWERED = "unanswered"
NEEDS_GRADING = "needs_grading"
INFO = "info"  # a description: nothing to grade

GRADING_METHODS = ("highest", "average", "first", "last")
# Relative slack for numbers typed in decimal: 3.15 - 3.14 is 0.010000000000000231 in binary,
# and a student typing the edge of a ±0.01 tolerance must get the mark.
_FLOAT_SLACK = 1e-9


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
    qtype = content["type"]
    if qtype == SINGLE_CHOICE:
        return response.get("choice") is None
    if qtype == MULTIPLE_CHOICE:
        return not response.get("choices")
    if qtype == TRUE_FALSE:
        return not isinstance(response.get("value"), bool)
    if qtype in (SHORT_ANSWER, ESSAY):
        return not str(response.get("text") or "").strip()
    if qtype == NUMERICAL:
        return str(response.get("value") if response.get("value") is not None else "").strip() == ""
    if qtype == MATCHING:
        return not response.get("matches")
    return True


def grade(content: dict[str, Any], response: Any) -> Grade:
    qtype = content["type"]
    if qtype == DESCRIPTION:
        return Grade(None, INFO)
    if is_blank(content, response):
        # An unanswered essay scores 0 at once: nothing for an instructor to read.
        return Grade(0.0, UNANSWERED)
    if qtype == ESSAY:
        return Grade(None, NEEDS_GRADING)
    fraction, feedback = _GRADERS[qtype](content, response)
    fraction = clamp(fraction)
    return Grade(fraction, state_for(fraction), [f for f in feedback if f])


def _single(content: dict, response: dict) -> tuple[float, list[str]]:
    answer = content["answers"][response["choice"]]
    return answer["fraction"], [answer["feedback"]]


def _multiple(content: dict, response: dict) -> tuple[float, list[str]]:
    chosen = [content["answers"][i] for i in sorted(set(response["choices"]))]
    return sum(a["fraction"] for a in chosen), [a["feedback"] for a in chosen]


def _true_false(content: dict, response: dict) -> tuple[float, list[str]]:
    value = response["value"]
    feedback = content["feedback_true"] if value else content["feedback_false"]
    return (1.0 if value == content["correct"] else 0.0), [feedback]


def _normalise_text(text: str, *, case_sensitive: bool) -> str:
    flat = " ".join(text.split())
    return flat if case_sensitive else flat.casefold()


def short_answer_matches(pattern: str, text: str, *, case_sensitive: bool) -> bool:
    """Moodle's rule: `*` in an accepted answer matches any run of characters."""
    pattern = _normalise_text(pattern, case_sensitive=case_sensitive)
    text = _normalise_text(text, case_sensitive=case_sensitive)
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, text, flags=re.DOTALL) is not None


def _short_answer(content: dict, response: dict) -> tuple[float, list[str]]:
    text = str(response["text"])
    # As in Moodle, the first accepted answer that matches decides (order them best first).
    for answer in content["answers"]:
        if short_answer_matches(
            answer["text"], text, case_sensitive=content.get("case_sensitive", False)
        ):
            return answer["fraction"], [answer["feedback"]]
    return 0.0, []


def parse_number(raw: Any) -> float | None:
    """A typed number: '1 234,5' style thousands/decimal commas are not guessed at; a lone
    comma is read as a decimal point (students type 3,14)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return float(raw) if math.isfinite(raw) else None
    text = str(raw).strip().replace(" ", "")
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def numerical_matches(answer: dict, value: float) -> bool:
    if answer["value"] is None:
        return True
    slack = _FLOAT_SLACK * max(1.0, abs(answer["value"]), answer["tolerance"])
    return abs(value - answer["value"]) <= answer["tolerance"] + slack


def _numerical(content: dict, response: dict) -> tuple[float, list[str]]:
    value = parse_number(response["value"])
    if value is None:
        return 0.0, ["That is not a number."]
    for answer in content["answers"]:
        if numerical_matches(answer, value):
            return answer["fraction"], [answer["feedback"]]
    return 0.0, []


def _matching(content: dict, response: dict) -> tuple[float, list[str]]:
    choices = matching_choices(content)
    stems = matching_stems(content)
    matches = response["matches"]
    right = 0
    for index in stems:
        chosen = matches.get(str(index))
        if chosen is not None and choices[chosen] == content["pairs"][index]["answer"]:
            right += 1
    return right / len(stems), []


_GRADERS = {
    SINGLE_CHOICE: _single,
    MULTIPLE_CHOICE: _multiple,
    TRUE_FALSE: _true_false,
    SHORT_ANSWER: _short_answer,
    NUMERICAL: _numerical,
    MATCHING: _matching,
}


def right_answer(content: dict[str, Any]) -> str:
    """A one-line statement of the right answer, for review."""
    qtype = content["type"]
    if qtype in (SINGLE_CHOICE, MULTIPLE_CHOICE):
        best = max(a["fraction"] for a in content["answers"])
        if qtype == SINGLE_CHOICE:
            return next(a["text"] for a in content["answers"] if a["fraction"] == best)
        return "; ".join(a["text"] for a in content["answers"] if a["fraction"] > 0)
    if qtype == TRUE_FALSE:
        return "True" if content["correct"] else "False"
    if qtype == SHORT_ANSWER:
        return next(a["text"] for a in content["answers"] if a["fraction"] >= 1)
    if qtype == NUMERICAL:
        a = next(a for a in content["answers"] if a["value"] is not None and a["fraction"] >= 1)
        return f"{a['value']:g}" + (f" ± {a['tolerance']:g}" if a["tolerance"] else "")
    if qtype == MATCHING:
        return "; ".join(
            f"{p['question']} → {p['answer']}" for p in content["pairs"] if p["question"]
        )
    return ""


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
