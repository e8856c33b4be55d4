"""Lab writes: submissions, their grading lifecycle, held-out datasets, re-grades.

The database is the source of truth for a submission's state. Workers claim a submission
with a conditional update (only one claim can win) and write the result with another one
guarded by the claim token, so a duplicate delivery, a retry or a worker that was presumed
dead can never grade twice or write a second result.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import socket
import tempfile
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from core.exceptions import ApplicationError
from courseware.models import Membership
from courseware.permissions import is_instructor, require_instructor, require_student
from labs.grading.errors import ErrorCode, GradingError
from labs.models import HeldOutDataset, Lab, Submission
from labs.selectors import dataset_active, quota_status

logger = logging.getLogger(__name__)

GRADING_QUEUE = "grading"
REGRADE_QUEUE = "grading_low"
MAX_ATTEMPTS = 3
_ARCHIVE_MAGIC = (b"PK\x03\x04", b"\x1f\x8b")  # a zip with entries, or gzip
_EMPTY_ZIP = b"PK\x05\x06"  # a zip that is only its end-of-directory record


def _now() -> datetime:
    return timezone.now()


def _enqueue(submission_id: int, *, queue: str = GRADING_QUEUE) -> None:
    from labs.tasks import grade_submission

    transaction.on_commit(lambda: grade_submission.apply_async(args=[submission_id], queue=queue))


def _sha256(fileobj) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: fileobj.read(1024 * 1024), b""):
        digest.update(chunk)
    fileobj.seek(0)
    return digest.hexdigest()


def _check_lab_open(lab: Lab, now: datetime) -> None:
    if lab.opens_at and now < lab.opens_at:
        raise ApplicationError(
            "lab_not_open", f"This lab opens at {lab.opens_at:%Y-%m-%d %H:%M %Z}.", status_code=409
        )
    if lab.closes_at and now >= lab.closes_at:
        raise ApplicationError(
            "lab_closed",
            f"This lab closed at {lab.closes_at:%Y-%m-%d %H:%M %Z}; "
            "submissions are no longer taken.",
            status_code=409,
        )


def _check_upload(lab: Lab, upload: File) -> None:
    size = upload.size or 0
    if size == 0:
        raise ApplicationError("invalid_archive", "The uploaded file is empty.", status_code=400)
    if size > lab.max_upload_bytes:
        raise ApplicationError(
            "too_large",
            f"The archive is {size / 2**20:.1f} MB; this lab accepts at most "
            f"{lab.max_upload_bytes / 2**20:.0f} MB. Remove optimizer states and checkpoints "
            "(keep only the save_pretrained files).",
            status_code=413,
        )
    head = upload.read(4)
    upload.seek(0)
    if head == _EMPTY_ZIP:  # caught here, so it costs no submission from the quota
        raise ApplicationError(
            "invalid_archive",
            "The zip archive is empty. Zip the folder written by `model.save_pretrained(...)` "
            "and `tokenizer.save_pretrained(...)` (the files in it, not an empty folder).",
            status_code=400,
        )
    if not head.startswith(_ARCHIVE_MAGIC):
        raise ApplicationError(
            "invalid_archive",
            "This is not a .zip or .tar.gz archive. Zip the folder written by "
            "`model.save_pretrained(...)` and `tokenizer.save_pretrained(...)` and upload that.",
            status_code=400,
        )


def _precheck_archive(lab: Lab, upload: File) -> None:
    """Refuse, before anything is stored or charged, what the grader would refuse from the
    archive's listing and config.json alone (same codes and messages; no model code runs)."""
    from labs.grading.archive import ArchiveLimits
    from labs.grading.artifact import precheck_archive

    try:
        precheck_archive(
            upload,
            lab_labels=list(lab.labels),
            limits=ArchiveLimits(max_upload_bytes=lab.max_upload_bytes),
        )
    except GradingError as exc:
        status = 413 if exc.code == ErrorCode.TOO_LARGE else 400
        if exc.code in (ErrorCode.INTERNAL, ErrorCode.INVALID_DATASET):
            status = 409  # the lab's problem, not the upload's
        raise ApplicationError(exc.code.value, exc.message, status_code=status) from exc
    finally:
        upload.seek(0)


