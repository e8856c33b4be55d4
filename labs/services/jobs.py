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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from core.events import grade_source_changed_on_commit
from core.storage import StoredFileTooLarge, copy_to_path
from labs.grading.errors import ErrorCode, GradingError
from labs.models import HeldOutDataset, Submission
from labs.services.hosts import worker_host_job_end, worker_host_job_start

logger = logging.getLogger(__name__)

GRADING_QUEUE = "grading"
REGRADE_QUEUE = "grading_low"


# --- queueing (after commit, so a worker never sees an uncommitted row) --------------------


def enqueue_grade(submission_id: int, *, queue: str = GRADING_QUEUE) -> None:
    from labs.tasks import grade_submission

    transaction.on_commit(lambda: grade_submission.apply_async(args=[submission_id], queue=queue))


def enqueue_regrade(submission_id: int) -> None:
    from labs.tasks import regrade_submission

    transaction.on_commit(
        lambda: regrade_submission.apply_async(args=[submission_id], queue=REGRADE_QUEUE)
    )


def enqueue_try_it(prediction_id: int) -> None:
    from labs.tasks import try_it_predict

    transaction.on_commit(lambda: try_it_predict.apply_async(args=[prediction_id]))


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
    if not job.claim():
        return job.skipped
    shown = job.submission_id() if job.worker else None
    if shown is not None:
        worker_host_job_start(name=job.worker, submission_id=shown, kind=job.kind)
    try:
        return job.record(_run_in_workdir(job))
    finally:
        if shown is not None:
            worker_host_job_end(name=job.worker, submission_id=shown)


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
                self.job.heartbeat()
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
