"""The gradebook's stored state: per-course settings, categories, items, one cell per student
and item, the history of every change, final-grade overrides and each student's totals.

Cells and totals are *stored* (recomputed when a grade event arrives, see
gradebook/receivers.py) so the instructor's page reads them and never recomputes the course.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from core.models import BaseModel
from courseware.models import Course, HomeworkTask, LearningObjective
from labs.models import Lab
from quizzes.models import Quiz

DEFAULT_LETTER_CUTOFFS = [
    ["A", 90.0],
    ["B", 80.0],
    ["C", 70.0],
    ["D", 60.0],
    ["F", 0.0],
]


def default_letter_cutoffs() -> list:
    return [list(row) for row in DEFAULT_LETTER_CUTOFFS]


class GradebookSettings(BaseModel):
    class LabChoice(models.TextChoices):
        BEST = "best", "Best submission"
        LAST = "last", "Last submission"

    class HomeworkMode(models.TextChoices):
        PER_TASK = "task", "One item per homework task"
        PER_SESSION = "session", "One item per session"

    class MasteryMethod(models.TextChoices):
        WEIGHTED_AVERAGE = "weighted_average", "Weighted average"
        DECAYING_AVERAGE = "decaying_average", "Decaying average"
        N_TIMES = "n_times", "n times at or above mastery"
        HIGHEST = "highest", "Highest"
        LATEST = "latest", "Latest"
        AVERAGE = "average", "Average"

    course = models.OneToOneField(Course, on_delete=models.CASCADE, related_name="gradebook")
    weighted = models.BooleanField(default=False, help_text="Weight categories, else points.")
    # [[letter, minimum percent], ...] from the highest cut-off down.
    letter_cutoffs = models.JSONField(default=default_letter_cutoffs)
    lab_choice = models.CharField(max_length=10, choices=LabChoice.choices, default="best")
    homework_mode = models.CharField(
        max_length=10, choices=HomeworkMode.choices, default=HomeworkMode.PER_TASK
    )
    mastery_method = models.CharField(
        max_length=20, choices=MasteryMethod.choices, default=MasteryMethod.DECAYING_AVERAGE
    )
    mastery_weight = models.FloatField(
        default=0.65, validators=[MinValueValidator(0), MaxValueValidator(1)]
    )
    mastery_n = models.PositiveIntegerField(default=1)
    mastery_threshold = models.FloatField(
        default=0.7, validators=[MinValueValidator(0), MaxValueValidator(1)]
    )
    # "near": a mastery score within this margin below the threshold.
    mastery_near_margin = models.FloatField(
        default=0.1, validators=[MinValueValidator(0), MaxValueValidator(1)]
    )
    # When the stored mastery was last computed for every student, and with which settings
    # (gradebook.mastery.settings_key): a view recomputes once when either is stale.
    mastery_computed_at = models.DateTimeField(null=True, blank=True)
    mastery_key = models.CharField(max_length=100, blank=True)
    # When the stored totals next go stale because a due date or a lab's close passes
    # (missing work becomes 0, a lab's private part counts): the next view refreshes then.
    next_refresh_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"gradebook of {self.course.code}"


class GradeCategory(BaseModel):
    class LatePer(models.TextChoices):
        DAY = "day", "Per day"
        HOUR = "hour", "Per hour"

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="grade_categories")
    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0)
    weight = models.FloatField(null=True, blank=True, validators=[MinValueValidator(0)])
    drop_lowest = models.PositiveIntegerField(default=0)
    drop_highest = models.PositiveIntegerField(default=0)
    # Late policy (Canvas's fields); no deduction when late_deduct_percent is null.
    late_deduct_percent = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    late_per = models.CharField(max_length=4, choices=LatePer.choices, default=LatePer.DAY)
    late_minimum_percent = models.FloatField(
        default=0.0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    missing_as_zero = models.BooleanField(default=True)

    class Meta:
        ordering = ["course", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["course", "name"], name="grade_category_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class GradeItem(BaseModel):
    class Kind(models.TextChoices):
        QUIZ = "quiz", "Quiz"
        LAB = "lab", "Lab"
        HOMEWORK = "homework", "Homework task"
        HOMEWORK_SESSION = "homework_session", "Session homework"
        MANUAL = "manual", "Manual"

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="grade_items")
    category = models.ForeignKey(GradeCategory, on_delete=models.PROTECT, related_name="items")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # The quiz, lab, homework task or session id; null for a manual item.
    source_id = models.PositiveBigIntegerField(null=True, blank=True)
    title = models.CharField(max_length=255)
    position = models.PositiveIntegerField(default=0)
    points_possible = models.FloatField(default=10.0, validators=[MinValueValidator(0)])
    # Synced items: the instructor's own points (else the source's).
    points_set = models.BooleanField(default=False)
    due_at = models.DateTimeField(null=True, blank=True)
    released = models.BooleanField(default=False, help_text="Students see released items.")
    extra_credit = models.BooleanField(default=False)
    never_drop = models.BooleanField(default=False)
    # Labs: the primary metric mapped linearly to points between floor (0) and target (full).
    lab_floor = models.FloatField(default=0.0)
    lab_target = models.FloatField(default=1.0)

    class Meta:
        ordering = ["course", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["course", "kind", "source_id"],
                condition=Q(source_id__isnull=False),
                name="grade_item_unique_source",
            ),
            models.CheckConstraint(
                condition=Q(kind="manual", source_id__isnull=True)
                | (~Q(kind="manual") & Q(source_id__isnull=False)),
                name="grade_item_source_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class GradeCell(BaseModel):
    """One student's result on one item: what the source says (score, submitted_at,
    due_at, provisional), what the instructor set (excused, override), and what the engine
    made of them (points, status, dropped)."""

    class Status(models.TextChoices):
        GRADED = "graded", "Graded"
        LATE = "late", "Late"
        MISSING = "missing", "Missing"
        EXCUSED = "excused", "Excused"
        UNGRADED = "ungraded", "Ungraded"
        PROVISIONAL = "provisional", "Provisional"

    item = models.ForeignKey(GradeItem, on_delete=models.CASCADE, related_name="cells")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="grade_cells"
    )
    score = models.FloatField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True, help_text="A per-student extension.")
    provisional = models.BooleanField(default=False)
    excused = models.BooleanField(default=False)
    override = models.FloatField(null=True, blank=True)
    override_reason = models.TextField(blank=True)
    # Computed by the engine when the student's totals were last refreshed.
    points = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.UNGRADED)
    deduction = models.FloatField(default=0.0)
    dropped = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "student"], name="grade_cell_unique")
        ]
        indexes = [models.Index(fields=["student", "item"])]

    def __str__(self) -> str:
        return f"{self.student} on {self.item}"


class CellHistory(BaseModel):
    """Every change to a cell or a final grade: who (null: the system, e.g. a regrade),
    when (created_at), old → new, and why."""

    class Field(models.TextChoices):
        SCORE = "score", "Score"
        OVERRIDE = "override", "Override"
        EXCUSED = "excused", "Excused"
        FINAL = "final", "Final grade"

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    # Null for a final-grade change.
    item = models.ForeignKey(
        GradeItem, null=True, blank=True, on_delete=models.CASCADE, related_name="history"
    )
    field = models.CharField(max_length=10, choices=Field.choices)
    old_value = models.CharField(max_length=40, blank=True)
    new_value = models.CharField(max_length=40, blank=True)
    reason = models.TextField(blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source = models.CharField(
        max_length=20, blank=True, help_text="What changed it, if not a person."
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["item", "student"])]


class FinalGradeOverride(BaseModel):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    percent = models.FloatField(validators=[MinValueValidator(0)])
    letter = models.CharField(max_length=8, blank=True)
    reason = models.TextField()
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course", "student"], name="final_override_unique")
        ]


class StudentTotals(BaseModel):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    current_percent = models.FloatField(null=True, blank=True)
    final_percent = models.FloatField(null=True, blank=True)
    current_letter = models.CharField(max_length=8, blank=True)
    final_letter = models.CharField(max_length=8, blank=True)
    # {category_id: {"earned": .., "possible": .., "percent": ..}}
    categories = models.JSONField(default=dict)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course", "student"], name="student_totals_unique")
        ]


class ObjectiveLink(BaseModel):
    """A lab or a homework task tagged with a learning objective (quiz questions carry their
    own tags, `Question.objectives`). Exactly one of `lab` and `homework_task` is set."""

    objective = models.ForeignKey(
        LearningObjective, on_delete=models.CASCADE, related_name="gradebook_links"
    )
    lab = models.ForeignKey(
        Lab, null=True, blank=True, on_delete=models.CASCADE, related_name="objective_links"
    )
    homework_task = models.ForeignKey(
        HomeworkTask,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="objective_links",
    )

    class Meta:
        ordering = ["objective", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(lab__isnull=False, homework_task__isnull=True)
                | Q(lab__isnull=True, homework_task__isnull=False),
                name="objective_link_lab_or_task",
            ),
            models.UniqueConstraint(
                fields=["objective", "lab"],
                condition=Q(lab__isnull=False),
                name="objective_link_unique_lab",
            ),
            models.UniqueConstraint(
                fields=["objective", "homework_task"],
                condition=Q(homework_task__isnull=False),
                name="objective_link_unique_task",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lab or self.homework_task} → {self.objective}"


class ObjectiveEvidence(BaseModel):
    """One piece of evidence towards a learning objective: a fraction in 0..1 from a tagged
    quiz question's attempt, a tagged lab or a tagged homework task."""

    class Kind(models.TextChoices):
        QUIZ = "quiz", "Quiz attempt"
        LAB = "lab", "Lab"
        HOMEWORK = "homework", "Homework task"

    objective = models.ForeignKey(
        LearningObjective, on_delete=models.CASCADE, related_name="evidence"
    )
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    # The attempt (quiz), lab or homework task id.
    kind = models.CharField(max_length=20, choices=Kind.choices)
    source_id = models.PositiveBigIntegerField()
    # Quiz evidence: the quiz, so a student's view shows it only while its marks are shown.
    quiz = models.ForeignKey(
        Quiz, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    label = models.CharField(max_length=255, blank=True)
    score = models.FloatField(validators=[MinValueValidator(0), MaxValueValidator(1)])
    # A lab's public part before it closes.
    provisional = models.BooleanField(default=False)
    observed_at = models.DateTimeField()

    class Meta:
        ordering = ["objective", "student", "observed_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["objective", "student", "kind", "source_id"],
                name="objective_evidence_unique",
            )
        ]
        indexes = [models.Index(fields=["student", "objective"])]


