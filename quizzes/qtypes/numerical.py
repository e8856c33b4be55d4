"""Numerical: a typed number within a tolerance of an accepted value; GIFT `{#3.14:0.01}`."""

from __future__ import annotations

import math
from typing import Any

from django import forms

from quizzes.qtypes.base import (
    ContentError,
    InvalidResponse,
    QuestionType,
    Score,
    Unordered,
    answers,
    fraction,
    gift_block,
    gift_escape,
    gift_feedback,
    gift_number,
    gift_weight,
    is_number,
    text,
)

NUMBER_TEXT_MAX = 100
# Relative slack for numbers typed in decimal: 3.15 - 3.14 is 0.010000000000000231 in binary,
# and a student typing the edge of a ±0.01 tolerance must get the mark.
_FLOAT_SLACK = 1e-9


def parse_number(raw: Any) -> float | None:
    """A typed number: '1 234,5' style thousands/decimal commas are not guessed at; a lone
    comma is read as a decimal point (students type 3,14)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return float(raw) if math.isfinite(raw) else None
    typed = str(raw).strip().replace(" ", "")
    if typed.count(",") == 1 and "." not in typed:
        typed = typed.replace(",", ".")
    try:
        value = float(typed)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def numerical_matches(answer: dict, value: float) -> bool:
    if answer["value"] is None:
        return True
    slack = _FLOAT_SLACK * max(1.0, abs(answer["value"]), answer["tolerance"])
    return abs(value - answer["value"]) <= answer["tolerance"] + slack


class Numerical(Unordered, QuestionType):
    """`answers` [{value, tolerance, fraction, feedback}]; a last answer with value None
    matches anything (GIFT's `~#feedback for any other answer`). Response {"value": str}, the
    number as typed."""

    code = "numerical"
    label = "Numerical"
    template = "quizzes/qtypes/numerical.html"

    def validate(self, content: dict[str, Any]) -> dict[str, Any]:
        raw_answers = answers(content, minimum=1)
        normal = []
        for i, raw in enumerate(raw_answers, start=1):
            value = raw.get("value")
            feedback = text(raw.get("feedback", ""), f"answer {i} feedback")
            if value is None:
                if i != len(raw_answers):
                    raise ContentError("The catch-all numerical answer must be the last one.")
                catch_all = {"value": None, "tolerance": 0.0, "fraction": 0.0}
                normal.append({**catch_all, "feedback": feedback})
                continue
            tolerance = raw.get("tolerance", 0)
            if not is_number(value):
                raise ContentError(f"Answer {i}: the value must be a number.")
            if not is_number(tolerance) or tolerance < 0:
                raise ContentError(f"Answer {i}: the tolerance must be a number of at least 0.")
            normal.append(
                {
                    "value": float(value),
                    "tolerance": float(tolerance),
                    "fraction": fraction(raw.get("fraction", 1), f"Answer {i}"),
                    "feedback": feedback,
                }
            )
        if max(a["fraction"] for a in normal) < 1:
            raise ContentError("A numerical question needs an answer worth 100%.")
        return {"answers": normal}

    def is_blank(self, response: dict[str, Any]) -> bool:
        value = response.get("value")
        return str(value if value is not None else "").strip() == ""

    def read_response(
        self, content: dict[str, Any], order: dict[str, Any], payload: dict[str, Any]
    ) -> dict[str, Any] | None:
        value = payload.get("value")
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise InvalidResponse("'value' must be a number or the number as typed.")
        typed = str(value).strip()
        if len(typed) > NUMBER_TEXT_MAX:
            raise InvalidResponse("The number is too long.")
        # Kept as typed: an unreadable number is saved and marked wrong, like Moodle.
        return {"value": typed}

    def response_to_display(
        self, content: dict[str, Any], order: dict[str, Any], response: dict[str, Any]
    ) -> dict[str, Any]:
        return dict(response)

    def grade(self, content: dict[str, Any], response: dict[str, Any]) -> Score:
        value = parse_number(response["value"])
        if value is None:
            return 0.0, ["That is not a number."]
        for answer in content["answers"]:
            if numerical_matches(answer, value):
                return answer["fraction"], [answer["feedback"]]
        return 0.0, []

    def right_answer(self, content: dict[str, Any]) -> str:
        a = next(a for a in content["answers"] if a["value"] is not None and a["fraction"] >= 1)
        return f"{a['value']:g}" + (f" ± {a['tolerance']:g}" if a["tolerance"] else "")

    def form_fields(self, question: dict[str, Any]) -> dict[str, forms.Field]:
        return {"value": forms.CharField(required=False, max_length=NUMBER_TEXT_MAX)}

    def form_response(
        self, question: dict[str, Any], cleaned: dict[str, Any]
    ) -> dict[str, Any] | None:
        value = cleaned["value"].strip()
        return {"value": value} if value else None

    def gift_block(self, content: dict[str, Any]) -> str:
        lines = []
        for a in content["answers"]:
            if a["value"] is None:
                lines.append(f"~#{gift_escape(a['feedback'])}")
                continue
            weight = "" if a["fraction"] == 1 else gift_weight(a["fraction"])
            value = f"{gift_number(a['value'])}:{gift_number(a['tolerance'])}"
            lines.append(f"={weight}{value}{gift_feedback(a['feedback'])}")
        return gift_block(content, lines, prefix="#")
