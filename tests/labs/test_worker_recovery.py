"""The production topology with real Celery workers on Redis and PostgreSQL: grading workers
on `celery,grading,grading_low`, and a small maintenance worker running beat and its periodic
tasks, so a dead or wedged grading worker can never stop the sweeper."""

from __future__ import annotations

import os
import signal
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from labs import services
from labs.models import Submission
from tests.factories import SubmissionFactory
from tests.labs.grading.tiny import build_tiny_model, make_archive
from tests.labs.pipeline import (
    enrol_student,
    flush_broker,
    heldout_rows,
    make_lab,
    submit,
    wait_until,
    worker_env,
)
from tests.workers import celery_worker, child_pids, has_torch_loaded

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

GRADING_WORKER_QUEUES = "celery,grading,grading_low"


@pytest.fixture(scope="module")
def maintenance(django_db_setup, tmp_path_factory):
    """`celery -A config worker -Q maintenance --concurrency=1 --beat`, sweeping every 5 s."""
    flush_broker()
    folder = tmp_path_factory.mktemp("maintenance")
    env = worker_env(GRADING_SWEEP_EVERY_S="5", GRADING_HEARTBEAT_EXPIRY_S="8")
    beat = ("--beat", "-s", str(folder / "celerybeat-schedule"))
    with celery_worker(
        env=env, log_path=folder / "worker.log", queues="maintenance", extra_args=beat
    ) as process:
        yield process
    flush_broker()  # the grade tasks it re-sent must not reach other modules' workers


def _queued_grade_tasks() -> int:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL).llen("grading")


def test_the_maintenance_worker_sweeps_with_no_grading_worker_and_never_loads_torch(
    maintenance, private_storage
):
    orphan = SubmissionFactory()
    services.submission_claim(submission_id=orphan.pk, worker_host="a-dead-grading-worker")
    Submission.objects.filter(pk=orphan.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))

    orphan = wait_until(orphan, {Submission.Status.QUEUED}, timeout=60)

    assert orphan.enqueue_count == 2  # re-sent, for whichever grading worker comes back
    assert _queued_grade_tasks() == 1
    for pid in (maintenance.pid, *child_pids(maintenance.pid)):
        assert not has_torch_loaded(pid)


def test_a_pool_process_killed_mid_grade_is_replaced_and_its_submission_scored_once(
    maintenance, tmp_path
):
    flush_broker()
    lab, _ = make_lab(tmp_path, rows=heldout_rows(copies=150))
    student = enrol_student(lab)
    slow = make_archive(
        build_tiny_model(tmp_path / "slow", hidden_size=256, layers=6), tmp_path / "slow.zip"
    )
    log = tmp_path / "grading.log"

    with celery_worker(env=worker_env(), log_path=log, queues=GRADING_WORKER_QUEUES) as worker:
        (pool_process,) = child_pids(worker.pid)
        submission = wait_until(submit(lab, student, slow), {Submission.Status.RUNNING})
        os.kill(pool_process, signal.SIGKILL)  # what the OOM killer does

        submission = wait_until(submission, timeout=180)
        fast = make_archive(build_tiny_model(tmp_path / "fast"), tmp_path / "fast.zip")
        following = wait_until(submit(lab, student, fast))
        (replacement,) = child_pids(worker.pid)

    assert submission.status == Submission.Status.SCORED, submission.error_message
    assert submission.attempts == 2  # the killed claim, then the sweeper's re-queue
    assert log.read_text().count(f"submission {submission.pk}: scored") == 1
    assert following.status == Submission.Status.SCORED, following.error_message
    assert replacement != pool_process
    assert "Timed out waiting for UP message" not in log.read_text()


def test_a_grading_worker_killed_whole_mid_grade_is_rescued_by_the_sweeper_and_scored_once(
    maintenance, tmp_path
):
    """Main process and pool gone (a host crash): nobody gives the task back, so only the
    maintenance worker's sweeper can rescue the submission, once its heartbeat expires."""
    flush_broker()
    lab, _ = make_lab(tmp_path, rows=heldout_rows(copies=150))
    student = enrol_student(lab)
    slow = make_archive(
        build_tiny_model(tmp_path / "slow", hidden_size=256, layers=6), tmp_path / "slow.zip"
    )

    env = worker_env()
    with celery_worker(
        env=env, log_path=tmp_path / "w1.log", queues=GRADING_WORKER_QUEUES
    ) as doomed:
        submission = wait_until(submit(lab, student, slow), {Submission.Status.RUNNING})
        os.killpg(doomed.pid, signal.SIGKILL)
        doomed.wait(timeout=10)

    submission.refresh_from_db()
    assert submission.status == Submission.Status.RUNNING  # orphaned: nobody will finish it
    with celery_worker(env=env, log_path=tmp_path / "w2.log", queues=GRADING_WORKER_QUEUES):
        submission = wait_until(submission, timeout=180)

    assert submission.status == Submission.Status.SCORED, submission.error_message
    assert submission.attempts == 2
    assert submission.enqueue_count == 2  # re-sent once, by the sweeper
    assert submission.metrics_public is not None