def _check_quota(lab: Lab, student) -> None:
    quota = quota_status(lab=lab, student=student)
    if quota.left_total == 0:
        raise ApplicationError(
            "quota_exceeded",
            f"You have used all {lab.total_quota} submissions of this lab.",
            status_code=429,
            extra={"left_today": 0, "left_total": 0},
        )
    if quota.left_today == 0:
        raise ApplicationError(
            "quota_exceeded",
            f"You have used today's {lab.daily_quota} submissions; 0 left until "
            f"{quota.resets_at:%Y-%m-%d %H:%M} UTC.",
            status_code=429,
            extra={"left_today": 0, "resets_at": quota.resets_at.isoformat()},
        )


@transaction.atomic
def submission_create(*, lab: Lab, student, upload: File, filename: str) -> Submission:
    """Store a student's model archive and queue it for grading."""
    require_student(user=student, course=lab.session.course)
    _check_lab_open(lab, _now())
    _check_upload(lab, upload)
    if dataset_active(lab=lab) is None:
        raise ApplicationError(
            "no_dataset",
            "This lab has no held-out dataset yet; ask your instructor to upload one.",
            status_code=409,
        )
    _precheck_archive(lab, upload)
    # Serialise concurrent uploads by the same student in this course (a row lock on their
    # membership), so the quota check and the insert below are atomic together.
    Membership.objects.select_for_update().get(course=lab.session.course, user=student)
    _check_quota(lab, student)

    submission = Submission(
        lab=lab,
        student=student,
        artifact_name=Path(filename).name[:255],
        artifact_size=upload.size,
        artifact_sha256=_sha256(upload),
        status=Submission.Status.QUEUED,
        queued_at=_now(),
        enqueue_count=1,
    )
    submission.artifact.save(f"{uuid.uuid4().hex}{_archive_suffix(filename)}", upload, save=False)
    submission.full_clean()
    submission.save()
    _enqueue(submission.pk)
    return submission


@transaction.atomic
def submission_create_reference(*, lab: Lab, instructor, upload: File, filename: str) -> Submission:
    """Store an instructor's reference model (the baseline students try to beat) and queue it
    for grading. It is graded like a submission but is never charged to a quota or ranked: the
    leaderboard shows it as a labelled line. Taken whether or not the lab is open."""
    require_instructor(user=instructor, course=lab.session.course)
    _check_upload(lab, upload)
    if dataset_active(lab=lab) is None:
        raise ApplicationError(
            "no_dataset",
            "Upload the lab's held-out dataset first: a reference is scored on it.",
            status_code=409,
        )
    submission = Submission(
        lab=lab,
        student=instructor,
        is_reference=True,
        charged=False,
        artifact_name=Path(filename).name[:255],
        artifact_size=upload.size,
        artifact_sha256=_sha256(upload),
        status=Submission.Status.QUEUED,
        queued_at=_now(),
        enqueue_count=1,
    )
    submission.artifact.save(f"{uuid.uuid4().hex}{_archive_suffix(filename)}", upload, save=False)
    submission.full_clean()
    submission.save()
    _enqueue(submission.pk)
    return submission


def _archive_suffix(filename: str) -> str:
    name = filename.lower()
    return ".tar.gz" if name.endswith((".tar.gz", ".tgz")) else ".zip"


# --- grading lifecycle ------------------------------------------------------------------


def submission_claim(*, submission_id: int, worker_host: str) -> str | None:
    """Move QUEUED → RUNNING. Returns the claim token, or None if another claim won."""
    token = uuid.uuid4().hex
    now = _now()
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
        ).update(heartbeat_at=_now())
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
    fields: dict = {"finished_at": _now(), "claim_token": ""}
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
    return updated == 1


