"""The fault tests' own stack: a PostgreSQL cluster and a `redis-server` of their own
(tests/realproc.py), a database migrated there, and a lab seeded in it, so the tests can stop
and restart either service under a real grading worker without touching the machine's shared
PostgreSQL (5432) and Redis (6379), nor the test run's own database.

Django in the test process stays on pytest-django's database; everything that must happen in
the fault stack runs in a child process (`python -m tests.labs.fault_stack COMMAND`, with the
stack's DATABASE_URL, CELERY_BROKER_URL and PRIVATE_STORAGE_ROOT), through the same services a
web request uses; the tests read the outcome from the stack's database with psycopg."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import psycopg

from tests.realproc import PostgresServer, RedisServer
from tests.workers import ROOT


@dataclass
class FaultStack:
    postgres: PostgresServer
    redis: RedisServer
    database: str
    folder: Path
    lab_id: int = 0

    @property
    def database_url(self) -> str:
        return self.postgres.url(self.database)

    def env(self) -> dict[str, str]:
        """The environment of every process on the stack (worker and helper commands)."""
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": self.database_url,
            "CELERY_BROKER_URL": self.redis.url,
            "PRIVATE_STORAGE_ROOT": str(self.folder / "private"),
            "MEDIA_ROOT": str(self.folder / "media"),
            "GRADING_HEARTBEAT_INTERVAL_S": "1",
            # A worker notices the database is gone after 3 s instead of 10: a shorter test.
            "DATABASE_POOL_TIMEOUT": "3",
        }

    def manage(self, *args: str) -> str:
        return self._run([sys.executable, str(ROOT / "manage.py"), *args])

    def command(self, *args: str) -> dict:
        """Run one of this module's commands on the stack; returns what it printed (JSON)."""
        return json.loads(self._run([sys.executable, "-m", "tests.labs.fault_stack", *args]))

    def _run(self, args: list[str]) -> str:
        done = subprocess.run(
            args, cwd=ROOT, env=self.env(), capture_output=True, text=True, timeout=300
        )
        if done.returncode:
            raise RuntimeError(f"{args} failed ({done.returncode}):\n{done.stderr}")
        return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""

    def submit(self, *archives: Path) -> list[int]:
        """Each archive submitted by a new student of the lab (so no quota gets in the way)."""
        return self.command("submit", str(self.lab_id), *map(str, archives))["submissions"]

    def submit_held(self, *archives: Path) -> list[int]:
        return self.command("submit-held", str(self.lab_id), *map(str, archives))["submissions"]

    def send_grade_task(self, submission_id: int) -> None:
        """What `enqueue_grade` sends, published to the stack's Redis."""
        from config.celery import app

        with app.connection_for_write(self.redis.url) as connection:
            app.send_task(
                "labs.tasks.grade_submission",
                args=[submission_id],
                queue="grading",
                connection=connection,
            )

    def submissions(self, ids: list[int]) -> dict[int, dict]:
        """The rows as the stack's database holds them now (raises while it is down)."""
        with psycopg.connect(self.database_url, connect_timeout=3) as db:
            rows = db.execute(
                "select id, status, attempts, enqueue_count, error_code, error_message "
                "from labs_submission where id = any(%s)",
                [ids],
            ).fetchall()
        keys = ("id", "status", "attempts", "enqueue_count", "error_code", "error_message")
        return {row[0]: dict(zip(keys, row, strict=True)) for row in rows}


# --- the commands, in the child process ------------------------------------------------------


def _seed_lab(folder: str) -> dict:
    from tests.labs.pipeline import heldout_rows, make_lab

    lab, _ = make_lab(Path(folder), rows=heldout_rows(copies=150))
    return {"lab": lab.pk}


def _submit(lab_id: str, *archives: str) -> dict:
    return _submit_archives(lab_id, archives)


def _submit_held(lab_id: str, *archives: str) -> dict:
    """Submissions left queued with no task sent (the test sends it when it chooses)."""
    from labs import tasks

    tasks.grade_submission.apply_async = lambda *args, **kwargs: None
    return _submit_archives(lab_id, archives)


def _submit_archives(lab_id: str, archives: tuple[str, ...]) -> dict:
    from django.contrib.auth import get_user_model

    from labs.models import Lab
    from tests.factories import UserFactory
    from tests.labs.pipeline import enrol_student, submit

    # Each command is a new process, whose factory sequences start again at user0.
    UserFactory.reset_sequence(get_user_model().objects.count() + 1)
    lab = Lab.objects.get(pk=int(lab_id))
    ids = [submit(lab, enrol_student(lab), Path(archive)).pk for archive in archives]
    return {"submissions": ids}


def _sweep() -> dict:
    """The sweeper's run once GRADING_STALE_QUEUED_S has passed, as beat would start it then
    (so a test need not wait 15 minutes of real time)."""
    from django.conf import settings
    from django.utils import timezone

    from labs.services import submissions_sweep

    later = timezone.now() + timedelta(seconds=settings.GRADING_STALE_QUEUED_S + 1)
    report = submissions_sweep(now=later)
    return {"requeued": report.requeued, "failed": report.failed}


def main(argv: list[str]) -> None:
    import django

    django.setup()
    commands = {
        "lab": _seed_lab,
        "submit": _submit,
        "submit-held": _submit_held,
        "sweep": _sweep,
    }
    print(json.dumps(commands[argv[0]](*argv[1:])))


if __name__ == "__main__":
    main(sys.argv[1:])
