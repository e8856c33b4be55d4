"""Short answer: typed text matched against accepted answers; `*` is a wildcard."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from quizzes.qtypes.base import (
    ContentError,
    QuestionType,
    Score,
    TextAnswer,
    gift_block,
    gift_escape,
    gift_feedback,
    gift_weight,
    text_answers,
)

SHORT_TEXT_MAX = 1_000


def _normalise_text(value: str, *, case_sensitive: bool) -> str:
    flat = " ".join(value.split())
    return flat if case_sensitive else flat.casefold()


def short_answer_matches(pattern: str, value: str, *, case_sensitive: bool) -> bool:
    """Moodle's rule: `*` in an accepted answer matches any run of characters."""
    pattern = _normalise_text(pattern, case_sensitive=case_sensitive)
    value = _normalise_text(value, case_sensitive=case_sensitive)
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


class ShortAnswer(TextAnswer, QuestionType):
    """`answers` [{text, fraction, feedback}], `case_sensitive`. Response {"text": str}."""

    code = "short_answer"
    label = "Short answer"
    template = "quizzes/qtypes/short_answer.html"
    text_limit = SHORT_TEXT_MAX

    def validate(self, content: dict[str, Any]) -> dict[str, Any]:
        answers = text_answers(content, minimum=1, default_fraction=1)
        if max(a["fraction"] for a in answers) < 1:
            raise ContentError("A short-answer question needs an answer worth 100%.")
        return {"answers": answers, "case_sensitive": bool(content.get("case_sensitive", False))}

    def grade(self, content: dict[str, Any], response: dict[str, Any]) -> Score:
        value = str(response["text"])
        # As in Moodle, the first accepted answer that matches decides (order them best first).
        for answer in content["answers"]:
            if short_answer_matches(
                answer["text"], value, case_sensitive=content.get("case_sensitive", False)
            ):
                return answer["fraction"], [answer["feedback"]]
        return 0.0, []

    def right_answer(self, content: dict[str, Any]) -> str:
        return next(a["text"] for a in content["answers"] if a["fraction"] >= 1)

    def form_fields(self, question: dict[str, Any]) -> dict[str, forms.Field]:
        return {"text": forms.CharField(required=False, max_length=SHORT_TEXT_MAX, strip=False)}

    def form_response(
        self, question: dict[str, Any], cleaned: dict[str, Any]
    ) -> dict[str, Any] | None:
        value = cleaned["text"]
        return {"text": value} if value.strip() else None

    def gift_block(self, content: dict[str, Any]) -> str:
        lines = []
        for a in content["answers"]:
            weight = "" if a["fraction"] == 1 else gift_weight(a["fraction"])
            lines.append(f"={weight}{gift_escape(a['text'])}{gift_feedback(a['feedback'])}")
        return gift_block(content, lines)