def _store_timings(submission_id: int, timings: dict) -> None:
    s = Submission.objects.only("queued_at", "started_at").get(pk=submission_id)
    wait = (s.started_at - s.queued_at).total_seconds() if s.queued_at and s.started_at else None
    Submission.objects.filter(pk=submission_id).update(timings={**timings, "queue_wait_s": wait})


class _Heartbeat(threading.Thread):
    """Touches `heartbeat_at` while grading so the sweeper knows this worker is alive."""

    def __init__(self, submission_id: int, token: str) -> None:
        super().__init__(daemon=True, name=f"heartbeat-{submission_id}")
        self.submission_id, self.token = submission_id, token
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            while not self.stop.wait(settings.GRADING_HEARTBEAT_INTERVAL_S):
                submission_heartbeat(submission_id=self.submission_id, token=self.token)
        finally:
            connection.close()


def _copy_from_storage(field_file, dest: Path) -> Path:
    # Through the storage API (not .path) so S3-compatible storage works on other hosts.
    with field_file.storage.open(field_file.name, "rb") as src, dest.open("wb") as out:
        shutil.copyfileobj(src, out, 1024 * 1024)
    return dest


def _grade_files(submission: Submission, dataset: HeldOutDataset, workdir: Path):
    from labs.grading.archive import ArchiveLimits
    from labs.grading.engine import GradingLimits, grade

    lab = submission.lab
    artifact = _copy_from_storage(
        submission.artifact, workdir / f"artifact{_archive_suffix(submission.artifact.name)}"
    )
    data = _copy_from_storage(dataset.file, workdir / f"heldout.{dataset.format}")
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


def submission_grade(*, submission_id: int, worker_host: str | None = None) -> str:
    """Claim, grade and record one submission. Returns what happened (for logs)."""
    token = submission_claim(
        submission_id=submission_id, worker_host=worker_host or socket.gethostname()
    )
    if token is None:
        return "skipped: not queued (already claimed, finished or cancelled)"
    submission = Submission.objects.select_related("lab").get(pk=submission_id)
    dataset = dataset_active(lab=submission.lab)
    heartbeat = _Heartbeat(submission_id, token)
    heartbeat.start()
    workdir = Path(tempfile.mkdtemp(prefix=f"cb-grade-{submission_id}-"))
    try:
        if dataset is None:
            raise GradingError(ErrorCode.INTERNAL, "The lab has no held-out dataset.")
        result = _grade_files(submission, dataset, workdir)
        error = None
    except GradingError as exc:
        result, error = None, exc
    except Exception:
        logger.exception("grading submission %s crashed", submission_id)
        result = None
        error = GradingError(
            ErrorCode.INTERNAL,
            "The grader failed on our side. This attempt does not count towards your quota; "
            "please submit again, and tell your instructor if it keeps happening.",
        )
    finally:
        heartbeat.stop.set()
        heartbeat.join(timeout=5)
        shutil.rmtree(workdir, ignore_errors=True)
    recorded = submission_finish(
        submission_id=submission_id, token=token, result=result, error=error, dataset=dataset
    )
    if not recorded:
        return "discarded: claim lost (cancelled or re-queued meanwhile)"
    return "scored" if error is None else f"failed: {error.code.value}"


@transaction.atomic
def submission_cancel(*, submission: Submission, user) -> Submission:
    """Instructors cancel queued or running submissions; a running grade's result is then
    discarded. Cancelled submissions are not charged."""
    require_instructor(user=user, course=submission.lab.session.course)
    updated = Submission.objects.filter(
        pk=submission.pk, status__in=[Submission.Status.QUEUED, Submission.Status.RUNNING]
    ).update(status=Submission.Status.CANCELLED, claim_token="", finished_at=_now(), charged=False)
    submission.refresh_from_db()
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
    `internal`, not charged to the student's quota."""
    now = now or _now()
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
            failed.append(submission.pk)
            continue
        Submission.objects.filter(pk=submission.pk, status=submission.status).update(
            status=Submission.Status.QUEUED,
            claim_token="",
            queued_at=now,
            enqueue_count=F("enqueue_count") + 1,
        )
        _enqueue(submission.pk)
        requeued.append(submission.pk)
    stuck_regrades = now - timedelta(seconds=settings.GRADING_TASK_TIME_LIMIT_S)
    for submission_id in Submission.objects.filter(
        regrade_token__gt="", regrade_started_at__lt=stuck_regrades
    ).values_list("pk", flat=True):
        Submission.objects.filter(pk=submission_id).update(
            regrade_token="", regrade_started_at=None
        )
        _enqueue_regrade(submission_id)
    if requeued or failed:
        logger.warning("sweeper requeued %s, failed %s", requeued, failed)
    return SweepReport(requeued=requeued, failed=failed)


