"""The grading-job harness: how a worker runs grade, re-grade and "Try it" alike.

Every job is: claim its row with a conditional update (only one claim can win) → make a
private temp dir → copy what it needs out of storage → run the engine → map any failure to a
`GradingError` (a crash becomes `internal`, with the job's own fix-it message) → remove the
temp dir → record the outcome with another conditional update guarded by the claim, so a
duplicate delivery, a retry or a worker presumed dead never writes a second result. A job
supplies `claim`, `run` and `record`; `grading_job_run` does the rest in that order.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from kombu.exceptions import OperationalError as KombuOperationalError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_delay,
    wait_exponential,
)

from core.events import grade_source_changed_on_commit
from core.storage import StoredFileTooLarge, copy_to_path
from labs.grading.errors import ErrorCode, GradingError
from labs.models import HeldOutDataset, Submission
from labs.services.hosts import worker_host_job_end, worker_host_job_start

logger = logging.getLogger(__name__)

GRADING_QUEUE = "grading"
REGRADE_QUEUE = "grading_low"


# --- queueing (after commit, so a worker never sees an uncommitted row) --------------------


def _send_after_commit(
    send: Callable[[], object], *, what: str, if_unsent: Callable[[], None] | None = None
) -> None:
    """Send a task once the transaction commits. With the broker unreachable (Redis restarting),
    the row is already saved: the request must not fail with a 500 after the fact. A grade is
    left queued for the sweeper (`submissions_sweep` re-sends queued rows older than
    GRADING_STALE_QUEUED_S); a "Try it" sentence, which the student is waiting for, is marked
    failed with a message to try again (`if_unsent`)."""

    def send_or_leave() -> None:
        try:
            send()
        except KombuOperationalError as exc:
            logger.warning("could not queue %s (broker unreachable: %s)", what, exc)
            if if_unsent is not None:
                if_unsent()

    transaction.on_commit(send_or_leave)


def enqueue_grade(submission_id: int, *, queue: str = GRADING_QUEUE) -> None:
    from labs.tasks import grade_submission

    _send_after_commit(
        lambda: grade_submission.apply_async(args=[submission_id], queue=queue),
        what=f"submission {submission_id}; the sweeper re-sends it",
    )


def enqueue_regrade(submission_id: int) -> None:
    from labs.tasks import regrade_submission

    _send_after_commit(
        lambda: regrade_submission.apply_async(args=[submission_id], queue=REGRADE_QUEUE),
        what=f"re-grade of submission {submission_id}; the sweeper re-sends it",
    )


def enqueue_try_it(prediction_id: int) -> None:
    from labs.tasks import try_it_predict

    def fail_prediction() -> None:
        from django.utils import timezone

        from labs.models import TryItPrediction

        TryItPrediction.objects.filter(
            pk=prediction_id, status=TryItPrediction.Status.QUEUED
        ).update(
            status=TryItPrediction.Status.FAILED,
            error_code="queue_unavailable",
            error_message=(
                "The grading queue is unreachable for a moment, so this sentence was not run. "
                "Try it again in a minute; if it keeps failing, tell your instructor."
            ),
            finished_at=timezone.now(),
        )

    _send_after_commit(
        lambda: try_it_predict.apply_async(args=[prediction_id]),
        what=f"try-it prediction {prediction_id}",
        if_unsent=fail_prediction,
    )


# --- the harness ----------------------------------------------------------------------------


@dataclass(frozen=True)
class JobOutcome:
    """What `run` produced, or the error it failed with (never both)."""

    result: Any = None
    error: GradingError | None = None


class GradingJob(ABC):
    #: Names the temp dir and the log line of a crash ("grade", "regrade", "tryit").
    kind: str
    #: What the person reads when the job crashed on our side.
    internal_message: str

    def __init__(self, job_id: int, *, worker: str = "") -> None:
        self.job_id = job_id
        #: The Celery node name running it (`grading@host`), or "" outside a worker: while it
        #: runs, the worker's row on the dashboard shows this job.
        self.worker = worker

    @abstractmethod
    def claim(self) -> bool:
        """Take the row with a conditional update; False if it is not ours to run."""

    @abstractmethod
    def run(self, workdir: Path) -> Any:
        """The work itself, in a private temp dir removed afterwards; raises GradingError."""

    @abstractmethod
    def record(self, outcome: JobOutcome) -> str:
        """Write the outcome, only if the claim is still ours. Returns what happened (logs)."""

    #: What `grading_job_run` returns when the claim was not won.
    skipped: str = "skipped: not queued"
    #: Whether `heartbeat` is called every GRADING_HEARTBEAT_INTERVAL_S while `run` works.
    has_heartbeat: bool = False

    def heartbeat(self) -> None:
        """Tell the sweeper this job is alive (jobs with `has_heartbeat`)."""
        return None

    def submission_id(self) -> int:
        """The submission the job works on (after a won claim): the worker's current job."""
        return self.job_id


