"""How a question is shown in an attempt and reviewed afterwards: plain Python, no database.

Choices are shown in a per-attempt order (stored on the attempt so a reload shows the same
order) and identified by their *display position*, never by their position in the question,
so the ids a client sees say nothing about which answer is right. Responses are converted to
canonical form (positions in the question) on the way in and back on the way out.

Nothing returned by `question_for_display` reveals answers, weights or feedback.
"""

from __future__ import annotations

import random
from typing import Any

from core.exceptions import ApplicationError
from quizzes import grading
from quizzes.content import (
    CHOICE_TYPES,
    DESCRIPTION,
    ESSAY,
    MATCHING,
    MULTIPLE_CHOICE,
    NUMERICAL,
    SHORT_ANSWER,
    SINGLE_CHOICE,
    TRUE_FALSE,
    matching_choices,
    matching_stems,
)

SHORT_TEXT_MAX = 1_000
ESSAY_TEXT_MAX = 50_000


class InvalidResponse(ApplicationError):
    def __init__(self, message: str) -> None:
        super().__init__("invalid_response", message)


def make_order(content: dict[str, Any], *, shuffle: bool, rng: random.Random) -> dict[str, Any]:
    """The display order of a question's choices for one attempt."""
    if content["type"] in CHOICE_TYPES:
        order = list(range(len(content["answers"])))
        if shuffle:
            rng.shuffle(order)
        return {"choices": order}
    if content["type"] == MATCHING:
        # Always shuffled: in the author's order each answer would sit beside its item.
        order = list(range(len(matching_choices(content))))
        rng.shuffle(order)
        return {"choices": order}
    return {}


def _choice_texts(content: dict[str, Any]) -> list[str]:
    if content["type"] == MATCHING:
        return matching_choices(content)
    return [a["text"] for a in content["answers"]]


def _display_choices(content: dict[str, Any], order: dict[str, Any]) -> list[dict[str, Any]]:
    texts = _choice_texts(content)
    return [{"id": k, "text": texts[i]} for k, i in enumerate(order["choices"])]


def question_for_display(
    content: dict[str, Any],
    order: dict[str, Any],
    *,
    slot: int,
    number: int | None,
    max_mark: float,
    response: dict[str, Any] | None,
) -> dict[str, Any]:
    """What a student answering the question sees: text and choices, no answers."""
    qtype = content["type"]
    data: dict[str, Any] = {
        "slot": slot,
        "number": number,
        "type": qtype,
        "text": content["text"],
        "format": content["format"],
        "max_mark": max_mark,
    }
    if qtype in CHOICE_TYPES or qtype == MATCHING:
        data["choices"] = _display_choices(content, order)
    if qtype == MATCHING:
        data["items"] = [
            {"id": i, "text": content["pairs"][i]["question"]} for i in matching_stems(content)
        ]
    if qtype != DESCRIPTION:
        data["response"] = response_to_display(content, order, response)
        data["answered"] = not grading.is_blank(content, response)
    return data


def response_to_display(
    content: dict[str, Any], order: dict[str, Any], response: dict[str, Any] | None
) -> dict[str, Any] | None:
    if response is None or grading.is_blank(content, response):
        return None
    qtype = content["type"]
    if qtype in CHOICE_TYPES or qtype == MATCHING:
        to_display = {i: k for k, i in enumerate(order["choices"])}
    if qtype == SINGLE_CHOICE:
        return {"choice": to_display[response["choice"]]}
    if qtype == MULTIPLE_CHOICE:
        return {"choices": sorted(to_display[i] for i in response["choices"])}
    if qtype == MATCHING:
        return {"matches": {k: to_display[v] for k, v in response["matches"].items()}}
    return dict(response)


