"""NRPS roster sync through a real Celery worker (the maintenance queue, the configured
broker): the beat's message for `lti.tasks.roster_sync_linked` fans out one sync per linked
offering, and the worker fetches the members from the loopback LMS over the network."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.test import Client

from config.celery import app as celery_app
from courseware.models import Membership
from lti.models import CourseLink
from tests.lti.platform import INSTRUCTOR, LEARNER
from tests.lti.test_roster import member
from tests.workers import celery_worker, database_url_for_tests, wait_for

pytestmark = [pytest.mark.lti, pytest.mark.worker]


@pytest.mark.django_db(transaction=True)
def test_the_periodic_roster_task_on_a_real_worker_syncs_from_the_lms(lms, login_url, tmp_path):
    broker = settings.CELERY_BROKER_URL
    if broker.startswith("redis://"):
        import redis

        redis.Redis.from_url(broker).flushdb()
    lms.launch(Client(), login_url=login_url, user_id="t-1", roles=[INSTRUCTOR])
    lms.tool_jwks = Client().get("/lti/jwks/").json()
    course = CourseLink.objects.get().course
    lms.members = [
        member("t-1", [INSTRUCTOR]),
        member("s-1", [LEARNER]),
        member("s-2", [LEARNER]),
        member("s-3", [LEARNER]),
    ]

    def enrolled() -> set[str]:
        return set(
            Membership.objects.filter(course=course, role="student", is_active=True).values_list(
                "user__lti_users__sub", flat=True
            )
        )

    env = {**os.environ, "DATABASE_URL": database_url_for_tests(), "CELERY_BROKER_URL": broker}
    with celery_worker(env=env, log_path=tmp_path / "worker.log", queues="maintenance"):
        # What celery beat sends on its schedule (config/settings.py, "lti-roster-sync").
        celery_app.send_task("lti.tasks.roster_sync_linked")
        synced = wait_for(lambda: enrolled() == {"s-1", "s-2", "s-3"}, timeout=60)
    log = (tmp_path / "worker.log").read_text()
    assert synced, log
    # The worker read every page (two members a page) from the LMS itself.
    assert sum(1 for path in lms.requests_seen if path.startswith("/memberships")) == 2
    assert "lti.tasks.roster_sync[" in log and "succeeded" in log