# --- labs, datasets, re-grades ----------------------------------------------------------


@transaction.atomic
def lab_create(*, session, title: str, labels: list[str], **fields) -> Lab:
    lab = Lab(session=session, title=title, labels=[str(x).strip() for x in labels], **fields)
    lab.full_clean()
    lab.save()
    return lab


@transaction.atomic
def heldout_dataset_create(*, lab: Lab, upload: File, filename: str) -> HeldOutDataset:
    """Validate a held-out file (columns, labels, empty texts) and store it privately as the
    lab's next version. Invalid files raise ApplicationError(`invalid_dataset`) with the rows."""
    from labs.grading.datasets import load_dataset

    fmt = _dataset_format(filename)
    with tempfile.TemporaryDirectory(prefix="cb-dataset-") as tmp:
        local = Path(tmp) / f"heldout.{fmt}"
        with local.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        try:
            held_out = load_dataset(local, lab_labels=list(lab.labels))
        except GradingError as exc:
            raise ApplicationError(exc.code.value, exc.message, status_code=400) from exc
    counts = {label: 0 for label in lab.labels}
    for index in held_out.labels:
        counts[lab.labels[index]] += 1
    # Lock the lab row so two uploads can't both take the same version number.
    Lab.objects.select_for_update().get(pk=lab.pk)
    latest = HeldOutDataset.objects.filter(lab=lab).order_by("-version").first()
    dataset = HeldOutDataset(
        lab=lab,
        version=(latest.version + 1) if latest else 1,
        format=fmt,
        row_count=held_out.n_rows,
        checksum=held_out.checksum,
        label_counts=counts,
    )
    upload.seek(0)
    dataset.file.save(f"{uuid.uuid4().hex}.{fmt}", upload, save=False)
    dataset.full_clean()
    dataset.save()
    return dataset


def _dataset_format(filename: str) -> str:
    suffix = Path(filename.lower()).suffix.lstrip(".")
    formats = {"csv": "csv", "jsonl": "jsonl", "ndjson": "jsonl", "parquet": "parquet"}
    if suffix not in formats:
        raise ApplicationError(
            "invalid_dataset",
            f"Unsupported held-out file type '.{suffix}': upload .csv, .jsonl or .parquet "
            "with `text` and `label` columns.",
        )
    return formats[suffix]


@transaction.atomic
def lab_regrade(*, lab: Lab, user) -> int:
    """Re-grade every scored submission (new dataset version or metric) on the low-priority
    queue. Current results stay visible until the new ones are written."""
    require_instructor(user=user, course=lab.session.course)
    if dataset_active(lab=lab) is None:
        raise ApplicationError(
            "no_dataset", "Upload a held-out dataset before re-grading.", status_code=409
        )
    now = _now()
    ids = list(
        Submission.objects.filter(lab=lab, status=Submission.Status.SCORED).values_list(
            "pk", flat=True
        )
    )
    Submission.objects.filter(pk__in=ids).update(
        regrade_requested_at=now, regrade_token="", regrade_started_at=None, regrade_error=""
    )
    for submission_id in ids:
        _enqueue_regrade(submission_id)
    return len(ids)


def _enqueue_regrade(submission_id: int) -> None:
    from labs.tasks import regrade_submission

    transaction.on_commit(
        lambda: regrade_submission.apply_async(args=[submission_id], queue=REGRADE_QUEUE)
    )