def response_from_display(
    content: dict[str, Any], order: dict[str, Any], payload: Any
) -> dict[str, Any] | None:
    """Validate a response as a client sends it and return it in canonical form (None
    clears the answer). Raises InvalidResponse naming what is wrong."""
    if payload is None:
        return None
    if not isinstance(payload, dict):
        raise InvalidResponse("A response must be an object.")
    qtype = content["type"]
    if qtype == DESCRIPTION:
        raise InvalidResponse("A description has nothing to answer.")
    if qtype in CHOICE_TYPES or qtype == MATCHING:
        choices = order["choices"]
    if qtype == SINGLE_CHOICE:
        choice = payload.get("choice")
        if choice is None:
            return None
        return {"choice": choices[_index(choice, len(choices), "choice")]}
    if qtype == MULTIPLE_CHOICE:
        picked = payload.get("choices")
        if not isinstance(picked, list):
            raise InvalidResponse("'choices' must be a list of choice ids.")
        ids = {_index(k, len(choices), "choice") for k in picked}
        return {"choices": sorted(choices[k] for k in ids)} if ids else None
    if qtype == TRUE_FALSE:
        value = payload.get("value")
        if value is None:
            return None
        if not isinstance(value, bool):
            raise InvalidResponse("'value' must be true or false.")
        return {"value": value}
    if qtype in (SHORT_ANSWER, ESSAY):
        limit = SHORT_TEXT_MAX if qtype == SHORT_ANSWER else ESSAY_TEXT_MAX
        text = payload.get("text")
        if text is None:
            return None
        if not isinstance(text, str):
            raise InvalidResponse("'text' must be a string.")
        if len(text) > limit:
            raise InvalidResponse(f"The answer is longer than {limit} characters.")
        return {"text": text} if text.strip() else None
    if qtype == NUMERICAL:
        value = payload.get("value")
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise InvalidResponse("'value' must be a number or the number as typed.")
        text = str(value).strip()
        if len(text) > 100:
            raise InvalidResponse("The number is too long.")
        # Kept as typed: an unreadable number is saved and marked wrong, like Moodle.
        return {"value": text}
    if qtype == MATCHING:
        matches = payload.get("matches")
        if not isinstance(matches, dict):
            raise InvalidResponse("'matches' must map item ids to choice ids.")
        stems = set(matching_stems(content))
        canonical = {}
        for key, chosen in matches.items():
            item = _index(key, len(content["pairs"]), "item")
            if item not in stems:
                raise InvalidResponse(f"There is no item {key}.")
            if chosen is None:
                continue
            canonical[str(item)] = choices[_index(chosen, len(choices), "choice")]
        return {"matches": canonical} if canonical else None
    raise InvalidResponse(f"Cannot answer a {qtype} question.")


def _index(value: Any, size: int, what: str) -> int:
    if isinstance(value, bool):
        raise InvalidResponse(f"A {what} id must be a whole number.")
    try:
        index = int(value)
    except (TypeError, ValueError):
        raise InvalidResponse(f"A {what} id must be a whole number.") from None
    if str(index) != str(value).strip() or not 0 <= index < size:
        raise InvalidResponse(f"There is no {what} {value}.")
    return index


def question_for_review(
    content: dict[str, Any],
    order: dict[str, Any],
    *,
    slot: int,
    number: int | None,
    max_mark: float,
    response: dict[str, Any] | None,
    mark: float | None,
    state: str,
    comment: str,
    options: dict[str, bool],
) -> dict[str, Any]:
    """The question as shown in review, with only what `options` allow."""
    data = question_for_display(
        content, order, slot=slot, number=number, max_mark=max_mark, response=response
    )
    if content["type"] == DESCRIPTION:
        return data
    if options["correctness"]:
        data["state"] = state
    if options["marks"]:
        data["mark"] = mark
    if options["feedback"]:
        graded = grading.grade(content, response)
        data["feedback"] = {
            "answers": graded.feedback,
            "general": content["general_feedback"],
            "comment": comment,
        }
    if options["right_answers"]:
        data["right_answer"] = grading.right_answer(content)
    return data
