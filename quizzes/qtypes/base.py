"""The question-type plug-in protocol and the building blocks the plug-ins share.

A plug-in is one instance of a `QuestionType` subclass, registered in `quizzes.qtypes`. The
generic modules (content, grading, presentation, gift export, the attempt form and the
templates) know nothing about any one type: they look the plug-in up by the content's `type`
and call its hooks. Every hook is abstract, so a new type cannot be registered half done.

Imports only `core` and Django's form fields: `quizzes.content` and the other generic modules
import the registry, so a plug-in importing them back would be a cycle.
"""

from __future__ import annotations

import math
import random
from abc import ABC, abstractmethod
from fractions import Fraction
from typing import Any, ClassVar

from django import forms

from core.exceptions import ApplicationError

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

#: What a grading hook returns: the raw fraction (clamped by the caller) and the feedback
#: for the answers the student gave; None when an instructor grades it by hand.
Score = tuple[float, list[str]]


class ContentError(ApplicationError):
    """A question's content breaks the schema. `message` says what and how to fix it."""

    def __init__(self, message: str) -> None:
        super().__init__("invalid_question", message)


class InvalidResponse(ApplicationError):
    def __init__(self, message: str) -> None:
        super().__init__("invalid_response", message)


class QuestionType(ABC):
    """One question type. Content is the validated dict of `quizzes.content`; an order is
    the per-attempt display order `make_order` returns; a response in canonical form refers
    to answers by their position in the question, in display form by display id."""

    #: The `type` code stored in content and in `Question.qtype`.
    code: ClassVar[str]
    #: The name instructors and students see.
    label: ClassVar[str]
    #: The attempt and review markup: templates/quizzes/qtypes/<code>.html.
    template: ClassVar[str]
    #: False for a type with nothing to answer (a description): no mark, no response.
    answerable: ClassVar[bool] = True

    # --- Content -------------------------------------------------------------------------

    @abstractmethod
    def validate(self, content: dict[str, Any]) -> dict[str, Any]:
        """The type's own keys of `content`, normalised; ContentError naming a problem."""

    @abstractmethod
    def regrade_blocker(self, old: dict[str, Any], new: dict[str, Any]) -> str | None:
        """Why a response to `old` cannot be regraded against `new` of the same type (the
        stored response and answer order refer to answers by position); None if it can."""

    # --- Display and responses -----------------------------------------------------------

    @abstractmethod
    def make_order(
        self, content: dict[str, Any], *, shuffle: bool, rng: random.Random
    ) -> dict[str, Any]:
        """The display order of the question's choices for one attempt ({} for none)."""

    @abstractmethod
    def display(self, content: dict[str, Any], order: dict[str, Any]) -> dict[str, Any]:
        """The keys a student answering sees beside the text (choices, items); never an
        answer, weight or feedback."""

    @abstractmethod
    def is_blank(self, response: dict[str, Any]) -> bool:
        """Whether a canonical response (a dict) answers nothing."""

    @abstractmethod
    def read_response(
        self, content: dict[str, Any], order: dict[str, Any], payload: dict[str, Any]
    ) -> dict[str, Any] | None:
        """A response as a client sends it (display ids), checked, in canonical form; None
        clears the answer. InvalidResponse names what is wrong."""

    @abstractmethod
    def response_to_display(
        self, content: dict[str, Any], order: dict[str, Any], response: dict[str, Any]
    ) -> dict[str, Any]:
        """A non-blank canonical response in display form (the inverse of read_response)."""

    # --- Grading -------------------------------------------------------------------------

    @abstractmethod
    def grade(self, content: dict[str, Any], response: dict[str, Any]) -> Score | None:
        """The raw fraction and feedback for a non-blank response; None: graded by hand."""

    @abstractmethod
    def right_answer(self, content: dict[str, Any]) -> str:
        """A one-line statement of the right answer, for review ('' when there is none)."""

    # --- The portal's attempt form -------------------------------------------------------

    @abstractmethod
    def form_fields(self, question: dict[str, Any]) -> dict[str, forms.Field]:
        """Form fields by key (the form names them `q<slot>-<key>`) for a question as
        `display` shows it."""

    @abstractmethod
    def form_response(
        self, question: dict[str, Any], cleaned: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The display-form response from the cleaned values of `form_fields`, by key."""

    # --- GIFT ----------------------------------------------------------------------------

    @abstractmethod
    def gift_block(self, content: dict[str, Any]) -> str | None:
        """The GIFT answer block `{...}` (see `gift_block` below); None for a type written
        without one."""


# --- Content helpers -------------------------------------------------------------------------


def text(value: Any, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ContentError(f"The {what} must be text.")
    return value.strip()


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def match_grade_option(fraction: float) -> float | None:
    """The Moodle grade option (or its negative) within GRADE_OPTION_SLACK of `fraction`,
    as a float; None when there is none."""
    for option in MOODLE_GRADE_OPTIONS:
        for signed in (option, -option):
            if abs(fraction - float(signed)) < GRADE_OPTION_SLACK:
                return float(signed)
    return None


def fraction(value: Any, where: str) -> float:
    if not is_number(value) or not -1 <= value <= 1:
        raise ContentError(f"{where}: the weight must be between -100% and 100%.")
    option = match_grade_option(float(value))
    return option if option is not None else round(float(value), FRACTION_DIGITS)


def answers(content: dict, *, minimum: int) -> list[dict]:
    found = content.get("answers")
    if not isinstance(found, list) or len(found) < minimum:
        raise ContentError(f"This question needs at least {minimum} answer(s).")
    if not all(isinstance(a, dict) for a in found):
        raise ContentError("Each answer must be an object.")
    return found


def text_answers(content: dict, *, minimum: int, default_fraction: float) -> list[dict]:
    """Answers with text, weight and feedback (choice and short-answer questions)."""
    normal = []
    for i, raw in enumerate(answers(content, minimum=minimum), start=1):
        answer_text = text(raw.get("text", ""), f"answer {i}")
        if not answer_text:
            raise ContentError(f"Answer {i} is empty.")
        normal.append(
            {
                "text": answer_text,
                "fraction": fraction(raw.get("fraction", default_fraction), f"Answer {i}"),
                "feedback": text(raw.get("feedback", ""), f"answer {i} feedback"),
            }
        )
    return normal


# --- Response helpers ------------------------------------------------------------------------


def index(value: Any, size: int, what: str) -> int:
    """A display id as a position in [0, size), or InvalidResponse."""
    if isinstance(value, bool):
        raise InvalidResponse(f"A {what} id must be a whole number.")
    try:
        position = int(value)
    except (TypeError, ValueError):
        raise InvalidResponse(f"A {what} id must be a whole number.") from None
    if str(position) != str(value).strip() or not 0 <= position < size:
        raise InvalidResponse(f"There is no {what} {value}.")
    return position


def to_display(order: dict[str, Any]) -> dict[int, int]:
    """{position in the question: display id} for an order with choices."""
    return {i: k for k, i in enumerate(order["choices"])}


class Unordered:
    """The hooks of a type with no answers to shuffle or lock against a regrade (numerical,
    true/false, the text types, description): mixed in before `QuestionType`."""

    def regrade_blocker(self, old: dict[str, Any], new: dict[str, Any]) -> str | None:
        return None

    def make_order(
        self, content: dict[str, Any], *, shuffle: bool, rng: random.Random
    ) -> dict[str, Any]:
        return {}

    def display(self, content: dict[str, Any], order: dict[str, Any]) -> dict[str, Any]:
        return {}


class TextAnswer(Unordered):
    """A typed text answer of at most `text_limit` characters (short answer, essay)."""

    text_limit: ClassVar[int]

    def is_blank(self, response: dict[str, Any]) -> bool:
        return not str(response.get("text") or "").strip()

    def read_response(
        self, content: dict[str, Any], order: dict[str, Any], payload: dict[str, Any]
    ) -> dict[str, Any] | None:
        return read_text(payload, self.text_limit)

    def response_to_display(
        self, content: dict[str, Any], order: dict[str, Any], response: dict[str, Any]
    ) -> dict[str, Any]:
        return dict(response)


def read_text(payload: dict[str, Any], limit: int) -> dict[str, Any] | None:
    """A typed text response (short answer, essay); blank clears it."""
    value = payload.get("text")
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidResponse("'text' must be a string.")
    if len(value) > limit:
        raise InvalidResponse(f"The answer is longer than {limit} characters.")
    return {"text": value} if value.strip() else None


# --- GIFT export helpers ---------------------------------------------------------------------


def gift_escape(value: str) -> str:
    out = value.replace("\\", "\\\\")
    for ch in "~=#{}:":
        out = out.replace(ch, "\\" + ch)
    return out.replace("\r", "").replace("\n", "\\n")


def gift_number(value: float) -> str:
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def gift_weight(value: float) -> str:
    return f"%{gift_number(round(value * 100, 5))}%"


def gift_feedback(value: str) -> str:
    return f"#{gift_escape(value)}" if value else ""


def gift_block(
    content: dict[str, Any], lines: list[str], *, prefix: str = "", inline: bool = False
) -> str:
    """An answer block of `lines` and the general feedback: one line each, indented, or all
    on one line (`inline`); `prefix` follows the `{` (numerical's `#`)."""
    lines = list(lines)
    if content["general_feedback"]:
        lines.append("####" + gift_escape(content["general_feedback"]))
    if inline:
        return "{" + prefix + "".join(lines) + "}"
    return "{" + prefix + "\n" + "".join(f"\t{line}\n" for line in lines) + "}"
