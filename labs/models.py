import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from core.models import BaseModel
from core.storage import private_storage

MB = 1024 * 1024


def _new_salt() -> str:
    return secrets.token_hex(16)


def validate_labels(value) -> None:
    if not isinstance(value, list) or len(value) < 2:
        raise ValidationError("A lab needs at least two labels, e.g. negative, neutral, positive.")
    cleaned = [str(v).strip() for v in value]
    if any(not v for v in cleaned):
        raise ValidationError("Labels must not be empty.")
    if len({v.lower() for v in cleaned}) != len(cleaned):
        raise ValidationError("Labels must be unique (case-insensitively).")


class Lab(BaseModel):
    class TaskType(models.TextChoices):
        TEXT_CLASSIFICATION = "text_classification", "Text classification"

    class Metric(models.TextChoices):
        ACCURACY = "accuracy", "Accuracy"
        MACRO_F1 = "macro_f1", "Macro-F1"
        WEIGHTED_F1 = "weighted_f1", "Weighted-F1"

    session = models.ForeignKey("courseware.Session", on_delete=models.CASCADE, related_name="labs")
    title = models.CharField(max_length=200)
    instructions = models.TextField(blank=True, help_text="Markdown.")
    task_type = models.CharField(
        max_length=40, choices=TaskType.choices, default=TaskType.TEXT_CLASSIFICATION
    )
    labels = models.JSONField(validators=[validate_labels], help_text="Ordered label names.")
    primary_metric = models.CharField(
        max_length=20, choices=Metric.choices, default=Metric.MACRO_F1
    )
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)
    daily_quota = models.PositiveIntegerField(default=5, validators=[MinValueValidator(1)])
    total_quota = models.PositiveIntegerField(null=True, blank=True)
    public_fraction = models.FloatField(
        default=0.5, validators=[MinValueValidator(0.05), MaxValueValidator(0.95)]
    )
    max_upload_bytes = models.PositiveBigIntegerField(default=500 * MB)
    grading_timeout_s = models.PositiveIntegerField(default=600, validators=[MinValueValidator(5)])
    grading_memory_bytes = models.PositiveBigIntegerField(default=4096 * MB)
    salt = models.CharField(max_length=64, default=_new_salt, editable=False)
    leaderboard_pseudonyms = models.BooleanField(default=False)

    class Meta:
        ordering = ["session", "title"]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValidationError({"closes_at": "The lab must close after it opens."})


class LabExtension(BaseModel):
    """One student's later deadline for a lab (an instructor's decision, with the reason).

    The student may submit until `closes_at` (the quota rules unchanged); the lab's private
    scores stay hidden from every student until the last extension has ended."""

    lab = models.ForeignKey(Lab, on_delete=models.CASCADE, related_name="extensions")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lab_extensions"
    )
    closes_at = models.DateTimeField()
    reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The instructor who set it (empty when a command did).",
    )

    class Meta:
        ordering = ["lab", "closes_at"]
        constraints = [
            models.UniqueConstraint(fields=["lab", "student"], name="lab_extension_unique_student")
        ]

    def __str__(self) -> str:
        return f"{self.lab} extension for {self.student} until {self.closes_at:%Y-%m-%d %H:%M}"


class HeldOutDataset(BaseModel):
    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        JSONL = "jsonl", "JSON Lines"
        PARQUET = "parquet", "Parquet"

    lab = models.ForeignKey(Lab, on_delete=models.CASCADE, related_name="datasets")
    version = models.PositiveIntegerField()
    # Private storage: no URL serves it; only graders read it.
    file = models.FileField(storage=private_storage, upload_to="heldout/%Y/%m/")
    format = models.CharField(max_length=10, choices=Format.choices)
    row_count = models.PositiveIntegerField()
    checksum = models.CharField(max_length=64)
    label_counts = models.JSONField(default=dict)

    class Meta:
        ordering = ["lab", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["lab", "version"], name="dataset_unique_version")
        ]

    def __str__(self) -> str:
        return f"{self.lab} dataset v{self.version}"


class Submission(BaseModel):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SCORED = "scored", "Scored"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    lab = models.ForeignKey(Lab, on_delete=models.CASCADE, related_name="submissions")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lab_submissions"
    )
    artifact = models.FileField(storage=private_storage, upload_to="submissions/%Y/%m/")
    artifact_name = models.CharField(max_length=255, blank=True)
    artifact_size = models.PositiveBigIntegerField(default=0)
    artifact_sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.TextField(blank=True)
    # Counts towards the student's quota; False for failures that are our fault (`internal`).
    charged = models.BooleanField(default=True)
    # An instructor's reference model (e.g. the demo baseline), `student` being that instructor:
    # graded like any submission, shown on the leaderboard as a labelled line to beat, never in
    # anyone's quota, rank or the per-student statistics.
    is_reference = models.BooleanField(default=False)
    metrics_public = models.JSONField(null=True, blank=True)
    metrics_private = models.JSONField(null=True, blank=True)
    notes = models.JSONField(default=list, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    grader_version = models.CharField(max_length=20, blank=True)
    dataset = models.ForeignKey(
        HeldOutDataset, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attempts = models.PositiveIntegerField(default=0)
    enqueue_count = models.PositiveIntegerField(default=0)
    claim_token = models.CharField(max_length=32, blank=True)
    worker_host = models.CharField(max_length=255, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Re-grades keep the current result until a new one exists (status stays `scored`).
    regrade_requested_at = models.DateTimeField(null=True, blank=True)
    regrade_token = models.CharField(max_length=32, blank=True)
    regrade_started_at = models.DateTimeField(null=True, blank=True)
    regrade_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["lab", "student", "created_at"]),
            models.Index(fields=["status", "heartbeat_at"]),
        ]

    def __str__(self) -> str:
        return f"submission {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.SCORED, self.Status.FAILED, self.Status.CANCELLED}


class TryItPrediction(BaseModel):
    """A "Try it" request: one sentence run through a scored submission's model on a worker."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="try_it_predictions"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    text = models.TextField(max_length=1000)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    label = models.CharField(max_length=200, blank=True)
    # Probability per lab label (softmax of the logits), in lab label order.
    scores = models.JSONField(default=dict, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"try-it {self.pk} on submission {self.submission_id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.FAILED}


class WorkerHost(BaseModel):
    """A Celery worker process, as it last reported itself (the lab dashboard's host list).

    Each worker upserts its row every GRADING_HEARTBEAT_INTERVAL_S from a thread in its main
    process (labs/workers.py); its grading jobs set and clear the current job. The database,
    not the broker, is the source of truth so the page needs no round trip to the workers."""

    #: The Celery node name (`grading@gpu-box`): unique per running worker.
    name = models.CharField(max_length=255, unique=True)
    hostname = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)
    #: The queues it consumes now, and those it consumed at start but no longer does.
    queues = models.JSONField(default=list, blank=True)
    cancelled_queues = models.JSONField(default=list, blank=True)
    started_at = models.DateTimeField()
    heartbeat_at = models.DateTimeField(db_index=True)
    #: Set by the worker when a queue it started with is cancelled, or by `worker_drain`.
    draining_since = models.DateTimeField(null=True, blank=True)
    #: Set by the worker on a warm shutdown (SIGTERM): offline at once, not after the expiry.
    stopped_at = models.DateTimeField(null=True, blank=True)
    current_submission = models.ForeignKey(
        "labs.Submission", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: "grade", "regrade" or "tryit" (GradingJob.kind).
    current_kind = models.CharField(max_length=20, blank=True)
    current_since = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name
