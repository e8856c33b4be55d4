"""Helpers for the grading-pipeline tests: a lab with a held-out set, submissions, waiting."""

from __future__ import annotations

import os
import time
from pathlib import Path

from django.core.files import File

from courseware.models import Membership
from labs import services
from labs.models import Lab, Submission
from tests.factories import MembershipFactory, SessionFactory
from tests.labs.grading.tiny import LABELS, SAMPLE_ROWS, write_dataset
from tests.workers import database_url_for_tests

FINISHED = {Submission.Status.SCORED, Submission.Status.FAILED, Submission.Status.CANCELLED}


def heldout_rows(copies: int = 4) -> list[tuple[str, str]]:
    """Distinct texts (the split hashes the text) over every lab label."""
    return [(f"{text} ({i})", label) for i in range(copies) for text, label in SAMPLE_ROWS]


def make_lab(tmp_path: Path, *, rows=None, **fields) -> tuple[Lab, object]:
    session = SessionFactory()
    instructor = MembershipFactory(course=session.course, role=Membership.Role.INSTRUCTOR).user
    lab = services.lab_create(
        actor=instructor, session=session, title="Sentiment lab", labels=list(LABELS), **fields
    )
    csv_path = write_dataset(tmp_path / "heldout.csv", rows or heldout_rows())
    with csv_path.open("rb") as fh:
        services.heldout_dataset_create(
            lab=lab, actor=instructor, upload=File(fh, name="heldout.csv"), filename="heldout.csv"
        )
    return lab, instructor


def enrol_student(lab: Lab):
    return MembershipFactory(course=lab.session.course, role=Membership.Role.STUDENT).user


def submit(lab: Lab, student, archive: Path) -> Submission:
    with archive.open("rb") as fh:
        return services.submission_create(
            lab=lab, actor=student, upload=File(fh, name=archive.name), filename=archive.name
        )


def wait_until(submission: Submission, statuses=FINISHED, timeout: float = 90.0) -> Submission:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        submission.refresh_from_db()
        if submission.status in statuses:
            return submission
        time.sleep(0.25)
    raise AssertionError(f"submission {submission.pk} still {submission.status} after {timeout}s")


def worker_env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url_for_tests(),
        "GRADING_HEARTBEAT_INTERVAL_S": "1",
        **extra,
    }


def flush_broker() -> None:
    from django.conf import settings

    if settings.CELERY_BROKER_URL.startswith("redis://"):
        import redis

        redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
