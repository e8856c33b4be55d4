"""Reliability under faults: a real grading worker on a PostgreSQL and a Redis of the tests'
own (tests/labs/fault_stack.py), which the tests stop and start again while submissions are
queued and grading. Whatever happens, every submission ends scored, graded once.

"Graded once" is read from the database: `attempts` counts the claims (the conditional update
QUEUED → RUNNING that every grading run starts with), `enqueue_count` the grade tasks sent;
and from the worker's log, which says "submission N: scored" once per recorded result."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import redis as redis_client

from tests.labs.fault_stack import FaultStack
from tests.labs.grading.tiny import build_tiny_model, make_archive
from tests.realproc import postgres_server, redis_server
from tests.workers import celery_worker, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.worker]

GRADING_WORKER_QUEUES = "celery,grading,grading_low"
FINISHED = {"scored", "failed", "cancelled"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> FaultStack:
    """PostgreSQL + persisting Redis + a migrated database with one lab, for the module."""
    folder = tmp_path_factory.mktemp("fault-stack")
    with (
        postgres_server(folder / "postgres") as postgres,
        redis_server(folder / "redis", persist=True) as redis,
    ):
        postgres.create_database("coursebench_faults")
        stack = FaultStack(
            postgres=postgres, redis=redis, database="coursebench_faults", folder=folder
        )
        stack.manage("migrate", "--noinput", "-v", "0")
        stack.lab_id = stack.command("lab", str(folder))["lab"]
        yield stack


@pytest.fixture(scope="module")
def worker_log(stack) -> Path:
    """One warm grading worker on the stack for the module (warm-up imports torch: seconds)."""
    log = stack.folder / "worker.log"
    with celery_worker(env=stack.env(), log_path=log, queues=GRADING_WORKER_QUEUES):
        yield log


@pytest.fixture(scope="module")
def archives(tmp_path_factory) -> dict[str, Path]:
    """A model that grades in seconds (so a service can go down under it) and a quick one."""
    folder = tmp_path_factory.mktemp("models")
    slow = build_tiny_model(folder / "slow", hidden_size=384, layers=8)
    fast = build_tiny_model(folder / "fast")
    return {
        "slow": make_archive(slow, folder / "slow.zip"),
        "fast": make_archive(fast, folder / "fast.zip"),
    }


def _wait_for(stack: FaultStack, ids: list[int], statuses: set[str], timeout: float = 180.0):
    deadline = time.monotonic() + timeout
    rows: dict = {}
    while time.monotonic() < deadline:
        try:
            rows = stack.submissions(ids)
        except OSError:  # psycopg's OperationalError is one: the database is still down
            rows = {}
        if rows and all(row["status"] in statuses for row in rows.values()):
            return rows
        time.sleep(0.25)
    raise AssertionError(f"not all {sorted(statuses)} after {timeout:.0f} s: {rows}")


def _wait_for_log(log: Path, pattern: str, timeout: float = 120.0, *, more_than: int = 0) -> None:
    """Until the worker's log has more than `more_than` lines matching `pattern`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(re.findall(pattern, log.read_text())) > more_than:
            return
        time.sleep(0.2)
    raise AssertionError(f"no {pattern!r} in the worker's log after {timeout:.0f} s")


def _scored_lines(log: Path, submission_id: int) -> int:
    return log.read_text().count(f"submission {submission_id}: scored")


