"""AGS through a real Celery worker (the maintenance queue, Redis or the configured broker):
an override committed in the web process reaches the loopback LMS, through a retry; and the
beat's periodic refresh sends a score that no event announced."""

from __future__ import annotations

import os
import re

import pytest
from django.conf import settings
from django.test import Client

from config.celery import app as celery_app
from gradebook.models import GradeItem
from gradebook.services import cell_override_set, gradebook_items_sync
from lti.models import CourseLink, ScoreSync
from quizzes.models import Quiz
from tests.factories import SessionFactory
from tests.lti.platform import INSTRUCTOR, LEARNER, platform_reads_deep_link_reply
from tests.workers import celery_worker, database_url_for_tests, wait_for

pytestmark = [pytest.mark.lti, pytest.mark.worker]


def _flush_broker(broker: str) -> None:
    if broker.startswith("redis://"):
        import redis

        redis.Redis.from_url(broker).flushdb()


def _placed_quiz(lms, login_url):
    """An offering linked to the LMS, a 10-point quiz placed by deep linking (the LMS has its
    column), a student who launched; returns (item, student, instructor)."""
    teacher = Client()
    lms.launch(teacher, login_url=login_url, user_id="t-1", roles=[INSTRUCTOR])
    course = CourseLink.objects.get().course
    quiz = Quiz.objects.create(session=SessionFactory(course=course, number=1), title="Q1")
    gradebook_items_sync(course=course)
    item = GradeItem.objects.get(kind="quiz", source_id=quiz.pk)
    GradeItem.objects.filter(pk=item.pk).update(points_possible=10, points_set=True)
    lms.launch(teacher, login_url=login_url, user_id="t-1", roles=[INSTRUCTOR], deep_link=True)
    reply = teacher.post("/lti/deep-link/pick/", {"resource": [f"quiz:{quiz.pk}"]})
    jwt_value = re.search(r'name="JWT" value="([^"]+)"', reply.content.decode()).group(1)
    lms.tool_jwks = teacher.get("/lti/jwks/").json()
    lms.add_line_items_from(platform_reads_deep_link_reply(jwt_value, lms.tool_jwks))
    lms.launch(Client(), login_url=login_url, user_id="s-1", roles=[LEARNER])
    student = course.memberships.get(role="student").user
    instructor = course.memberships.get(role="instructor").user
    item.refresh_from_db()
    return item, student, instructor


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_score_and_retries_a_failing_lms(lms, login_url, tmp_path):
    broker = settings.CELERY_BROKER_URL
    _flush_broker(broker)
    item, student, instructor = _placed_quiz(lms, login_url)

    env = {**os.environ, "DATABASE_URL": database_url_for_tests(), "CELERY_BROKER_URL": broker}
    lms.fail_next = 1  # the first score POST gets a 503: the worker's retry sends it
    with celery_worker(env=env, log_path=tmp_path / "worker.log", queues="maintenance"):
        cell_override_set(
            actor=instructor, item=item, student=student, override=7.5, reason="re-marked"
        )
        received = wait_for(lambda: lms.scores_for("s-1"), timeout=60)
        sent = wait_for(
            lambda: ScoreSync.objects.filter(state="sent", sent_version=1).exists(), timeout=30
        )
    log = (tmp_path / "worker.log").read_text()
    assert received and sent, log
    [score] = lms.scores_for("s-1")
    assert (score["scoreGiven"], score["scoreMaximum"]) == (7.5, 10.0)
    assert ScoreSync.objects.get().attempts == 2
    assert "retry" in log.lower()


@pytest.mark.django_db(transaction=True)
def test_the_periodic_refresh_on_a_real_worker_sends_a_score_no_event_announced(
    lms, login_url, tmp_path
):
    broker = settings.CELERY_BROKER_URL
    item, student, instructor = _placed_quiz(lms, login_url)
    cell_override_set(actor=instructor, item=item, student=student, override=6.0, reason="oral")
    # Drop the message the override queued: only the beat's message reaches the worker.
    _flush_broker(broker)
    assert not ScoreSync.objects.exists()

    env = {**os.environ, "DATABASE_URL": database_url_for_tests(), "CELERY_BROKER_URL": broker}
    with celery_worker(env=env, log_path=tmp_path / "worker.log", queues="maintenance"):
        # What celery beat sends every 15 minutes (config/settings.py).
        celery_app.send_task("lti.tasks.scores_refresh_linked")
        received = wait_for(lambda: lms.scores_for("s-1"), timeout=60)
    log = (tmp_path / "worker.log").read_text()
    assert received, log
    [score] = lms.scores_for("s-1")
    assert (score["scoreGiven"], score["scoreMaximum"]) == (6.0, 10.0)
    assert "lti.tasks.scores_refresh_linked[" in log
