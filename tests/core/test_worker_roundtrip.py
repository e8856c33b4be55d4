"""A task goes through a real broker to a real worker process and changes the database.

Two set-ups: the configured one (PostgreSQL + Redis under `make test`) and the embedded
defaults `make run` uses (SQLite + kombu's filesystem broker), so neither can silently break.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest
from django.conf import settings

from core.models import WorkerPing
from core.services import worker_ping_create
from tests.workers import ROOT, celery_worker, database_url_for_tests, wait_for

pytestmark = pytest.mark.worker


def _redis_flush(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


@pytest.mark.django_db(transaction=True)
def test_a_worker_on_the_configured_broker_answers_a_ping(tmp_path):
    broker = settings.CELERY_BROKER_URL
    if broker.startswith("redis://"):
        _redis_flush(broker)  # no stale messages from an earlier run
    env = {**os.environ, "DATABASE_URL": database_url_for_tests(), "CELERY_BROKER_URL": broker}

    with celery_worker(env=env, log_path=tmp_path / "worker.log"):
        ping = worker_ping_create()
        answered = wait_for(
            lambda: WorkerPing.objects.filter(pk=ping.pk, answered_at__isnull=False).exists()
        )

    ping.refresh_from_db()
    assert answered, (tmp_path / "worker.log").read_text()
    assert ping.worker_host
    assert ping.answered_at >= ping.created_at


def test_make_run_defaults_sqlite_and_filesystem_broker_round_trip(tmp_path):
    """No DATABASE_URL, no CELERY_BROKER_URL: exactly the embedded stack of `make run`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(DEBUG="1", COURSEBENCH_VAR_DIR=str(tmp_path / "var"))
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run(
        [*manage, "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True
    )

    with celery_worker(env=env, log_path=tmp_path / "worker.log"):
        result = subprocess.run(
            [*manage, "check_worker", "--timeout", "60"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )

    assert result.returncode == 0, result.stderr + (tmp_path / "worker.log").read_text()
    assert "worker ok" in result.stdout
    db = sqlite3.connect(tmp_path / "var" / "coursebench.sqlite3")
    answered = db.execute(
        "select count(*) from core_workerping where answered_at is not null"
    ).fetchone()[0]
    assert answered == 1


def test_check_worker_fails_clearly_when_no_worker_runs(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    env.update(DEBUG="1", COURSEBENCH_VAR_DIR=str(tmp_path / "var"))
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run(
        [*manage, "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True
    )

    result = subprocess.run(
        [*manage, "check_worker", "--timeout", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )

    assert result.returncode != 0
    assert "No Celery worker answered" in result.stderr