def test_redis_restarted_with_submissions_queued_and_one_running_scores_each_exactly_once(
    stack, worker_log, archives
):
    running, *queued = stack.submit(archives["slow"], archives["fast"], archives["fast"])
    _wait_for(stack, [running], {"running"})

    connects = worker_log.read_text().count("Connected to redis")
    losses = worker_log.read_text().count("Connection to broker lost")
    stack.redis.stop()
    _wait_for_log(worker_log, "Connection to broker lost", timeout=30, more_than=losses)
    # The grade in flight needs no broker: it finishes and its result is written meanwhile,
    # but its late acknowledgement cannot reach Redis.
    assert _wait_for(stack, [running], FINISHED)[running]["status"] == "scored"
    stack.redis.start()
    broker = redis_client.Redis.from_url(stack.redis.url)
    # Not lost: Redis kept the task in flight among its unacknowledged messages (it would
    # come back after CELERY_VISIBILITY_TIMEOUT if nobody acknowledged it), and the queued ones.
    assert broker.hlen("unacked") == 1
    assert broker.llen("grading") == len(queued)

    rows = _wait_for(stack, [running, *queued], FINISHED)
    for submission_id, row in rows.items():
        assert row["status"] == "scored", row
        assert row["attempts"] == 1, row  # claimed once: never graded twice
        assert row["enqueue_count"] == 1, row  # the queued tasks outlived the restart
        assert _scored_lines(worker_log, submission_id) == 1
    # The worker reconnected by itself.
    assert worker_log.read_text().count("Connected to redis") > connects
    # Once reconnected, the worker acknowledged the finished task: nothing is redelivered.
    assert wait_for(lambda: broker.hlen("unacked") == 0, timeout=30)
    assert f"submission {running}: skipped" not in worker_log.read_text()


def test_redis_restarted_without_its_data_the_sweeper_resends_the_lost_tasks_once(
    stack, worker_log, archives
):
    running, *queued = stack.submit(archives["slow"], archives["fast"], archives["fast"])
    _wait_for(stack, [running], {"running"})

    stack.redis.stop()
    stack.redis.forget()  # a crash, or a Redis that keeps nothing on disk: every task is gone
    stack.redis.start()

    # The running grade does not need the broker: it finishes and its result is written.
    assert _wait_for(stack, [running], FINISHED)[running]["status"] == "scored"
    assert {row["status"] for row in stack.submissions(queued).values()} == {"queued"}
    # The sweeper's first run past GRADING_STALE_QUEUED_S re-sends what is still queued.
    report = stack.command("sweep")
    assert sorted(report["requeued"]) == sorted(queued)

    rows = _wait_for(stack, [running, *queued], FINISHED)
    assert all(row["status"] == "scored" for row in rows.values()), rows
    assert all(row["attempts"] == 1 for row in rows.values()), rows
    assert [rows[i]["enqueue_count"] for i in queued] == [2] * len(queued)
    for submission_id in (running, *queued):
        assert _scored_lines(worker_log, submission_id) == 1


def test_postgresql_restarted_while_grading_the_result_is_written_once_it_is_back(
    stack, worker_log, archives
):
    (running,) = stack.submit(archives["slow"])
    _wait_for(stack, [running], {"running"})

    stack.postgres.stop()
    # The grade finishes with the database down: the worker keeps the result and retries.
    _wait_for_log(worker_log, rf"grade job {running}: could not record the result")
    stack.postgres.start()

    row = _wait_for(stack, [running], FINISHED)[running]
    assert row["status"] == "scored", row
    assert row["attempts"] == 1, row
    assert _scored_lines(worker_log, running) == 1


def test_a_grade_task_delivered_while_postgresql_is_down_waits_for_it_and_scores_once(
    stack, worker_log, archives
):
    (waiting,) = stack.submit_held(archives["fast"])

    stack.postgres.stop()
    stack.send_grade_task(waiting)
    # The claim cannot be made: the worker holds the task (unacknowledged) and retries, instead
    # of failing it and leaving the submission to the sweeper's GRADING_STALE_QUEUED_S.
    _wait_for_log(worker_log, rf"grade job {waiting}: could not claim")
    stack.postgres.start()

    row = _wait_for(stack, [waiting], FINISHED)[waiting]
    assert row["status"] == "scored", row
    assert (row["attempts"], row["enqueue_count"]) == (1, 1)
    assert _scored_lines(worker_log, waiting) == 1
