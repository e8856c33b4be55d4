"""The grading lifecycle: claim, heartbeat, grade, record, cancel, and the sweeper.

The database is the source of truth for a submission's state. Workers claim a submission
with a conditional update (only one claim can win) and write the result with another one
guarded by the claim token, so a duplicate delivery, a retry or a worker that was presumed
dead can never grade twice or write a second result.
"""

from __future__ import annotations

import logging
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.exceptions import ApplicationError
from courseware.permissions import Actor, require_staff, require_writable
from labs.grading.errors import ErrorCode, GradingError
from labs.models import HeldOutDataset, Submission
from labs.selectors import dataset_active
from labs.services.jobs import (
    GradingJob,
    JobOutcome,
    announce_result,
    enqueue_grade,
    enqueue_regrade,
    grade_files,
    grading_job_run,
    required_dataset,
)

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


def submission_claim(*, submission_id: int, worker_host: str) -> str | None:
    """Move QUEUED → RUNNING. Returns the claim token, or None if another claim won."""
    token = uuid.uuid4().hex
    now = timezone.now()
    won = Submission.objects.filter(pk=submission_id, status=Submission.Status.QUEUED).update(
        status=Submission.Status.RUNNING,
        claim_token=token,
        worker_host=worker_host[:255],
        started_at=now,
        heartbeat_at=now,
        attempts=F("attempts") + 1,
    )
    return token if won == 1 else None


def submission_heartbeat(*, submission_id: int, token: str) -> bool:
    return (
        Submission.objects.filter(
            pk=submission_id, status=Submission.Status.RUNNING, claim_token=token
        ).update(heartbeat_at=timezone.now())
        == 1
    )


@transaction.atomic
def submission_finish(
    *,
    submission_id: int,
    token: str,
    result=None,
    error: GradingError | None = None,
    dataset: HeldOutDataset | None = None,
) -> bool:
    """Record the outcome in one transaction, only if our claim is still the live one."""
    fields: dict = {"finished_at": timezone.now(), "claim_token": ""}
    if error is None:
        fields.update(
            status=Submission.Status.SCORED,
            metrics_public=result.metrics_public,
            metrics_private=result.metrics_private,
            notes=result.notes,
            grader_version=result.grader_version,
            error_code="",
            error_message="",
        )
    else:
        fields.update(
            status=Submission.Status.FAILED,
            error_code=error.code.value,
            error_message=error.message,
            charged=error.code != ErrorCode.INTERNAL,
        )
    if dataset is not None:
        fields["dataset"] = dataset
    updated = Submission.objects.filter(
        pk=submission_id, status=Submission.Status.RUNNING, claim_token=token
    ).update(**fields)
    if updated and result is not None:
        _store_timings(submission_id, result.timings)
    if updated:
        announce_result(submission_id)
    return updated == 1


def _store_timings(submission_id: int, timings: dict) -> None:
    s = Submission.objects.only("queued_at", "started_at").get(pk=submission_id)
    wait = (s.started_at - s.queued_at).total_seconds() if s.queued_at and s.started_at else None
    Submission.objects.filter(pk=submission_id).update(timings={**timings, "queue_wait_s": wait})


class _GradeJob(GradingJob):
    kind = "grade"
    skipped = "skipped: not queued (already claimed, finished or cancelled)"
    internal_message = (
        "The grader failed on our side. This attempt does not count towards your quota; "
        "please submit again, and tell your instructor if it keeps happening."
    )
    has_heartbeat = True

    def __init__(self, submission_id: int, worker_host: str, *, worker: str = "") -> None:
        super().__init__(submission_id, worker=worker)
        self.worker_host = worker_host

    def claim(self) -> bool:
        self.token = submission_claim(submission_id=self.job_id, worker_host=self.worker_host)
        if self.token is None:
            return False
        self.submission = Submission.objects.select_related("lab").get(pk=self.job_id)
        self.dataset = dataset_active(lab=self.submission.lab)
        return True

    def heartbeat(self) -> None:
        submission_heartbeat(submission_id=self.job_id, token=self.token)

    def run(self, workdir: Path):
        return grade_files(self.submission, required_dataset(self.dataset), workdir)

    def record(self, outcome: JobOutcome) -> str:
        recorded = submission_finish(
            submission_id=self.job_id,
            token=self.token,
            result=outcome.result,
            error=outcome.error,
            dataset=self.dataset,
        )
        if not recorded:
            return "discarded: claim lost (cancelled or re-queued meanwhile)"
        return "scored" if outcome.error is None else f"failed: {outcome.error.code.value}"


