"""The grading-job harness: grade and re-grade run through the same steps and guards."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.db import OperationalError

from labs import services
from labs.grading import engine
from labs.grading.errors import ErrorCode, GradingError
from labs.models import Submission
from labs.services.jobs import GradingJob, JobOutcome, grading_job_run
from tests.factories import HeldOutDatasetFactory, LabFactory, SubmissionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_storage")]


class _Result:
    metrics_public = {"macro_f1": 0.9}
    metrics_private = {"macro_f1": 0.8}
    notes: list[str] = []
    grader_version = "test"
    timings: dict = {}


def _pending_regrade(**fields) -> Submission:
    return SubmissionFactory(
        status=Submission.Status.SCORED,
        metrics_public={"macro_f1": 0.5},
        metrics_private={"macro_f1": 0.4},
        regrade_requested_at="2025-01-01T00:00:00Z",
        **fields,
    )


def test_a_regrade_without_a_held_out_dataset_fails_with_internal_and_keeps_the_result():
    submission = _pending_regrade(lab=LabFactory())

    assert services.submission_regrade(submission_id=submission.pk) == "regrade failed"

    submission.refresh_from_db()
    assert submission.regrade_error == "internal: The lab has no held-out dataset."
    assert submission.metrics_public == {"macro_f1": 0.5}  # the current result stays
    assert submission.regrade_token == "" and submission.regrade_requested_at is None


def test_a_regrade_writes_the_new_scores_and_the_dataset_they_came_from(monkeypatch):
    dataset = HeldOutDatasetFactory()
    submission = _pending_regrade(lab=dataset.lab)
    monkeypatch.setattr(engine, "grade", lambda *_a, **_k: _Result())

    assert services.submission_regrade(submission_id=submission.pk) == "re-graded"

    submission.refresh_from_db()
    assert submission.metrics_public == {"macro_f1": 0.9}
    assert submission.dataset_id == dataset.pk
    assert submission.regrade_error == ""


def test_a_crash_in_a_regrade_is_internal_with_the_regrade_message(monkeypatch):
    dataset = HeldOutDatasetFactory()
    submission = _pending_regrade(lab=dataset.lab)

    def crash(*_a, **_k):
        raise RuntimeError("boom")

    monkeypatch.setattr(engine, "grade", crash)

    assert services.submission_regrade(submission_id=submission.pk) == "regrade failed"
    submission.refresh_from_db()
    assert submission.regrade_error == "internal: The re-grade failed on our side."


def test_a_regrade_that_is_not_pending_is_skipped():
    submission = SubmissionFactory(status=Submission.Status.SCORED)

    assert (
        services.submission_regrade(submission_id=submission.pk) == "skipped: no re-grade pending"
    )


def test_a_grade_without_a_held_out_dataset_fails_with_internal_uncharged():
    submission = SubmissionFactory(lab=LabFactory())

    assert services.submission_grade(submission_id=submission.pk) == "failed: internal"

    submission.refresh_from_db()
    assert submission.error_message == "The lab has no held-out dataset."
    assert submission.charged is False


class _Job(GradingJob):
    kind = "test"
    internal_message = "ours"

    def __init__(self, work, *, claims: bool = True) -> None:
        super().__init__(7)
        self.work, self.claims, self.seen = work, claims, {}

    def claim(self) -> bool:
        return self.claims

    def run(self, workdir: Path):
        self.seen["workdir"] = workdir
        return self.work(workdir)

    def record(self, outcome: JobOutcome) -> str:
        self.seen["outcome"] = outcome
        return "recorded"


def test_the_harness_runs_in_a_private_temp_dir_it_removes_afterwards():
    job = _Job(lambda workdir: (workdir / "x").write_text("x") and workdir.is_dir())

    assert grading_job_run(job) == "recorded"

    assert job.seen["outcome"] == JobOutcome(result=True)
    assert job.seen["workdir"].name.startswith("cb-test-7-")
    assert not job.seen["workdir"].exists()


def test_the_harness_passes_a_grading_error_on_and_maps_a_crash_to_internal():
    refused = GradingError(ErrorCode.LOAD_FAILED, "no weights")

    def refuse(_workdir):
        raise refused

    def crash(_workdir):
        raise KeyError("bug")

    assert grading_job_run(job := _Job(refuse)) == "recorded"
    assert job.seen["outcome"].error is refused
    grading_job_run(job := _Job(crash))
    assert job.seen["outcome"].error.code == ErrorCode.INTERNAL
    assert job.seen["outcome"].error.message == "ours"
    assert not job.seen["workdir"].exists()


def test_the_harness_runs_nothing_when_the_claim_is_lost():
    job = _Job(lambda _workdir: pytest.fail("ran without a claim"), claims=False)

    assert grading_job_run(job) == "skipped: not queued"
    assert job.seen == {}


class _FlakyDatabaseJob(_Job):
    """Its record (and heartbeat) find the database away `failures` times, then get through."""

    has_heartbeat = True

    def __init__(self, work, *, failures: int) -> None:
        super().__init__(work)
        self.failures, self.records, self.beats = failures, 0, 0

    def record(self, outcome: JobOutcome) -> str:
        self.records += 1
        if self.records <= self.failures:
            raise OperationalError("server closed the connection unexpectedly")
        return super().record(outcome)

    def heartbeat(self) -> None:
        self.beats += 1
        if self.beats <= self.failures:
            raise OperationalError("connection refused")


def test_a_result_whose_write_finds_the_database_away_is_written_once_it_is_back(settings):
    settings.GRADING_RECORD_RETRY_MAX_WAIT_S = 1
    job = _FlakyDatabaseJob(lambda _workdir: "graded", failures=2)

    assert grading_job_run(job) == "recorded"

    assert job.records == 3
    assert job.seen["outcome"] == JobOutcome(result="graded")


def test_a_result_write_gives_up_after_grading_record_retry_s(settings):
    settings.GRADING_RECORD_RETRY_S = 0
    job = _FlakyDatabaseJob(lambda _workdir: "graded", failures=5)

    with pytest.raises(OperationalError):
        grading_job_run(job)
    assert job.records == 1  # the sweeper takes over once the heartbeat expires


def test_heartbeats_keep_going_through_a_database_outage(settings):
    settings.GRADING_HEARTBEAT_INTERVAL_S = 1
    job = _FlakyDatabaseJob(lambda _workdir: time.sleep(3.5), failures=1)

    grading_job_run(job)

    assert job.beats >= 2  # the first failed; the thread did not die with it
