"""Description: text between questions, nothing to answer; GIFT text without a block."""

from __future__ import annotations

from typing import Any

from django import forms

from quizzes.qtypes.base import InvalidResponse, QuestionType, Score, Unordered


class Description(Unordered, QuestionType):
    """No keys of its own, no response, no mark."""

    code = "description"
    label = "Description"
    template = "quizzes/qtypes/description.html"
    answerable = False

    def validate(self, content: dict[str, Any]) -> dict[str, Any]:
        return {}

    def is_blank(self, response: dict[str, Any]) -> bool:
        return True

    def read_response(
        self, content: dict[str, Any], order: dict[str, Any], payload: dict[str, Any]
    ) -> dict[str, Any] | None:
        raise InvalidResponse("A description has nothing to answer.")

    def response_to_display(
        self, content: dict[str, Any], order: dict[str, Any], response: dict[str, Any]
    ) -> dict[str, Any]:
        return dict(response)

    def grade(self, content: dict[str, Any], response: dict[str, Any]) -> Score | None:
        return None

    def right_answer(self, content: dict[str, Any]) -> str:
        return ""

    def form_fields(self, question: dict[str, Any]) -> dict[str, forms.Field]:
        return {}

    def form_response(
        self, question: dict[str, Any], cleaned: dict[str, Any]
    ) -> dict[str, Any] | None:
        return None

    def gift_block(self, content: dict[str, Any]) -> None:
        return None
