from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from core.models import BaseModel
from courseware.models import Course, LearningObjective, Session
from quizzes.content import QUESTION_TYPE_LABELS
from quizzes.review import default_review_options


class QuestionCategory(BaseModel):
    """A folder of the course's question bank. `path` is the full path ("Session 12/
    Attention"); `parent` links the levels so the bank can be shown as a tree."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="question_categories")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    name = models.CharField(max_length=255)
    path = models.CharField(max_length=1000)

    class Meta:
        ordering = ["course", "path"]
        verbose_name_plural = "question categories"
        constraints = [
            models.UniqueConstraint(fields=["course", "path"], name="question_category_unique_path")
        ]

    def __str__(self) -> str:
        return f"{self.course.code}: {self.path}"


class Question(BaseModel):
    """The stable identity of a bank question. Its content lives in versions: editing a
    question that attempts already use makes a new version, and attempts keep theirs."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="questions")
    category = models.ForeignKey(
        QuestionCategory, on_delete=models.RESTRICT, related_name="questions"
    )
    qtype = models.CharField(max_length=20, choices=list(QUESTION_TYPE_LABELS.items()))
    name = models.CharField(max_length=255, help_text="The current version's name.")
    idnumber = models.CharField(
        max_length=100, blank=True, help_text="From GIFT's [id:...]; re-imports update by it."
    )
    objectives = models.ManyToManyField(LearningObjective, blank=True, related_name="questions")
    current_version = models.ForeignKey(
        "QuestionVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["category__path", "name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["course", "idnumber"],
                condition=~Q(idnumber=""),
                name="question_unique_idnumber",
            )
        ]

    def __str__(self) -> str:
        return self.name


