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

Each type's keys are checked by its plug-in's `validate` (quizzes.qtypes); this module
checks the common keys and dispatches.
"""

from __future__ import annotations

from typing import Any

from quizzes import qtypes
from quizzes.qtypes.base import ContentError, is_number, text

# The type codes the GIFT and Aiken parsers produce and the services test for; every other
# module asks the plug-in (quizzes.qtypes) instead of comparing codes.
SINGLE_CHOICE = "single_choice"
MULTIPLE_CHOICE = "multiple_choice"
TRUE_FALSE = "true_false"
SHORT_ANSWER = "short_answer"
NUMERICAL = "numerical"
MATCHING = "matching"
ESSAY = "essay"
DESCRIPTION = "description"

QUESTION_TYPES = tuple(qtypes.REGISTRY)
QUESTION_TYPE_LABELS = {code: plugin.label for code, plugin in qtypes.REGISTRY.items()}
TEXT_FORMATS = ("moodle", "html", "plain", "markdown")
NAME_MAX = 255


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
    plugin = qtypes.get(qtype)
    question_text = text(content.get("text", ""), "text")
    if not question_text and plugin.answerable:
        raise ContentError("The question has no text.")
    fmt = content.get("format", "moodle") or "moodle"
    if fmt not in TEXT_FORMATS:
        raise ContentError(f"Unknown text format {fmt!r}: use one of {', '.join(TEXT_FORMATS)}.")
    name = text(content.get("name", ""), "name") or default_name(question_text)
    if len(name) > NAME_MAX:
        raise ContentError(f"The question name is longer than {NAME_MAX} characters.")
    default_mark = content.get("default_mark", 1.0) if plugin.answerable else 0.0
    if not is_number(default_mark) or default_mark < 0:
        raise ContentError("The default mark must be a number of at least 0.")
    tags = content.get("tags", []) or []
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
        raise ContentError("Tags must be a list of non-empty strings.")
    normal: dict[str, Any] = {
        "type": qtype,
        "name": name,
        "text": question_text,
        "format": fmt,
        "general_feedback": text(content.get("general_feedback", ""), "general feedback"),
        "default_mark": float(default_mark),
        "idnumber": text(content.get("idnumber", ""), "idnumber"),
        "tags": [t.strip() for t in tags],
    }
    normal.update(plugin.validate(content))
    return normal


def compatible_for_regrade(old: dict, new: dict) -> str | None:
    """Why an attempt given `old` cannot be regraded against `new` (None if it can): the
    stored response and answer order refer to answers by position."""
    if old["type"] != new["type"]:
        return "the question type changed"
    return qtypes.get(old["type"]).regrade_blocker(old, new)
