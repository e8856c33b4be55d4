"""True/false: `{T}` or `{FALSE}` in GIFT."""

from __future__ import annotations

from typing import Any

from django import forms

from quizzes.qtypes.base import (
    ContentError,
    InvalidResponse,
    QuestionType,
    Score,
    Unordered,
    gift_block,
    gift_escape,
    gift_feedback,
    text,
)


class TrueFalse(Unordered, QuestionType):
    """`correct` (bool), `feedback_true`, `feedback_false` (shown for that response).
    Response {"value": bool}."""

    code = "true_false"
    label = "True/false"
    template = "quizzes/qtypes/true_false.html"

    def validate(self, content: dict[str, Any]) -> dict[str, Any]:
        correct = content.get("correct")
        if not isinstance(correct, bool):
            raise ContentError("A true/false question needs `correct` set to true or false.")
        return {
            "correct": correct,
            "feedback_true": text(content.get("feedback_true", ""), "feedback for True"),
            "feedback_false": text(content.get("feedback_false", ""), "feedback for False"),
        }

    def is_blank(self, response: dict[str, Any]) -> bool:
        return not isinstance(response.get("value"), bool)

    def read_response(
        self, content: dict[str, Any], order: dict[str, Any], payload: dict[str, Any]
    ) -> dict[str, Any] | None:
        value = payload.get("value")
        if value is None:
            return None
        if not isinstance(value, bool):
            raise InvalidResponse("'value' must be true or false.")
        return {"value": value}

    def response_to_display(
        self, content: dict[str, Any], order: dict[str, Any], response: dict[str, Any]
    ) -> dict[str, Any]:
        return dict(response)

    def grade(self, content: dict[str, Any], response: dict[str, Any]) -> Score:
        value = response["value"]
        feedback = content["feedback_true"] if value else content["feedback_false"]
        return (1.0 if value == content["correct"] else 0.0), [feedback]

    def right_answer(self, content: dict[str, Any]) -> str:
        return "True" if content["correct"] else "False"

    def form_fields(self, question: dict[str, Any]) -> dict[str, forms.Field]:
        return {
            "value": forms.ChoiceField(
                choices=[("true", "True"), ("false", "False")], required=False
            )
        }

    def form_response(
        self, question: dict[str, Any], cleaned: dict[str, Any]
    ) -> dict[str, Any] | None:
        value = cleaned["value"]
        return {"value": value == "true"} if value else None

    def gift_block(self, content: dict[str, Any]) -> str:
        right = content["feedback_true"] if content["correct"] else content["feedback_false"]
        wrong = content["feedback_false"] if content["correct"] else content["feedback_true"]
        value = "TRUE" if content["correct"] else "FALSE"
        # Moodle's {T#wrong#right}: the first feedback is for the wrong response.
        tail = f"#{gift_escape(wrong)}#{gift_escape(right)}" if right else gift_feedback(wrong)
        return gift_block(content, [value + tail], inline=True)
