"""Draining a real grading worker mid-queue (docs/deploy.md, "Grading hosts"): it finishes the
job it runs, takes no new one, shows as draining then offline on the dashboard, and the rest of
the queue is graded by another worker, each submission once."""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import uuid

import pytest
from django.core.management import call_command

from labs import selectors
from labs.models import Submission, WorkerHost
from tests.labs.grading.tiny import build_tiny_model, make_archive
from tests.labs.pipeline import (
    FINISHED,
    enrol_student,
    flush_broker,
    heldout_rows,
    make_lab,
    submit,
    wait_until,
    worker_env,
)
from tests.workers import ROOT, celery_worker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

QUEUES = "celery,grading,grading_low"
CELERY = [sys.executable, "-m", "celery", "-A", "config"]


def host(name: str) -> WorkerHost:
    return WorkerHost.objects.get(name=name)


def state_of(name: str, lab) -> str:
    """The worker's state as the lab dashboard shows it (other workers may be listed too)."""
    rows = selectors.worker_host_list(course=lab.session.course)
    return {r.name: r.state for r in rows}[name]


def test_a_drained_worker_finishes_its_job_takes_no_new_one_and_another_worker_grades_the_rest(
    tmp_path,
):
    flush_broker()
    lab, _ = make_lab(tmp_path, rows=heldout_rows(copies=500))
    student = enrol_student(lab)
    slow = make_archive(
        build_tiny_model(tmp_path / "slow", hidden_size=256, layers=6), tmp_path / "slow.zip"
    )
    quick = make_archive(build_tiny_model(tmp_path / "quick"), tmp_path / "quick.zip")
    run = uuid.uuid4().hex[:8]
    first_name, second_name = f"drained-{run}@test", f"fresh-{run}@test"
    env = worker_env()

    with celery_worker(
        env=env, log_path=tmp_path / "drained.log", queues=QUEUES, name=first_name
    ) as drained:
        assert host(first_name).queues == ["celery", "grading", "grading_low"]
        # The first is slow (long enough to drain the worker while it runs), the rest quick.
        submissions = [submit(lab, student, archive) for archive in (slow, quick, quick)]
        running = wait_until(submissions[0], {Submission.Status.RUNNING})
        assert running.worker_host == first_name
        # (Set just after the claim, so a moment after the status says running.)
        assert wait_for(lambda: host(first_name).current_submission_id == running.pk)

        # Celery's own command first: the worker itself then reports it draining.
        subprocess.run(
            [*CELERY, "control", "cancel_consumer", "grading", "-d", first_name],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=60,
        )
        assert wait_for(lambda: host(first_name).cancelled_queues == ["grading"], timeout=20)
        assert host(first_name).draining_since is not None
        assert state_of(first_name, lab) == "draining"

        # The documented way: both grading queues, then wait for the current job.
        out = io.StringIO()
        call_command("worker_drain", first_name, "--wait", "--timeout", "180", stdout=out)

        assert f"{first_name}: idle" in out.getvalue()
        first = Submission.objects.get(pk=running.pk)
        assert first.status == Submission.Status.SCORED, first.error_message
        assert wait_for(
            lambda: host(first_name).cancelled_queues == ["grading", "grading_low"], timeout=20
        )
        assert wait_for(lambda: host(first_name).current_submission_id is None)
        # Idle, and the queue still waiting: it takes nothing more while it is alive.
        assert not wait_for(
            lambda: (
                Submission.objects.filter(pk__in=[s.pk for s in submissions[1:]])
                .exclude(status=Submission.Status.QUEUED)
                .exists()
            ),
            timeout=5,
        )

        drained.send_signal(signal.SIGTERM)  # the main process: Celery's warm shutdown
        assert drained.wait(timeout=60) == 0
    stopped = host(first_name)
    assert stopped.stopped_at is not None
    assert state_of(first_name, lab) == "offline"

    with celery_worker(env=env, log_path=tmp_path / "fresh.log", queues=QUEUES, name=second_name):
        rest = [wait_until(s, FINISHED, timeout=240) for s in submissions[1:]]

    for submission in rest:
        assert submission.status == Submission.Status.SCORED, submission.error_message
        assert submission.worker_host == second_name
        assert submission.attempts == 1  # nobody claimed it before the fresh worker
    first.refresh_from_db()
    assert (first.worker_host, first.attempts) == (first_name, 1)