def submission_grade(
    *, submission_id: int, worker_host: str | None = None, worker: str = ""
) -> str:
    """Claim, grade and record one submission. Returns what happened (for logs).

    `worker` is the Celery node name (`grading@host`): recorded as the submission's worker
    host (two workers on one machine stay apart) and shown as that worker's current job."""
    host = worker_host or worker or socket.gethostname()
    return grading_job_run(_GradeJob(submission_id, host, worker=worker))


@transaction.atomic
def submission_cancel(*, submission: Submission, actor: Actor) -> Submission:
    """The teaching staff (instructors, teaching assistants) cancel queued or running
    submissions; a running grade's result is then discarded. Cancelled submissions are not
    charged."""
    require_staff(user=actor, course=submission.lab.session.course)
    require_writable(actor=actor, course=submission.lab.session.course)
    updated = Submission.objects.filter(
        pk=submission.pk, status__in=[Submission.Status.QUEUED, Submission.Status.RUNNING]
    ).update(
        status=Submission.Status.CANCELLED,
        claim_token="",
        finished_at=timezone.now(),
        charged=False,
    )
    submission.refresh_from_db()
    if updated:
        announce_result(submission.pk)
    if not updated:
        raise ApplicationError(
            "not_cancellable",
            f"Submission {submission.pk} is already {submission.status}; only queued or running "
            "submissions can be cancelled.",
            status_code=409,
        )
    return submission


# --- sweeper ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepReport:
    requeued: list[int]
    failed: list[int]


@transaction.atomic
def submissions_sweep(*, now: datetime | None = None) -> SweepReport:
    """Rescue work a dead worker left behind, and queued work whose task was lost.

    A RUNNING submission whose heartbeat expired, or a QUEUED one waiting longer than
    GRADING_STALE_QUEUED_S, is re-queued up to MAX_ATTEMPTS claims; after that it fails with
    `internal`, not charged to the student's quota. A re-grade stuck past the task time limit
    is offered to a worker again."""
    now = now or timezone.now()
    expired = now - timedelta(seconds=settings.GRADING_HEARTBEAT_EXPIRY_S)
    stale = now - timedelta(seconds=settings.GRADING_STALE_QUEUED_S)
    dead = list(
        Submission.objects.select_for_update(skip_locked=True).filter(
            status=Submission.Status.RUNNING, heartbeat_at__lt=expired
        )
    )
    lost = list(
        Submission.objects.select_for_update(skip_locked=True).filter(
            status=Submission.Status.QUEUED, queued_at__lt=stale
        )
    )
    requeued, failed = [], []
    for submission in dead + lost:
        if submission.attempts >= MAX_ATTEMPTS:
            _fail_interrupted(submission, now)
            failed.append(submission.pk)
        else:
            _requeue(submission, now)
            requeued.append(submission.pk)
    _requeue_stuck_regrades(now)
    if requeued or failed:
        logger.warning("sweeper requeued %s, failed %s", requeued, failed)
    return SweepReport(requeued=requeued, failed=failed)


def _fail_interrupted(submission: Submission, now: datetime) -> None:
    Submission.objects.filter(pk=submission.pk, status=submission.status).update(
        status=Submission.Status.FAILED,
        error_code=ErrorCode.INTERNAL.value,
        error_message=(
            f"Grading was interrupted {submission.attempts} times on our side. This does "
            "not count towards your quota; please submit again."
        ),
        charged=False,
        claim_token="",
        finished_at=now,
    )


def _requeue(submission: Submission, now: datetime) -> None:
    Submission.objects.filter(pk=submission.pk, status=submission.status).update(
        status=Submission.Status.QUEUED,
        claim_token="",
        queued_at=now,
        enqueue_count=F("enqueue_count") + 1,
    )
    enqueue_grade(submission.pk)


def _requeue_stuck_regrades(now: datetime) -> None:
    stuck = now - timedelta(seconds=settings.GRADING_TASK_TIME_LIMIT_S)
    for submission_id in Submission.objects.filter(
        regrade_token__gt="", regrade_started_at__lt=stuck
    ).values_list("pk", flat=True):
        Submission.objects.filter(pk=submission_id).update(
            regrade_token="", regrade_started_at=None
        )
        enqueue_regrade(submission_id)
