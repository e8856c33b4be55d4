from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils.text import slugify

from core.models import BaseModel

course_code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,39}$",
    "A course code is 2-40 letters, digits, '.', '_' or '-', e.g. ICTSS00120.",
)


def course_slug(code: str, term: str = "") -> str:
    """The offering's name in URLs: `ICTSS00120`, or `ICTSS00120-2027-S1` with a term."""
    return slugify(f"{code} {term}".strip()).upper() if term else code


class Course(BaseModel):
    """One offering of a course: a code taught in a term (`ICTSS00120`, `2027 S1`)."""

    class State(models.TextChoices):
        DRAFT = "draft", "Draft (instructors only)"
        PUBLISHED = "published", "Published"
        ARCHIVED = "archived", "Archived (read-only)"

    code = models.CharField(max_length=40, validators=[course_code_validator])
    # Blank for a course run once (the demo course); `code` + `term` are unique together.
    term = models.CharField(max_length=40, blank=True, default="")
    # What URLs and the API name the offering by: the code, plus the term when there is one
    # (`ICTSS00120`, `ICTSS00120-2027-S1`).
    slug = models.SlugField(max_length=90, unique=True)
    title = models.CharField(max_length=200)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PUBLISHED)
    # Self-enrolment: a student who knows the code joins as a student (issue 11).
    join_enabled = models.BooleanField(default=False)
    join_code = models.CharField(max_length=16, blank=True, default="", db_index=True)
    join_email_domain = models.CharField(max_length=120, blank=True, default="")
    join_section = models.CharField(max_length=60, blank=True, default="")

    class Meta:
        ordering = ["code", "term"]
        constraints = [
            models.UniqueConstraint(fields=["code", "term"], name="course_unique_code_per_term"),
        ]
        permissions = [("create_course", "Can create courses (course creator)")]

    def __str__(self) -> str:
        return f"{self.code}{f' ({self.term})' if self.term else ''} {self.title}"

    def clean(self) -> None:
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": "The course must end on or after its start date."})


class Membership(BaseModel):
    class Role(models.TextChoices):
        INSTRUCTOR = "instructor", "Instructor"
        TEACHING_ASSISTANT = "ta", "Teaching assistant"
        STUDENT = "student", "Student"

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    # A class list's section ("Tue lab"); for a teaching assistant, the section they look after
    # (blank: the whole course).
    section = models.CharField(max_length=60, blank=True, default="")
    # Unenrolled members keep every attempt, submission and homework tick, but lose access and
    # drop out of lists, leaderboards and exports; re-enrolling restores them.
    is_active = models.BooleanField(default=True)
    unenrolled_at = models.DateTimeField(null=True, blank=True)

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
