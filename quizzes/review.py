"""Review options: what a student may see of an attempt, and when. Plain Python.

Moodle's four windows: *during* the attempt; *immediately* after it (within two minutes of
submitting); *later, while the quiz is still open*; and *after the quiz has closed* (never,
for a quiz without a close date). In each, four things can be shown: whether each answer was
correct, the marks, the feedback, and the right answers. A student always sees their own
responses once the attempt is submitted.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

DURING = "during"
IMMEDIATELY = "immediately"
OPEN = "open"
CLOSED = "closed"
WINDOWS = (DURING, IMMEDIATELY, OPEN, CLOSED)
OPTIONS = ("correctness", "marks", "feedback", "right_answers")
IMMEDIATE_WINDOW = timedelta(minutes=2)

NOTHING = dict.fromkeys(OPTIONS, False)
EVERYTHING = dict.fromkeys(OPTIONS, True)
# Deferred feedback: nothing while answering (showing correctness then would let students
# try answers until one is marked right), everything right after submitting, marks and
# feedback while others may still be taking the quiz, and the right answers after it closes.
DEFAULT_REVIEW_OPTIONS: dict[str, dict[str, bool]] = {
    DURING: dict(NOTHING),
    IMMEDIATELY: {"correctness": True, "marks": True, "feedback": True, "right_answers": False},
    OPEN: {"correctness": True, "marks": True, "feedback": True, "right_answers": False},
    CLOSED: dict(EVERYTHING),
}


def default_review_options() -> dict[str, dict[str, bool]]:
    return {window: dict(options) for window, options in DEFAULT_REVIEW_OPTIONS.items()}


def normalise_review_options(value: Any) -> dict[str, dict[str, bool]]:
    """Fill in missing windows/options from the defaults; ValueError names a bad key."""
    if value is None:
        return default_review_options()
    if not isinstance(value, dict):
        raise ValueError("Review options must be an object of windows.")
    unknown = set(value) - set(WINDOWS)
    if unknown:
        raise ValueError(f"Unknown review window {sorted(unknown)[0]!r}: use {', '.join(WINDOWS)}.")
    result = default_review_options()
    for window, options in value.items():
        if not isinstance(options, dict):
            raise ValueError(f"Review options for {window!r} must be an object.")
        bad = set(options) - set(OPTIONS)
        if bad:
            raise ValueError(f"Unknown review option {sorted(bad)[0]!r}: use {', '.join(OPTIONS)}.")
        for option, flag in options.items():
            if not isinstance(flag, bool):
                raise ValueError(f"Review option {window}.{option} must be true or false.")
            result[window][option] = flag
    return result


def review_window(
    *, finished: bool, submitted_at: datetime | None, closes_at: datetime | None, now: datetime
) -> str:
    if not finished or submitted_at is None:
        return DURING
    if now < submitted_at + IMMEDIATE_WINDOW:
        return IMMEDIATELY
    if closes_at is None or now < closes_at:
        return OPEN
    return CLOSED