def submission_regrade(*, submission_id: int) -> str:
    token = uuid.uuid4().hex
    claimed = Submission.objects.filter(
        pk=submission_id,
        status=Submission.Status.SCORED,
        regrade_requested_at__isnull=False,
        regrade_token="",
    ).update(regrade_token=token, regrade_started_at=_now())
    if claimed != 1:
        return "skipped: no re-grade pending"
    submission = Submission.objects.select_related("lab").get(pk=submission_id)
    dataset = dataset_active(lab=submission.lab)
    workdir = Path(tempfile.mkdtemp(prefix=f"cb-regrade-{submission_id}-"))
    try:
        result, error = _grade_files(submission, dataset, workdir), None
    except GradingError as exc:
        result, error = None, exc
    except Exception:
        logger.exception("re-grading submission %s crashed", submission_id)
        result, error = None, GradingError(ErrorCode.INTERNAL, "The re-grade failed on our side.")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    done = {"regrade_requested_at": None, "regrade_token": "", "regrade_started_at": None}
    if error is not None:
        fields = {**done, "regrade_error": f"{error.code.value}: {error.message}"}
    else:
        fields = {
            **done,
            "regrade_error": "",
            "metrics_public": result.metrics_public,
            "metrics_private": result.metrics_private,
            "notes": result.notes,
            "grader_version": result.grader_version,
            "dataset": dataset,
        }
    with transaction.atomic():
        updated = Submission.objects.filter(pk=submission_id, regrade_token=token).update(**fields)
    return "re-graded" if updated and error is None else ("regrade failed" if updated else "lost")


# --- portal: editing labs, "Try it" predictions -------------------------------------------

LAB_EDITABLE_FIELDS = (
    "title",
    "instructions",
    "labels",
    "primary_metric",
    "opens_at",
    "closes_at",
    "daily_quota",
    "total_quota",
    "public_fraction",
    "max_upload_bytes",
    "grading_timeout_s",
    "grading_memory_bytes",
    "leaderboard_pseudonyms",
)