class ObjectiveMastery(BaseModel):
    """One student's stored mastery of one objective (only where there is evidence), from
    the course's method over the evidence, oldest first."""

    class Level(models.TextChoices):
        MASTERED = "mastered", "Mastered"
        NEAR = "near", "Near"
        NOT_YET = "not_yet", "Not yet"
        NO_EVIDENCE = "no_evidence", "No evidence"

    objective = models.ForeignKey(
        LearningObjective, on_delete=models.CASCADE, related_name="mastery"
    )
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    score = models.FloatField(null=True, blank=True)
    level = models.CharField(max_length=12, choices=Level.choices)
    evidence_count = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["objective", "student"], name="objective_mastery_unique"
            )
        ]
        indexes = [models.Index(fields=["student", "objective"])]


class RefreshRequest(BaseModel):
    """One student's pending gradebook refresh (a grade event names them). The request counts
    up `requested` after its write commits and queues a task with that number; the task claims
    with a conditional update (`done < version` → `done = requested`) and recomputes, so a
    burst of events costs one refresh and a task whose work a later one already covered does
    nothing. The claim's row lock, held until the refresh commits, runs one student's
    refreshes one after the other: the later one reads the newer sources, never the reverse."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    requested = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course", "student"], name="refresh_request_unique")
        ]
