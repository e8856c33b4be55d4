"""Multiple choice: any answers picked, weights adding up; GIFT `~%50%` answers."""

from __future__ import annotations

from typing import Any

from django import forms

from quizzes.qtypes.base import (
    ContentError,
    InvalidResponse,
    Score,
    gift_block,
    index,
    to_display,
)
from quizzes.qtypes.choice import ChoiceType, choices_of

# Positive weights of a multiple-choice question must reach 100%, within Moodle's slack for
# thirds written as 33.33333%.
_SUM_SLACK = 1e-3


class MultipleChoice(ChoiceType):
    """Response {"choices": [i, ...]}."""

    code = "multiple_choice"
    label = "Multiple choice"
    template = "quizzes/qtypes/multiple_choice.html"

    def check_weights(self, fractions: list[float]) -> None:
        positive = sum(f for f in fractions if f > 0)
        if positive <= 0:
            raise ContentError(
                "A multiple-choice question needs answers with positive weights (~%50%...)."
            )
        if positive < 1 - _SUM_SLACK:
            raise ContentError(
                f"The positive weights add up to {positive * 100:g}%: they must add up to 100% "
                "so a student who picks every right answer gets full marks."
            )

    def is_blank(self, response: dict[str, Any]) -> bool:
        return not response.get("choices")

    def read_response(
        self, content: dict[str, Any], order: dict[str, Any], payload: dict[str, Any]
    ) -> dict[str, Any] | None:
        picked = payload.get("choices")
        if not isinstance(picked, list):
            raise InvalidResponse("'choices' must be a list of choice ids.")
        choices = order["choices"]
        ids = {index(k, len(choices), "choice") for k in picked}
        return {"choices": sorted(choices[k] for k in ids)} if ids else None

    def response_to_display(
        self, content: dict[str, Any], order: dict[str, Any], response: dict[str, Any]
    ) -> dict[str, Any]:
        positions = to_display(order)
        return {"choices": sorted(positions[i] for i in response["choices"])}

    def grade(self, content: dict[str, Any], response: dict[str, Any]) -> Score:
        chosen = [content["answers"][i] for i in sorted(set(response["choices"]))]
        return sum(a["fraction"] for a in chosen), [a["feedback"] for a in chosen]

    def right_answer(self, content: dict[str, Any]) -> str:
        return "; ".join(a["text"] for a in content["answers"] if a["fraction"] > 0)

    def form_fields(self, question: dict[str, Any]) -> dict[str, forms.Field]:
        return {"choices": forms.MultipleChoiceField(choices=choices_of(question), required=False)}

    def form_response(
        self, question: dict[str, Any], cleaned: dict[str, Any]
    ) -> dict[str, Any] | None:
        picked = [int(v) for v in cleaned["choices"]]
        return {"choices": picked} if picked else None

    def gift_block(self, content: dict[str, Any]) -> str:
        return gift_block(content, self.choice_lines(content, exact_mark=None))
