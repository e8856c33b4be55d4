"""Queueing a job while the broker is unreachable (Redis restarting): the row is already saved,
so the request must not fail after the fact. A grade stays queued for the sweeper; a "Try it"
sentence, which the student waits for, is marked failed with a message to try again.

The broker here is a real Redis URL on a loopback port nothing listens on."""

import logging

import pytest

from config.celery import app
from labs.models import Submission, TryItPrediction
from labs.services.jobs import enqueue_grade, enqueue_try_it
from tests.factories import SubmissionFactory
from tests.realproc import spare_port

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_storage")]


@pytest.fixture
def unreachable_broker(monkeypatch):
    """Point the Celery app's producers at a closed port, as if Redis were down."""
    closed = f"redis://127.0.0.1:{spare_port()}/0"
    # Celery reads CELERY_BROKER_URL from the environment before its own setting.
    monkeypatch.setenv("CELERY_BROKER_URL", closed)
    monkeypatch.setattr(app.conf, "broker_url", closed)
    # The app caches its connection and producer pools on first use: drop them for this test.
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)
    yield
    app._pool = None
    app.amqp._producer_pool = None


def test_a_grade_queued_while_the_broker_is_down_stays_queued_for_the_sweeper(
    unreachable_broker, django_capture_on_commit_callbacks, caplog
):
    submission = SubmissionFactory()
    with (
        caplog.at_level(logging.WARNING, "labs.services.jobs"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        enqueue_grade(submission.pk)  # must not raise
    submission.refresh_from_db()
    assert submission.status == Submission.Status.QUEUED
    assert f"could not queue submission {submission.pk}" in caplog.text


def test_a_try_it_sentence_queued_while_the_broker_is_down_fails_with_a_retry_message(
    unreachable_broker, django_capture_on_commit_callbacks
):
    submission = SubmissionFactory(status="scored")
    prediction = TryItPrediction.objects.create(
        submission=submission, requested_by=submission.student, text="great film"
    )
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_try_it(prediction.pk)
    prediction.refresh_from_db()
    assert prediction.status == TryItPrediction.Status.FAILED
    assert prediction.error_code == "queue_unavailable"
    assert "Try it again in a minute" in prediction.error_message
