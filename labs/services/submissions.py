"""Uploads: a student's submission (checked, charged to the quota, queued) and an
instructor's reference submission (the baseline, never charged or ranked)."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

from django.core.files import File
from django.db import transaction
from django.utils import timezone

from core.actors import is_system
from core.exceptions import ApplicationError
from core.storage import discard_stored, store_file
from courseware.models import Membership
from courseware.permissions import Actor, require_instructor, require_student, require_writable
from labs.grading.errors import ErrorCode, GradingError
from labs.models import Lab, Submission
from labs.rules import LabPhase, effective_close, lab_phase
from labs.selectors import dataset_active, lab_extension_get, quota_status
from labs.services.jobs import archive_suffix, enqueue_grade
from labs.uploads import upload_too_large_error

_ARCHIVE_MAGIC = (b"PK\x03\x04", b"\x1f\x8b")  # a zip with entries, or gzip
_EMPTY_ZIP = b"PK\x05\x06"  # a zip that is only its end-of-directory record


def _sha256(fileobj) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: fileobj.read(1024 * 1024), b""):
        digest.update(chunk)
    fileobj.seek(0)
    return digest.hexdigest()


def _check_lab_open(lab: Lab, student) -> None:
    """Open for this student: their deadline extension, if any, keeps it open for them."""
    extension = lab_extension_get(lab=lab, student=student)
    extended_until = extension.closes_at if extension else None
    phase = lab_phase(lab, extended_until=extended_until)
    if phase == LabPhase.UPCOMING:
        raise ApplicationError(
            "lab_not_open", f"This lab opens at {lab.opens_at:%Y-%m-%d %H:%M %Z}.", status_code=409
        )
    if phase == LabPhase.CLOSED:
        closed_at = effective_close(lab, extended_until)
        raise ApplicationError(
            "lab_closed",
            f"This lab closed at {closed_at:%Y-%m-%d %H:%M %Z}"
            + (" (your extended deadline)" if extension else "")
            + "; submissions are no longer taken.",
            status_code=409,
        )


def _check_upload(lab: Lab, upload: File) -> None:
    size = upload.size or 0
    if size == 0:
        raise ApplicationError("invalid_archive", "The uploaded file is empty.", status_code=400)
    if size > lab.max_upload_bytes:
        raise upload_too_large_error(lab=lab, size=size)
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


def _queued(submission: Submission, upload: File, filename: str) -> Submission:
    """Store the archive privately under a random name, save the row, queue it for grading."""
    submission.artifact_name = Path(filename).name[:255]
    submission.artifact_size = upload.size
    submission.artifact_sha256 = _sha256(upload)
    submission.status = Submission.Status.QUEUED
    submission.queued_at = timezone.now()
    submission.enqueue_count = 1
    store_file(submission.artifact, f"{uuid.uuid4().hex}{archive_suffix(filename)}", upload)
    try:
        submission.full_clean()
        submission.save()
        enqueue_grade(submission.pk)
    except BaseException:
        # The row is not saved (the transaction rolls back): its archive must not stay behind.
        discard_stored(submission.artifact)
        raise
    return submission


@transaction.atomic
def submission_create(*, lab: Lab, actor: Actor, upload: File, filename: str) -> Submission:
    """Store a student's model archive and queue it for grading. The actor is the student."""
    require_student(user=actor, course=lab.session.course)
    require_writable(actor=actor, course=lab.session.course)
    _check_lab_open(lab, actor)
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
    Membership.objects.select_for_update().get(course=lab.session.course, user=actor)
    _check_quota(lab, actor)
    return _queued(Submission(lab=lab, student=actor), upload, filename)


@transaction.atomic
def submission_create_reference(
    *, lab: Lab, actor: Actor, upload: File, filename: str
) -> Submission:
    """Store an instructor's reference model (the baseline students try to beat) and queue it
    for grading. It is graded like a submission but is never charged to a quota or ranked: the
    leaderboard shows it as a labelled line. Taken whether or not the lab is open. The actor
    is the instructor it is stored under (so never SYSTEM, which is nobody)."""
    require_instructor(user=actor, course=lab.session.course)
    require_writable(actor=actor, course=lab.session.course)
    if is_system(actor):
        raise ValueError("a reference submission belongs to an instructor: pass the instructor")
    _check_upload(lab, upload)
    if dataset_active(lab=lab) is None:
        raise ApplicationError(
            "no_dataset",
            "Upload the lab's held-out dataset first: a reference is scored on it.",
            status_code=409,
        )
    reference = Submission(lab=lab, student=actor, is_reference=True, charged=False)
    return _queued(reference, upload, filename)