def grading_job_run(job: GradingJob) -> str:
    if not _when_database_is_back(job, "claim", job.claim):
        return job.skipped
    shown = job.submission_id() if job.worker else None
    if shown is not None:
        _show_on_host(worker_host_job_start, name=job.worker, submission_id=shown, kind=job.kind)
    try:
        outcome = _run_in_workdir(job)
        return _when_database_is_back(job, "record the result", job.record, outcome)
    finally:
        if shown is not None:
            _show_on_host(worker_host_job_end, name=job.worker, submission_id=shown)


def _show_on_host(update, **fields) -> None:
    """The host list's current job is for display only: a database that is away (a restart,
    see `_when_database_is_back`) must not fail or mask the job itself."""
    try:
        update(**fields)
    except DatabaseError as exc:
        logger.warning("could not update the worker host's current job (%s)", exc)
        connection.close()


#: What a PostgreSQL restart, failover or network cut raises on the worker's side.
_DATABASE_UNREACHABLE = (OperationalError, InterfaceError)


def _when_database_is_back(job: GradingJob, what: str, step, *args):
    """Run the claim or the result write, retrying while the database is unreachable.

    A grade can take minutes and needs no database while it runs, so a PostgreSQL restart in
    the meantime must not throw its result away: the worker keeps the outcome in memory and
    retries the write (backoff 1 s doubling to GRADING_RECORD_RETRY_MAX_WAIT_S) for up to
    GRADING_RECORD_RETRY_S. The claim waits the same way, so a worker with several pool
    processes does not run through the queue during a restart, failing (and acknowledging)
    one task after another. Both steps are conditional updates, so a retry can never claim or
    record twice (a claim whose update landed but whose reply was lost reads as lost: the
    submission then waits, running, for the sweeper). If the database stays away longer, the
    error propagates: the sweeper then re-sends a submission left queued, or re-queues one
    left running once its heartbeat expires."""
    retrying = Retrying(
        retry=retry_if_exception_type(_DATABASE_UNREACHABLE),
        wait=wait_exponential(multiplier=1, max=settings.GRADING_RECORD_RETRY_MAX_WAIT_S),
        stop=stop_after_delay(settings.GRADING_RECORD_RETRY_S),
        before_sleep=lambda state: _before_retry(job, what, state),
        reraise=True,
    )
    return retrying(step, *args)


def _before_retry(job: GradingJob, what: str, state: RetryCallState) -> None:
    logger.warning(
        "%s job %s: could not %s (%s); retrying in %.0f s",
        job.kind,
        job.job_id,
        what,
        state.outcome.exception() if state.outcome else "?",
        state.upcoming_sleep,
    )
    # A connection the restart broke is unusable: hand it back (the pool discards it) so the
    # next try opens a fresh one.
    connection.close()


def _run_in_workdir(job: GradingJob) -> JobOutcome:
    heartbeat = _Heartbeat(job) if job.has_heartbeat else None
    if heartbeat:
        heartbeat.start()
    workdir = Path(tempfile.mkdtemp(prefix=f"cb-{job.kind}-{job.job_id}-"))
    try:
        return JobOutcome(result=job.run(workdir))
    except GradingError as exc:
        return JobOutcome(error=exc)
    except Exception:
        logger.exception("%s job %s crashed", job.kind, job.job_id)
        return JobOutcome(error=GradingError(ErrorCode.INTERNAL, job.internal_message))
    finally:
        if heartbeat:
            heartbeat.stop.set()
            heartbeat.join(timeout=5)
        shutil.rmtree(workdir, ignore_errors=True)


