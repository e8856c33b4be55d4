"""Matching: each item matched to one answer from a shared list; GIFT `=item -> match`."""

from __future__ import annotations

import random
from typing import Any

from django import forms

from quizzes.qtypes.base import (
    ContentError,
    InvalidResponse,
    QuestionType,
    Score,
    gift_block,
    gift_escape,
    index,
    text,
    to_display,
)
from quizzes.qtypes.choice import choices_of


def matching_choices(content: dict) -> list[str]:
    """The answers a matching question offers: each distinct answer text once, in order of
    first appearance (two items may share an answer, as in Moodle)."""
    seen: dict[str, None] = {}
    for pair in content["pairs"]:
        seen.setdefault(pair["answer"], None)
    return list(seen)


def matching_stems(content: dict) -> list[int]:
    """Indexes of the pairs that are items to match (not distractors)."""
    return [i for i, pair in enumerate(content["pairs"]) if pair["question"]]


class Matching(QuestionType):
    """`pairs` [{question, answer}]; a pair with an empty question is a distractor.
    Response {"matches": {"<pair index>": choice index}}."""

    code = "matching"
    label = "Matching"
    template = "quizzes/qtypes/matching.html"

    def validate(self, content: dict[str, Any]) -> dict[str, Any]:
        pairs = content.get("pairs")
        if not isinstance(pairs, list) or not all(isinstance(p, dict) for p in pairs):
            raise ContentError("A matching question needs `pairs`.")
        normal = []
        for i, raw in enumerate(pairs, start=1):
            answer = text(raw.get("answer", ""), f"pair {i} answer")
            if not answer:
                raise ContentError(f"Pair {i} has no answer after '->'.")
            question = text(raw.get("question", ""), f"pair {i}")
            normal.append({"question": question, "answer": answer})
        if sum(1 for p in normal if p["question"]) < 2:
            raise ContentError("A matching question needs at least two pairs ('=item -> match').")
        return {"pairs": normal}

    def regrade_blocker(self, old: dict[str, Any], new: dict[str, Any]) -> str | None:
        if matching_stems(old) != matching_stems(new) or len(matching_choices(old)) != len(
            matching_choices(new)
        ):
            return "the items or answers to match changed"
        return None

    def make_order(
        self, content: dict[str, Any], *, shuffle: bool, rng: random.Random
    ) -> dict[str, Any]:
        # Always shuffled: in the author's order each answer would sit beside its item.
        order = list(range(len(matching_choices(content))))
        rng.shuffle(order)
        return {"choices": order}

    def display(self, content: dict[str, Any], order: dict[str, Any]) -> dict[str, Any]:
        texts = matching_choices(content)
        return {
            "choices": [{"id": k, "text": texts[i]} for k, i in enumerate(order["choices"])],
            "items": [
                {"id": i, "text": content["pairs"][i]["question"]} for i in matching_stems(content)
            ],
        }

    def is_blank(self, response: dict[str, Any]) -> bool:
        return not response.get("matches")

    def read_response(
        self, content: dict[str, Any], order: dict[str, Any], payload: dict[str, Any]
    ) -> dict[str, Any] | None:
        matches = payload.get("matches")
        if not isinstance(matches, dict):
            raise InvalidResponse("'matches' must map item ids to choice ids.")
        choices = order["choices"]
        stems = set(matching_stems(content))
        canonical = {}
        for key, chosen in matches.items():
            item = index(key, len(content["pairs"]), "item")
            if item not in stems:
                raise InvalidResponse(f"There is no item {key}.")
            if chosen is None:
                continue
            canonical[str(item)] = choices[index(chosen, len(choices), "choice")]
        return {"matches": canonical} if canonical else None

    def response_to_display(
        self, content: dict[str, Any], order: dict[str, Any], response: dict[str, Any]
    ) -> dict[str, Any]:
        positions = to_display(order)
        return {"matches": {k: positions[v] for k, v in response["matches"].items()}}

    def grade(self, content: dict[str, Any], response: dict[str, Any]) -> Score:
        choices = matching_choices(content)
        stems = matching_stems(content)
        matches = response["matches"]
        right = 0
        for i in stems:
            chosen = matches.get(str(i))
            if chosen is not None and choices[chosen] == content["pairs"][i]["answer"]:
                right += 1
        return right / len(stems), []

    def right_answer(self, content: dict[str, Any]) -> str:
        return "; ".join(
            f"{p['question']} → {p['answer']}" for p in content["pairs"] if p["question"]
        )

    def form_fields(self, question: dict[str, Any]) -> dict[str, forms.Field]:
        choices = [("", "Choose…"), *choices_of(question)]
        return {
            f"match-{item['id']}": forms.ChoiceField(choices=choices, required=False)
            for item in question["items"]
        }

    def form_response(
        self, question: dict[str, Any], cleaned: dict[str, Any]
    ) -> dict[str, Any] | None:
        matches = {}
        for item in question["items"]:
            value = cleaned[f"match-{item['id']}"]
            if value != "":
                matches[str(item["id"])] = int(value)
        return {"matches": matches} if matches else None

    def gift_block(self, content: dict[str, Any]) -> str:
        lines = [
            f"={gift_escape(p['question'])} -> {gift_escape(p['answer'])}" for p in content["pairs"]
        ]
        return gift_block(content, lines)