class QuestionVersion(BaseModel):
    """Immutable once an attempt uses it. `content` follows quizzes.content's schema.

    References to questions, versions and categories are RESTRICT: nothing in use can be
    deleted on its own, yet deleting a whole course (or session) still removes everything."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    content = models.JSONField()

    class Meta:
        ordering = ["question", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["question", "number"], name="question_version_unique_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.question} v{self.number}"


class Quiz(BaseModel):
    class GradingMethod(models.TextChoices):
        HIGHEST = "highest", "Highest grade"
        AVERAGE = "average", "Average grade"
        FIRST = "first", "First attempt"
        LAST = "last", "Last attempt"

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="quizzes")
    title = models.CharField(max_length=255)
    intro = models.TextField(blank=True)
    visible = models.BooleanField(default=True, help_text="Students see only visible quizzes.")
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)
    time_limit = models.DurationField(null=True, blank=True, help_text="Empty: no limit.")
    attempts_allowed = models.PositiveIntegerField(default=0, help_text="0: unlimited.")
    grading_method = models.CharField(
        max_length=10, choices=GradingMethod.choices, default=GradingMethod.HIGHEST
    )
    shuffle_questions = models.BooleanField(default=False)
    shuffle_answers = models.BooleanField(default=True)
    pass_percentage = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Grade to pass, as a percentage of the maximum.",
    )
    # {"during"|"immediately"|"open"|"closed": {"correctness"|"marks"|"feedback"|
    #  "right_answers": bool}}, see quizzes.review.
    review_options = models.JSONField(default=default_review_options)

    class Meta:
        ordering = ["session", "opens_at", "pk"]
        verbose_name_plural = "quizzes"
        constraints = [
            models.CheckConstraint(
                condition=Q(opens_at__isnull=True)
                | Q(closes_at__isnull=True)
                | Q(closes_at__gt=models.F("opens_at")),
                name="quiz_closes_after_opening",
            )
        ]

    def __str__(self) -> str:
        return self.title


class QuizSlot(BaseModel):
    """One place in the quiz: a fixed question, or a question drawn at random from a
    category when each attempt starts (N random questions = N random slots)."""

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="slots")
    position = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    question = models.ForeignKey(
        Question, null=True, blank=True, on_delete=models.RESTRICT, related_name="slots"
    )
    category = models.ForeignKey(
        QuestionCategory, null=True, blank=True, on_delete=models.RESTRICT, related_name="slots"
    )
    include_subcategories = models.BooleanField(default=False)
    mark = models.FloatField(default=1.0, validators=[MinValueValidator(0)])

    class Meta:
        ordering = ["quiz", "position"]
        constraints = [
            models.UniqueConstraint(fields=["quiz", "position"], name="quiz_slot_unique_position"),
            models.CheckConstraint(
                condition=Q(question__isnull=False, category__isnull=True)
                | Q(question__isnull=True, category__isnull=False),
                name="quiz_slot_question_or_category",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quiz} #{self.position}"


class QuizOverride(BaseModel):
    """Per-student exceptions: own dates, extra time, extra attempts."""

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiz_overrides"
    )
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)
    extra_time = models.DurationField(null=True, blank=True)
    extra_attempts = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["quiz", "user"], name="quiz_override_unique_user")
        ]

    def __str__(self) -> str:
        return f"{self.quiz} override for {self.user}"


class Attempt(BaseModel):
    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        FINISHED = "finished", "Finished"

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="attempts")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiz_attempts"
    )
    number = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    state = models.CharField(max_length=20, choices=State.choices, default=State.IN_PROGRESS)
    started_at = models.DateTimeField()
    # When answers stop being accepted: start + time limit (+ extra time), capped by the
    # close date. Kept up to date when the quiz or the student's override changes.
    deadline = models.DateTimeField(null=True, blank=True, db_index=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    auto_submitted = models.BooleanField(default=False)
    max_score = models.FloatField(default=0)
    # None until every essay is marked (as Moodle's "Not yet graded").
    score = models.FloatField(null=True, blank=True)
    needs_grading = models.BooleanField(default=False)

    class Meta:
        ordering = ["quiz", "user", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["quiz", "user", "number"], name="attempt_unique_number"
            ),
            # The database's guarantee behind "starting twice yields one attempt".
            models.UniqueConstraint(
                fields=["quiz", "user"],
                condition=Q(state="in_progress"),
                name="attempt_one_in_progress",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} attempt {self.number} at {self.quiz}"

    @property
    def percentage(self) -> float | None:
        if self.score is None or not self.max_score:
            return None
        return 100 * self.score / self.max_score


class AttemptQuestion(BaseModel):
    """One question as given in one attempt: the version, the choice order, the response
    and its grade."""

    class State(models.TextChoices):
        PENDING = "pending", "Not yet submitted"
        CORRECT = "correct", "Correct"
        PARTIAL = "partial", "Partially correct"
        INCORRECT = "incorrect", "Incorrect"
        UNANSWERED = "unanswered", "Not answered"
        NEEDS_GRADING = "needs_grading", "Requires grading"
        MANUALLY_GRADED = "manually_graded", "Graded by hand"
        INFO = "info", "Information"

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveIntegerField(help_text="Order shown in this attempt, from 1.")
    slot_position = models.PositiveIntegerField(help_text="The quiz slot it was drawn for.")
    question = models.ForeignKey(Question, on_delete=models.RESTRICT, related_name="+")
    version = models.ForeignKey(
        QuestionVersion, on_delete=models.RESTRICT, related_name="attempt_questions"
    )
    max_mark = models.FloatField()
    order = models.JSONField(default=dict, blank=True)
    response = models.JSONField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    fraction = models.FloatField(null=True, blank=True)
    mark = models.FloatField(null=True, blank=True)
    comment = models.TextField(blank=True, help_text="The grader's comment (essays).")
    graded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    graded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["attempt", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["attempt", "position"], name="attempt_question_unique_position"
            )
        ]

    def __str__(self) -> str:
        return f"{self.attempt} Q{self.position}"


class RegradeRecord(BaseModel):
    """What a regrade changed, kept so instructors can explain a changed mark."""

    attempt_question = models.ForeignKey(
        AttemptQuestion, on_delete=models.CASCADE, related_name="regrades"
    )
    old_version = models.ForeignKey(QuestionVersion, on_delete=models.RESTRICT, related_name="+")
    new_version = models.ForeignKey(QuestionVersion, on_delete=models.RESTRICT, related_name="+")
    old_fraction = models.FloatField(null=True, blank=True)
    new_fraction = models.FloatField(null=True, blank=True)
    old_mark = models.FloatField(null=True, blank=True)
    new_mark = models.FloatField(null=True, blank=True)
    regraded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "pk"]

    def __str__(self) -> str:
        return f"Regrade of {self.attempt_question}: {self.old_mark} -> {self.new_mark}"

    @property
    def changed(self) -> bool:
        return self.old_mark != self.new_mark
