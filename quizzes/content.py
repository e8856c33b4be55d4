"""The question content schema: plain Python, no database.

A question version's content is one JSON object. The GIFT and Aiken parsers produce it, the
GIFT exporter writes it, grading reads it and `QuestionVersion.content` stores it. Keeping it
a plain dict (validated here) means a new version is a copy, never a schema migration.

Common keys: `type`, `name`, `text`, `format`, `general_feedback`, `default_mark`,
`idnumber`, `tags`. Per type:

- single_choice / multiple_choice: `answers` [{text, fraction, feedback}], fraction in [-1, 1]
- true_false: `correct` (bool), `feedback_true`, `feedback_false` (shown for that response)
- short_answer: `answers` [{text, fraction, feedback}], `case_sensitive`; `*` is a wildcard
- numerical: `answers` [{value, tolerance, fraction, feedback}]; a last answer with value None
  matches anything (GIFT's `~#feedback for any other answer`)
- matching: `pairs` [{question, answer}]; a pair with an empty question is a distractor
- essay, description: no extra keys
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from core.exceptions import ApplicationError

SINGLE_CHOICE = "single_choice"
MULTIPLE_CHOICE = "multiple_choice"
TRUE_FALSE = "true_false"
SHORT_ANSWER = "short_answer"
NUMERICAL = "numerical"
MATCHING = "matching"
ESSAY = "essay"
DESCRIPTION = "description"

QUESTION_TYPES = (
    SINGLE_CHOICE,
    MULTIPLE_CHOICE,
    TRUE_FALSE,
    SHORT_ANSWER,
    NUMERICAL,
    MATCHING,
    ESSAY,
    DESCRIPTION,
)
QUESTION_TYPE_LABELS = {
    SINGLE_CHOICE: "Single choice",
    MULTIPLE_CHOICE: "Multiple choice",
    TRUE_FALSE: "True/false",
    SHORT_ANSWER: "Short answer",
    NUMERICAL: "Numerical",
    MATCHING: "Matching",
    ESSAY: "Essay",
    DESCRIPTION: "Description",
}
CHOICE_TYPES = (SINGLE_CHOICE, MULTIPLE_CHOICE)
TEXT_FORMATS = ("moodle", "html", "plain", "markdown")
# Fractions are stored rounded so 33.33333% written out and read back is the same number.
FRACTION_DIGITS = 7
# Moodle's grade options (question_bank::fraction_options): a weight within
# GRADE_OPTION_SLACK of one of them, or of its negative, is stored as that exact option, as
# Moodle's importer does (match_grade_options), so three answers at 33.33333% add up to
# exactly 1 and not 0.9999999.
MOODLE_GRADE_OPTIONS = tuple(
    Fraction(n, d)
    for n, d in (
        (1, 1), (9, 10), (5, 6), (4, 5), (3, 4), (7, 10), (2, 3), (3, 5), (1, 2), (2, 5),
        (1, 3), (3, 10), (1, 4), (1, 5), (1, 6), (1, 7), (1, 8), (1, 9), (1, 10), (1, 20),
        (0, 1),
    )
)  # fmt: skip
GRADE_OPTION_SLACK = 0.00001
NAME_MAX = 255
# Positive weights of a multiple-choice question must reach 100%, within Moodle's slack for
# thirds written as 33.33333%.
_SUM_SLACK = 1e-3


class ContentError(ApplicationError):
    """A question's content breaks the schema. `message` says what and how to fix it."""

    def __init__(self, message: str) -> None:
        super().__init__("invalid_question", message)


def default_name(text: str) -> str:
    """Moodle names an untitled question after the start of its text."""
    flat = " ".join(text.split())
    return (flat[:60].rstrip() + "…") if len(flat) > 60 else flat or "Question"


def validate_content(content: dict[str, Any]) -> dict[str, Any]:
    """Return a normalised copy of `content` or raise ContentError naming the problem."""
    if not isinstance(content, dict):
        raise ContentError("A question's content must be an object.")
    qtype = content.get("type")
    if qtype not in QUESTION_TYPES:
        raise ContentError(
            f"Unknown question type {qtype!r}: use one of {', '.join(QUESTION_TYPES)}."
        )
    text = _text(content.get("text", ""), "text")
    if not text and qtype != DESCRIPTION:
        raise ContentError("The question has no text.")
    fmt = content.get("format", "moodle") or "moodle"
    if fmt not in TEXT_FORMATS:
        raise ContentError(f"Unknown text format {fmt!r}: use one of {', '.join(TEXT_FORMATS)}.")
    name = _text(content.get("name", ""), "name") or default_name(text)
    if len(name) > NAME_MAX:
        raise ContentError(f"The question name is longer than {NAME_MAX} characters.")
    default_mark = 0.0 if qtype == DESCRIPTION else content.get("default_mark", 1.0)
    if not _is_number(default_mark) or default_mark < 0:
        raise ContentError("The default mark must be a number of at least 0.")
    tags = content.get("tags", []) or []
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
        raise ContentError("Tags must be a list of non-empty strings.")
    normal: dict[str, Any] = {
        "type": qtype,
        "name": name,
        "text": text,
        "format": fmt,
        "general_feedback": _text(content.get("general_feedback", ""), "general feedback"),
        "default_mark": float(default_mark),
        "idnumber": _text(content.get("idnumber", ""), "idnumber"),
        "tags": [t.strip() for t in tags],
    }
    normal.update(_TYPE_VALIDATORS[qtype](content))
    return normal


