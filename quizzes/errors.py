"""The quiz errors raised in more than one place, each written once so the code and the
fix-it message cannot drift apart between the services, the selectors and the views."""

from __future__ import annotations

from core.exceptions import ApplicationError, NotFoundError


def attempt_overdue() -> ApplicationError:
    """The answer came after the deadline; the attempt is now submitted."""
    return ApplicationError(
        "attempt_overdue",
        "Time is up: the attempt has been submitted with the answers saved before the deadline.",
        status_code=409,
    )


def attempt_finished() -> ApplicationError:
    return ApplicationError(
        "attempt_finished",
        "This attempt has been submitted: answers can no longer change.",
        status_code=409,
    )


def invalid_time_limit() -> ApplicationError:
    return ApplicationError("invalid_time_limit", "A time limit must be positive.")


def category_of_another_course() -> ApplicationError:
    return ApplicationError("invalid_category", "That category belongs to another course.")


def no_question_in_attempt(slot: int) -> NotFoundError:
    return NotFoundError(f"This attempt has no question {slot}.")


def no_quiz(quiz_id: int) -> NotFoundError:
    return NotFoundError(f"No quiz {quiz_id}.")
