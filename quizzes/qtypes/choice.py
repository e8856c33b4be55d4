"""What single- and multiple-choice questions share: answers with weights, shown in a
per-attempt order and identified by display position."""

from __future__ import annotations

import random
from abc import abstractmethod
from typing import Any

from quizzes.qtypes.base import QuestionType, gift_escape, gift_feedback, gift_weight, text_answers


class ChoiceType(QuestionType):
    """`answers` [{text, fraction, feedback}], fraction in [-1, 1]."""

    def validate(self, content: dict[str, Any]) -> dict[str, Any]:
        answers = text_answers(content, minimum=2, default_fraction=0)
        self.check_weights([a["fraction"] for a in answers])
        return {"answers": answers}

    @abstractmethod
    def check_weights(self, fractions: list[float]) -> None:
        """ContentError unless full marks can be reached."""

    def regrade_blocker(self, old: dict[str, Any], new: dict[str, Any]) -> str | None:
        if len(old["answers"]) != len(new["answers"]):
            return "the number of answers changed"
        return None

    def make_order(
        self, content: dict[str, Any], *, shuffle: bool, rng: random.Random
    ) -> dict[str, Any]:
        order = list(range(len(content["answers"])))
        if shuffle:
            rng.shuffle(order)
        return {"choices": order}

    def display(self, content: dict[str, Any], order: dict[str, Any]) -> dict[str, Any]:
        texts = [a["text"] for a in content["answers"]]
        return {"choices": [{"id": k, "text": texts[i]} for k, i in enumerate(order["choices"])]}

    def choice_lines(self, content: dict[str, Any], *, exact_mark: str | None) -> list[str]:
        """`~` answers with their weights; `exact_mark` for one worth exactly 100%."""
        lines = []
        for a in content["answers"]:
            if exact_mark and a["fraction"] == 1:
                mark = exact_mark
            elif a["fraction"] == 0:
                mark = "~"
            else:
                mark = "~" + gift_weight(a["fraction"])
            lines.append(f"{mark}{gift_escape(a['text'])}{gift_feedback(a['feedback'])}")
        return lines


def choices_of(question: dict[str, Any]) -> list[tuple[str, str]]:
    """Form choices (value, label) of a question as `display` shows it."""
    return [(str(c["id"]), c["text"]) for c in question.get("choices", [])]
