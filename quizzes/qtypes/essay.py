"""Essay: free text an instructor marks by hand; `{}` in GIFT."""

from __future__ import annotations

import random
from typing import Any

from django import forms

from quizzes.qtypes.base import QuestionType, Score, gift_block, read_text

ESSAY_TEXT_MAX = 50_000


class Essay(QuestionType):
    """No keys of its own. Response {"text": str}."""

    code = "essay"
    label = "Essay"
    template = "quizzes/qtypes/essay.html"

    def validate(self, content: dict[str, Any]) -> dict[str, Any]:
        return {}

    def regrade_blocker(self, old: dict[str, Any], new: dict[str, Any]) -> str | None:
        return None

    def make_order(
        self, content: dict[str, Any], *, shuffle: bool, rng: random.Random
    ) -> dict[str, Any]:
        return {}

    def display(self, content: dict[str, Any], order: dict[str, Any]) -> dict[str, Any]:
        return {}

    def is_blank(self, response: dict[str, Any]) -> bool:
        return not str(response.get("text") or "").strip()

    def read_response(
        self, content: dict[str, Any], order: dict[str, Any], payload: dict[str, Any]
    ) -> dict[str, Any] | None:
        return read_text(payload, ESSAY_TEXT_MAX)

    def response_to_display(
        self, content: dict[str, Any], order: dict[str, Any], response: dict[str, Any]
    ) -> dict[str, Any]:
        return dict(response)

    def grade(self, content: dict[str, Any], response: dict[str, Any]) -> Score | None:
        return None  # an instructor marks it

    def right_answer(self, content: dict[str, Any]) -> str:
        return ""

    def form_fields(self, question: dict[str, Any]) -> dict[str, forms.Field]:
        return {"text": forms.CharField(required=False, max_length=ESSAY_TEXT_MAX, strip=False)}

    def form_response(
        self, question: dict[str, Any], cleaned: dict[str, Any]
    ) -> dict[str, Any] | None:
        value = cleaned["text"]
        return {"text": value} if value.strip() else None

    def gift_block(self, content: dict[str, Any]) -> str:
        return gift_block(content, [], inline=True)
