"""Essay: free text an instructor marks by hand; `{}` in GIFT."""

from __future__ import annotations

from typing import Any

from django import forms

from quizzes.qtypes.base import QuestionType, Score, TextAnswer, gift_block

ESSAY_TEXT_MAX = 50_000


class Essay(TextAnswer, QuestionType):
    """No keys of its own. Response {"text": str}."""

    code = "essay"
    label = "Essay"
    template = "quizzes/qtypes/essay.html"
    text_limit = ESSAY_TEXT_MAX

    def validate(self, content: dict[str, Any]) -> dict[str, Any]:
        return {}

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
