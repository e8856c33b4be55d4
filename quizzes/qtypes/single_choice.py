"""Single choice: one answer picked; `=` in GIFT, every Aiken question."""

from __future__ import annotations

from typing import Any

from django import forms

from quizzes.qtypes.base import ContentError, Score, gift_block, index, to_display
from quizzes.qtypes.choice import ChoiceType, choices_of


class SingleChoice(ChoiceType):
    """Response {"choice": i}."""

    code = "single_choice"
    label = "Single choice"
    template = "quizzes/qtypes/single_choice.html"

    def check_weights(self, fractions: list[float]) -> None:
        if max(fractions) < 1:
            raise ContentError("A single-choice question needs an answer worth 100% ('=').")

    def is_blank(self, response: dict[str, Any]) -> bool:
        return response.get("choice") is None

    def read_response(
        self, content: dict[str, Any], order: dict[str, Any], payload: dict[str, Any]
    ) -> dict[str, Any] | None:
        choice = payload.get("choice")
        if choice is None:
            return None
        choices = order["choices"]
        return {"choice": choices[index(choice, len(choices), "choice")]}

    def response_to_display(
        self, content: dict[str, Any], order: dict[str, Any], response: dict[str, Any]
    ) -> dict[str, Any]:
        return {"choice": to_display(order)[response["choice"]]}

    def grade(self, content: dict[str, Any], response: dict[str, Any]) -> Score:
        answer = content["answers"][response["choice"]]
        return answer["fraction"], [answer["feedback"]]

    def right_answer(self, content: dict[str, Any]) -> str:
        best = max(a["fraction"] for a in content["answers"])
        return next(a["text"] for a in content["answers"] if a["fraction"] == best)

    def form_fields(self, question: dict[str, Any]) -> dict[str, forms.Field]:
        return {"choice": forms.ChoiceField(choices=choices_of(question), required=False)}

    def form_response(
        self, question: dict[str, Any], cleaned: dict[str, Any]
    ) -> dict[str, Any] | None:
        value = cleaned["choice"]
        return {"choice": int(value)} if value != "" else None

    def gift_block(self, content: dict[str, Any]) -> str:
        return gift_block(content, self.choice_lines(content, exact_mark="="))
