"""Grade events: how a change in quizzes, labs or homework reaches the apps above them.

The apps that own grades (quizzes, labs, courseware) know nothing of the gradebook, which sits
above them: they *announce* that a source of grades changed, after their transaction commits,
and whoever listens (the gradebook) recomputes what depends on it.

    grade_source_changed_on_commit(source="quiz", source_id=quiz.pk, user_id=student.pk)

`user_id=None` means "many students" (a quiz's dates changed, a lab was re-configured).
`course_id` may be left out when the sender does not have it at hand; the listener finds it
from the source.
"""

from __future__ import annotations

from django.db import transaction
from django.dispatch import Signal

SOURCES = frozenset({"quiz", "lab", "homework", "membership"})

# Sent with: course_id (int | None), user_id (int | None: many), source (one of SOURCES),
# source_id (the quiz, lab, homework task or membership id).
grade_source_changed = Signal()


def grade_source_changed_on_commit(
    *, source: str, source_id: int, user_id: int | None = None, course_id: int | None = None
) -> None:
    """Announce a change once the current transaction commits (at once outside one), so a
    listener never reads uncommitted rows and a rolled-back change announces nothing."""
    if source not in SOURCES:
        raise ValueError(f"Unknown grade source {source!r}: use one of {sorted(SOURCES)}.")

    def send() -> None:
        grade_source_changed.send(
            sender=source,
            course_id=course_id,
            user_id=user_id,
            source=source,
            source_id=source_id,
        )

    transaction.on_commit(send)