@transaction.atomic
def lab_update(*, lab: Lab, user, **fields) -> Lab:
    """Instructors change a lab's rules. Labels can only be renamed or reordered freely while
    nothing was scored against them: after that the held-out set and the results refer to them."""
    require_instructor(user=user, course=lab.session.course)
    unknown = set(fields) - set(LAB_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    if "labels" in fields:
        fields["labels"] = [str(x).strip() for x in fields["labels"]]
        if fields["labels"] != list(lab.labels) and lab.datasets.exists():
            raise ApplicationError(
                "labels_locked",
                "The labels cannot change once a held-out dataset was uploaded: its rows and "
                "every result use them. Create a new lab for a different label set.",
                status_code=409,
            )
    locked = Lab.objects.select_for_update().get(pk=lab.pk)
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.full_clean()
    locked.save()
    return locked


TRY_IT_TIMEOUT_S = 30
TRY_IT_MAX_CHARS = 1000
TRY_IT_MAX_PENDING = 3
TRY_IT_MAX_LENGTH = 256  # tokens


def _enqueue_try_it(prediction_id: int) -> None:
    from labs.tasks import try_it_predict

    transaction.on_commit(lambda: try_it_predict.apply_async(args=[prediction_id]))


@transaction.atomic
def tryit_create(*, submission: Submission, user, text: str):
    """Queue one sentence for a scored submission's model. The submission's student, or an
    instructor of the course; anyone else gets not found."""
    from core.exceptions import NotFoundError
    from courseware.permissions import require_member
    from labs.models import TryItPrediction

    try:
        role = require_member(user=user, course=submission.lab.session.course)
    except NotFoundError:
        raise NotFoundError(f"No submission {submission.pk}.") from None
    if not is_instructor(role) and submission.student_id != user.pk:
        raise NotFoundError(f"No submission {submission.pk}.")
    if submission.status != Submission.Status.SCORED:
        raise ApplicationError(
            "not_scored",
            f"Submission {submission.pk} is {submission.status}: only a scored model can be tried.",
            status_code=409,
        )
    text = (text or "").strip()
    if not text:
        raise ApplicationError("invalid_input", "Type a sentence for the model to classify.")
    if len(text) > TRY_IT_MAX_CHARS:
        raise ApplicationError(
            "invalid_input",
            f"The text is {len(text)} characters long; try at most {TRY_IT_MAX_CHARS}.",
        )
    recent = _now() - timedelta(minutes=5)
    pending = TryItPrediction.objects.filter(
        requested_by=user,
        status__in=[TryItPrediction.Status.QUEUED, TryItPrediction.Status.RUNNING],
        created_at__gte=recent,
    ).count()
    if pending >= TRY_IT_MAX_PENDING:
        raise ApplicationError(
            "too_many_requests",
            f"You have {pending} predictions waiting; try again when they have finished.",
            status_code=429,
        )
    prediction = TryItPrediction.objects.create(submission=submission, requested_by=user, text=text)
    _enqueue_try_it(prediction.pk)
    return prediction


def _tryit_predict_in_child(model_dir: str, text: str, label_order: list[int], max_length: int):
    from labs.grading.inference import predict

    result = predict(Path(model_dir), [text], label_order=label_order, max_length=max_length)
    return {"pred": result.pred, "logits": result.logits}


def _softmax(logits: list[float]) -> list[float]:
    import math

    top = max(logits)
    exps = [math.exp(v - top) for v in logits]
    total = sum(exps)
    return [v / total for v in exps]


def tryit_run(*, prediction_id: int) -> str:
    """Run one "Try it" prediction (on a worker): the submission's archive goes through the same
    static checks as grading, then the model runs in the sandbox with a short time limit."""
    from labs.grading.archive import ArchiveLimits
    from labs.grading.artifact import prepare_artifact
    from labs.grading.sandbox import SandboxLimits, run_isolated, warm_up
    from labs.models import TryItPrediction

    claimed = TryItPrediction.objects.filter(
        pk=prediction_id, status=TryItPrediction.Status.QUEUED
    ).update(status=TryItPrediction.Status.RUNNING, started_at=_now())
    if claimed != 1:
        return "skipped: not queued"
    prediction = TryItPrediction.objects.select_related("submission__lab").get(pk=prediction_id)
    submission, lab = prediction.submission, prediction.submission.lab
    labels = list(lab.labels)
    fields: dict = {"finished_at": None}
    workdir = Path(tempfile.mkdtemp(prefix=f"cb-tryit-{prediction_id}-"))
    try:
        warm_up()
        artifact = _copy_from_storage(
            submission.artifact, workdir / f"artifact{_archive_suffix(submission.artifact.name)}"
        )
        check = prepare_artifact(
            artifact,
            workdir,
            lab_labels=labels,
            limits=ArchiveLimits(max_upload_bytes=lab.max_upload_bytes),
        )
        result = run_isolated(
            _tryit_predict_in_child,
            str(check.model_dir),
            prediction.text,
            list(check.label_order),
            TRY_IT_MAX_LENGTH,
            limits=SandboxLimits(timeout_s=TRY_IT_TIMEOUT_S, memory_bytes=lab.grading_memory_bytes),
        )
        probabilities = _softmax([float(v) for v in result["logits"][0]])
        fields.update(
            status=TryItPrediction.Status.DONE,
            label=labels[int(result["pred"][0])],
            scores={name: p for name, p in zip(labels, probabilities, strict=True)},
        )
    except GradingError as exc:
        fields.update(
            status=TryItPrediction.Status.FAILED,
            error_code=exc.code.value,
            error_message=exc.message,
        )
    except Exception:
        logger.exception("try-it prediction %s crashed", prediction_id)
        fields.update(
            status=TryItPrediction.Status.FAILED,
            error_code=ErrorCode.INTERNAL.value,
            error_message="The prediction failed on our side; try again in a moment.",
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    fields["finished_at"] = _now()
    TryItPrediction.objects.filter(pk=prediction_id, status=TryItPrediction.Status.RUNNING).update(
        **fields
    )
    return fields["status"]
