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

from quizzes import grading, qtypes
from quizzes.qtypes.base import InvalidResponse


def make_order(content: dict[str, Any], *, shuffle: bool, rng: random.Random) -> dict[str, Any]:
    """The display order of a question's choices for one attempt."""
    return qtypes.get(content["type"]).make_order(content, shuffle=shuffle, rng=rng)


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
    plugin = qtypes.get(qtype)
    data: dict[str, Any] = {
        "slot": slot,
        "number": number,
        "type": qtype,
        "text": content["text"],
        "format": content["format"],
        "max_mark": max_mark,
    }
    data.update(plugin.display(content, order))
    if plugin.answerable:
        data["response"] = response_to_display(content, order, response)
        data["answered"] = not grading.is_blank(content, response)
    return data


def response_to_display(
    content: dict[str, Any], order: dict[str, Any], response: dict[str, Any] | None
) -> dict[str, Any] | None:
    if response is None or grading.is_blank(content, response):
        return None
    return qtypes.get(content["type"]).response_to_display(content, order, response)


def response_from_display(
    content: dict[str, Any], order: dict[str, Any], payload: Any
) -> dict[str, Any] | None:
    """Validate a response as a client sends it and return it in canonical form (None
    clears the answer). Raises InvalidResponse naming what is wrong."""
    if payload is None:
        return None
    if not isinstance(payload, dict):
        raise InvalidResponse("A response must be an object.")
    return qtypes.get(content["type"]).read_response(content, order, payload)


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
    if not qtypes.get(content["type"]).answerable:
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
