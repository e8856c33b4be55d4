from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

from core.models import BaseModel

course_code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,39}$",
    "A course code is 2-40 letters, digits, '.', '_' or '-', e.g. ICTSS00120.",
)


class Course(BaseModel):
    code = models.CharField(max_length=40, unique=True, validators=[course_code_validator])
    title = models.CharField(max_length=200)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class Membership(BaseModel):
    class Role(models.TextChoices):
        INSTRUCTOR = "instructor", "Instructor"
        STUDENT = "student", "Student"

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course", "user"], name="membership_unique_per_course")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.course.code} as {self.role}"


class Session(BaseModel):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="sessions")
    number = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    title = models.CharField(max_length=300)
    date = models.DateField(null=True, blank=True)
    lecturer = models.CharField(max_length=200, blank=True)
    homework_intro = models.TextField(blank=True)
    slides_source = models.TextField(blank=True, help_text="The Marp deck as imported.")
    slides_html = models.TextField(blank=True, help_text="Sanitised HTML of the slides.")
    slide_count = models.PositiveIntegerField(default=0)
    # Speaker notes are for instructors only: [{"slide": 3, "text": "..."}].
    speaker_notes = models.JSONField(default=list, blank=True)
    deck_filename = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["course", "number"]
        constraints = [
            models.UniqueConstraint(fields=["course", "number"], name="session_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.course.code} session {self.number}: {self.title}"


class LearningObjective(BaseModel):
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="objectives")
    position = models.PositiveIntegerField()
    text = models.TextField()

    class Meta:
        ordering = ["session", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "position"], name="objective_unique_position"
            )
        ]

    def __str__(self) -> str:
        return self.text


class HomeworkTask(BaseModel):
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="homework")
    position = models.PositiveIntegerField()
    text = models.TextField()
    due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["session", "position"]
        constraints = [
            models.UniqueConstraint(fields=["session", "position"], name="homework_unique_position")
        ]

    def __str__(self) -> str:
        return self.text


class HomeworkCompletion(BaseModel):
    task = models.ForeignKey(HomeworkTask, on_delete=models.CASCADE, related_name="completions")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="homework_completions"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["task", "student"], name="completion_unique_per_student"
            )
        ]

    def __str__(self) -> str:
        return f"{self.student} completed {self.task_id}"