class _Heartbeat(threading.Thread):
    """Calls the job's heartbeat while it works, so the sweeper knows this worker is alive."""

    def __init__(self, job: GradingJob) -> None:
        super().__init__(daemon=True, name=f"heartbeat-{job.kind}-{job.job_id}")
        self.job = job
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            while not self.stop.wait(settings.GRADING_HEARTBEAT_INTERVAL_S):
                try:
                    self.job.heartbeat()
                except DatabaseError as exc:
                    # The database is restarting: keep beating, so that once it is back the
                    # sweeper sees this job alive instead of re-queueing work still running.
                    logger.warning(
                        "%s job %s: heartbeat failed (%s)", self.job.kind, self.job.job_id, exc
                    )
                    connection.close()
        finally:
            connection.close()


# --- what the jobs share ----------------------------------------------------------------------


def archive_suffix(filename: str) -> str:
    name = filename.lower()
    return ".tar.gz" if name.endswith((".tar.gz", ".tgz")) else ".zip"


def copy_from_storage(field_file, dest: Path, *, max_bytes: int, too_large: GradingError) -> Path:
    """Stream a stored file to the job's temp dir in chunks, through the storage API (not
    .path) so S3-compatible storage works on other hosts, with the worker's own credentials.
    A file over `max_bytes` is not copied: `too_large` is raised instead."""
    try:
        return copy_to_path(field_file.storage, field_file.name, dest, max_bytes=max_bytes)
    except StoredFileTooLarge:
        raise too_large from None


def copy_artifact(submission: Submission, workdir: Path) -> Path:
    lab = submission.lab
    dest = workdir / f"artifact{archive_suffix(submission.artifact.name)}"
    too_large = GradingError(
        ErrorCode.TOO_LARGE,
        f"The archive is larger than this lab's {lab.max_upload_bytes / 2**20:.0f} MB limit.",
    )
    return copy_from_storage(
        submission.artifact, dest, max_bytes=lab.max_upload_bytes, too_large=too_large
    )


def copy_dataset(dataset: HeldOutDataset, workdir: Path) -> Path:
    lab = dataset.lab
    too_large = GradingError(
        ErrorCode.INVALID_DATASET,
        f"The held-out file is larger than this lab's {lab.max_upload_bytes / 2**20:.0f} MB "
        "upload limit; upload a smaller one (Parquet, only text and label).",
    )
    return copy_from_storage(
        dataset.file,
        workdir / f"heldout.{dataset.format}",
        max_bytes=lab.max_upload_bytes,
        too_large=too_large,
    )


def required_dataset(dataset: HeldOutDataset | None) -> HeldOutDataset:
    """Grading and re-grading both need the lab's held-out set; without one the job fails
    with `internal` (the lab's problem, never charged) rather than crashing."""
    if dataset is None:
        raise GradingError(ErrorCode.INTERNAL, "The lab has no held-out dataset.")
    return dataset


def grade_files(submission: Submission, dataset: HeldOutDataset, workdir: Path):
    """Score a submission's archive on a held-out set with the lab's limits (the engine)."""
    from labs.grading.archive import ArchiveLimits
    from labs.grading.engine import GradingLimits, grade

    lab = submission.lab
    artifact = copy_artifact(submission, workdir)
    data = copy_dataset(dataset, workdir)
    limits = GradingLimits(
        timeout_s=lab.grading_timeout_s,
        memory_bytes=lab.grading_memory_bytes,
        archive=ArchiveLimits(max_upload_bytes=lab.max_upload_bytes),
        threads=settings.GRADING_THREADS or None,
        nice=settings.GRADING_NICE,
    )
    return grade(
        artifact,
        data,
        lab_labels=list(lab.labels),
        salt=lab.salt,
        public_fraction=lab.public_fraction,
        limits=limits,
        workdir=workdir,
    )


def announce_result(submission_id: int) -> None:
    """A submission's result changed (scored, failed, cancelled, re-graded): whatever
    depends on it (the gradebook) recomputes that student's lab score once this commits."""
    lab_id, student_id = Submission.objects.values_list("lab_id", "student_id").get(
        pk=submission_id
    )
    grade_source_changed_on_commit(source="lab", source_id=lab_id, user_id=student_id)
