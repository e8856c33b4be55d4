"""Races that real browsers produce: a double-clicked Start, a double-clicked Submit.

Run with real threads and connections (PostgreSQL row locks), so these tests commit."""

import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction

from quizzes import services
from quizzes.models import Attempt
from tests.quizzes.conftest import NOW

pytestmark = pytest.mark.django_db(transaction=True)


def race(count, work):
    """Run work() in `count` threads released at the same moment; returns results or
    exceptions, in thread order."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        try:
            barrier.wait(timeout=10)
            results[i] = work()
        except Exception as exc:  # reported to the test, which asserts on it
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_starting_twice_at_once_yields_one_attempt(quiz, student):
    results = race(4, lambda: services.attempt_start(quiz=quiz, actor=student, now=NOW).pk)

    assert len(set(results)) == 1, results
    assert Attempt.objects.filter(quiz=quiz, user=student).count() == 1


def test_submitting_twice_at_once_is_harmless(quiz, student):
    attempt = services.attempt_start(quiz=quiz, actor=student, now=NOW)
    services.attempt_answer_save(
        attempt=attempt, actor=student, slot=1, response={"choice": 0}, now=NOW
    )

    results = race(
        3,
        lambda: (
            services.attempt_submit(
                attempt=attempt, actor=student, now=NOW + timedelta(minutes=1)
            ).submitted_at
        ),
    )

    assert results == [NOW + timedelta(minutes=1)] * 3
    attempt.refresh_from_db()
    assert (attempt.state, attempt.number) == (Attempt.State.FINISHED, 1)
    assert attempt.questions.get(position=1).mark == 1.0


def test_the_database_allows_one_attempt_in_progress(quiz, student):
    first = services.attempt_start(quiz=quiz, actor=student, now=NOW)

    with pytest.raises(IntegrityError), transaction.atomic():
        Attempt.objects.create(quiz=quiz, user=student, number=first.number + 1, started_at=NOW)
