"""A lab's definition and its data: create and edit a lab, its held-out dataset versions, and
the re-grades a new version (or metric) calls for. They live together because the labels tie
them: once a held-out set uses them, they can no longer change."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

from django.core.files import File
from django.db import transaction
from django.utils import timezone

from core.events import grade_source_changed_on_commit
from core.exceptions import ApplicationError
from core.storage import discard_stored, store_file
from courseware.permissions import Actor, require_instructor, require_staff, require_writable
from labs.grading.errors import GradingError
from labs.models import HeldOutDataset, Lab, Submission
from labs.selectors import dataset_active
from labs.services.jobs import (
    GradingJob,
    JobOutcome,
    announce_result,
    enqueue_regrade,
    grade_files,
    grading_job_run,
    required_dataset,
)

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
def lab_create(*, actor: Actor, session, title: str, labels: list[str], **fields) -> Lab:
    require_instructor(user=actor, course=session.course)
    require_writable(actor=actor, course=session.course)
    lab = Lab(session=session, title=title, labels=[str(x).strip() for x in labels], **fields)
    lab.full_clean()
    lab.save()
    return lab


@transaction.atomic
def lab_update(*, lab: Lab, actor: Actor, **fields) -> Lab:
    """Instructors change a lab's rules. Labels can only be renamed or reordered freely while
    nothing was scored against them: after that the held-out set and the results refer to them."""
    require_instructor(user=actor, course=lab.session.course)
    require_writable(actor=actor, course=lab.session.course)
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
    # Dates and the metric decide every student's lab score in the gradebook.
    grade_source_changed_on_commit(
        source="lab", source_id=locked.pk, course_id=locked.session.course_id
    )
    return locked


@transaction.atomic
def heldout_dataset_create(
    *, lab: Lab, actor: Actor, upload: File, filename: str
) -> HeldOutDataset:
    """Validate a held-out file (columns, labels, empty texts) and store it privately as the
    lab's next version. Invalid files raise ApplicationError(`invalid_dataset`) with the rows."""
    from labs.grading.datasets import load_dataset

    require_instructor(user=actor, course=lab.session.course)
    require_writable(actor=actor, course=lab.session.course)
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
    store_file(dataset.file, f"{uuid.uuid4().hex}.{fmt}", upload)
    try:
        dataset.full_clean()
        dataset.save()
    except BaseException:
        discard_stored(dataset.file)
        raise
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


# --- re-grades ------------------------------------------------------------------------------


@transaction.atomic
def lab_regrade(*, lab: Lab, actor: Actor) -> int:
    """Re-grade every scored submission (new dataset version or metric) on the low-priority
    queue. Current results stay visible until the new ones are written. The teaching staff
    (instructors and teaching assistants) may re-grade."""
    require_staff(user=actor, course=lab.session.course)
    require_writable(actor=actor, course=lab.session.course)
    if dataset_active(lab=lab) is None:
        raise ApplicationError(
            "no_dataset", "Upload a held-out dataset before re-grading.", status_code=409
        )
    ids = list(
        Submission.objects.filter(lab=lab, status=Submission.Status.SCORED).values_list(
            "pk", flat=True
        )
    )
    Submission.objects.filter(pk__in=ids).update(
        regrade_requested_at=timezone.now(),
        regrade_token="",
        regrade_started_at=None,
        regrade_error="",
    )
    for submission_id in ids:
        enqueue_regrade(submission_id)
    return len(ids)


class _RegradeJob(GradingJob):
    """A scored submission graded again; its current result stays until the new one is in."""

    kind = "regrade"
    skipped = "skipped: no re-grade pending"
    internal_message = "The re-grade failed on our side."

    def claim(self) -> bool:
        self.token = uuid.uuid4().hex
        claimed = Submission.objects.filter(
            pk=self.job_id,
            status=Submission.Status.SCORED,
            regrade_requested_at__isnull=False,
            regrade_token="",
        ).update(regrade_token=self.token, regrade_started_at=timezone.now())
        if claimed != 1:
            return False
        self.submission = Submission.objects.select_related("lab").get(pk=self.job_id)
        self.dataset = dataset_active(lab=self.submission.lab)
        return True

    def run(self, workdir: Path):
        return grade_files(self.submission, required_dataset(self.dataset), workdir)

    def record(self, outcome: JobOutcome) -> str:
        fields: dict = {
            "regrade_requested_at": None,
            "regrade_token": "",
            "regrade_started_at": None,
        }
        if outcome.error is not None:
            fields["regrade_error"] = f"{outcome.error.code.value}: {outcome.error.message}"
        else:
            result = outcome.result
            fields.update(
                regrade_error="",
                metrics_public=result.metrics_public,
                metrics_private=result.metrics_private,
                notes=result.notes,
                grader_version=result.grader_version,
                dataset=self.dataset,
            )
        with transaction.atomic():
            updated = Submission.objects.filter(pk=self.job_id, regrade_token=self.token).update(
                **fields
            )
            if updated and outcome.error is None:
                announce_result(self.job_id)
        if not updated:
            return "lost"
        return "re-graded" if outcome.error is None else "regrade failed"


def submission_regrade(*, submission_id: int, worker: str = "") -> str:
    """Claim, re-grade and record one pending re-grade. Returns what happened (for logs).
    `worker`: the Celery node name, whose dashboard row shows the job while it runs."""
    return grading_job_run(_RegradeJob(submission_id, worker=worker))