def _text(value: Any, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ContentError(f"The {what} must be text.")
    return value.strip()


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def match_grade_option(fraction: float) -> float | None:
    """The Moodle grade option (or its negative) within GRADE_OPTION_SLACK of `fraction`,
    as a float; None when there is none."""
    for option in MOODLE_GRADE_OPTIONS:
        for signed in (option, -option):
            if abs(fraction - float(signed)) < GRADE_OPTION_SLACK:
                return float(signed)
    return None


def _fraction(value: Any, where: str) -> float:
    if not _is_number(value) or not -1 <= value <= 1:
        raise ContentError(f"{where}: the weight must be between -100% and 100%.")
    option = match_grade_option(float(value))
    return option if option is not None else round(float(value), FRACTION_DIGITS)


def _answers(content: dict, *, minimum: int) -> list[dict]:
    answers = content.get("answers")
    if not isinstance(answers, list) or len(answers) < minimum:
        raise ContentError(f"This question needs at least {minimum} answer(s).")
    if not all(isinstance(a, dict) for a in answers):
        raise ContentError("Each answer must be an object.")
    return answers


def _choice(content: dict) -> dict:
    answers = []
    for i, raw in enumerate(_answers(content, minimum=2), start=1):
        text = _text(raw.get("text", ""), f"answer {i}")
        if not text:
            raise ContentError(f"Answer {i} is empty.")
        answers.append(
            {
                "text": text,
                "fraction": _fraction(raw.get("fraction", 0), f"Answer {i}"),
                "feedback": _text(raw.get("feedback", ""), f"answer {i} feedback"),
            }
        )
    fractions = [a["fraction"] for a in answers]
    if content["type"] == SINGLE_CHOICE:
        if max(fractions) < 1:
            raise ContentError("A single-choice question needs an answer worth 100% ('=').")
    else:
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
    return {"answers": answers}


def _true_false(content: dict) -> dict:
    correct = content.get("correct")
    if not isinstance(correct, bool):
        raise ContentError("A true/false question needs `correct` set to true or false.")
    return {
        "correct": correct,
        "feedback_true": _text(content.get("feedback_true", ""), "feedback for True"),
        "feedback_false": _text(content.get("feedback_false", ""), "feedback for False"),
    }


def _short_answer(content: dict) -> dict:
    answers = []
    for i, raw in enumerate(_answers(content, minimum=1), start=1):
        text = _text(raw.get("text", ""), f"answer {i}")
        if not text:
            raise ContentError(f"Answer {i} is empty.")
        answers.append(
            {
                "text": text,
                "fraction": _fraction(raw.get("fraction", 1), f"Answer {i}"),
                "feedback": _text(raw.get("feedback", ""), f"answer {i} feedback"),
            }
        )
    if max(a["fraction"] for a in answers) < 1:
        raise ContentError("A short-answer question needs an answer worth 100%.")
    return {"answers": answers, "case_sensitive": bool(content.get("case_sensitive", False))}


def _numerical(content: dict) -> dict:
    raw_answers = _answers(content, minimum=1)
    answers = []
    for i, raw in enumerate(raw_answers, start=1):
        value = raw.get("value")
        feedback = _text(raw.get("feedback", ""), f"answer {i} feedback")
        if value is None:
            if i != len(raw_answers):
                raise ContentError("The catch-all numerical answer must be the last one.")
            answers.append({"value": None, "tolerance": 0.0, "fraction": 0.0, "feedback": feedback})
            continue
        tolerance = raw.get("tolerance", 0)
        if not _is_number(value):
            raise ContentError(f"Answer {i}: the value must be a number.")
        if not _is_number(tolerance) or tolerance < 0:
            raise ContentError(f"Answer {i}: the tolerance must be a number of at least 0.")
        answers.append(
            {
                "value": float(value),
                "tolerance": float(tolerance),
                "fraction": _fraction(raw.get("fraction", 1), f"Answer {i}"),
                "feedback": feedback,
            }
        )
    if max(a["fraction"] for a in answers) < 1:
        raise ContentError("A numerical question needs an answer worth 100%.")
    return {"answers": answers}


def _matching(content: dict) -> dict:
    pairs = content.get("pairs")
    if not isinstance(pairs, list) or not all(isinstance(p, dict) for p in pairs):
        raise ContentError("A matching question needs `pairs`.")
    normal = []
    for i, raw in enumerate(pairs, start=1):
        answer = _text(raw.get("answer", ""), f"pair {i} answer")
        if not answer:
            raise ContentError(f"Pair {i} has no answer after '->'.")
        normal.append({"question": _text(raw.get("question", ""), f"pair {i}"), "answer": answer})
    if sum(1 for p in normal if p["question"]) < 2:
        raise ContentError("A matching question needs at least two pairs ('=item -> match').")
    return {"pairs": normal}


def _nothing(content: dict) -> dict:
    return {}


_TYPE_VALIDATORS = {
    SINGLE_CHOICE: _choice,
    MULTIPLE_CHOICE: _choice,
    TRUE_FALSE: _true_false,
    SHORT_ANSWER: _short_answer,
    NUMERICAL: _numerical,
    MATCHING: _matching,
    ESSAY: _nothing,
    DESCRIPTION: _nothing,
}


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


def compatible_for_regrade(old: dict, new: dict) -> str | None:
    """Why an attempt given `old` cannot be regraded against `new` (None if it can): the
    stored response and answer order refer to answers by position."""
    if old["type"] != new["type"]:
        return "the question type changed"
    if old["type"] in CHOICE_TYPES and len(old["answers"]) != len(new["answers"]):
        return "the number of answers changed"
    if old["type"] == MATCHING and (
        matching_stems(old) != matching_stems(new)
        or len(matching_choices(old)) != len(matching_choices(new))
    ):
        return "the items or answers to match changed"
    return None
