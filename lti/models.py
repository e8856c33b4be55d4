"""What Coursebench keeps about LTI beside django-lti's models (`lti_tool`: registrations,
deployments, keys, LMS users, contexts, memberships, resource links, line items).

django-lti's rows say what the LMS told us; these say what it means here: which Coursebench
course an LMS course is, what a resource link opens, which nonces were used, and which launches
were refused (for staff)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from lti_tool.models import LtiContext, LtiRegistration, LtiResourceLink

from core.models import BaseModel
from courseware.models import Course


class Platform(BaseModel):
    """Coursebench's settings for one registered LMS (one django-lti registration)."""

    registration = models.OneToOneField(
        LtiRegistration, on_delete=models.CASCADE, related_name="coursebench"
    )
    # The origins the LMS shows Coursebench in (its iframe's parent), for CSP frame-ancestors:
    # for Canvas the school's own https://school.instructure.com, not the issuer.
    frame_origins = models.JSONField(default=list, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"platform {self.registration.name}"


class CourseLink(BaseModel):
    """An LMS course (context) is one Coursebench offering. Several contexts may share one
    offering (two Canvas sections of one course); a context is linked at most once."""

    context = models.OneToOneField(
        LtiContext, on_delete=models.CASCADE, related_name="coursebench_link"
    )
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="lti_links")
    # Lab scores are provisional (the public score) while the lab is open: sent to the LMS
    # only if the instructor allows it; the private score at close is always sent.
    send_provisional = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.context} -> {self.course.slug}"


class LinkTarget(BaseModel):
    """What an LMS resource link opens: a session, a quiz or a lab of the linked course
    (from the link's custom parameter `resource`, set by deep linking or by hand)."""

    class Kind(models.TextChoices):
        COURSE = "course", "Course page"
        SESSION = "session", "Session"
        QUIZ = "quiz", "Quiz"
        LAB = "lab", "Lab"

    resource_link = models.OneToOneField(
        LtiResourceLink, on_delete=models.CASCADE, related_name="coursebench_target"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # The quiz's or lab's id, or the session's number; 0 for the course page.
    object_id = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.resource_link} -> {self.kind}:{self.object_id}"


class UsedNonce(BaseModel):
    """A launch's nonce, recorded in the launch's own transaction: a replayed id_token finds
    its nonce here and is refused (PyLTI1p3 only checks that the login stored the nonce)."""

    issuer = models.CharField(max_length=255)
    nonce = models.CharField(max_length=255)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "nonce"], name="lti_nonce_used_once")
        ]

    def __str__(self) -> str:
        return f"nonce {self.nonce[:8]}… of {self.issuer}"


class LaunchFailure(BaseModel):
    """A refused login or launch, for staff: which check failed and why. The only row a
    refused launch writes (outside the launch's rolled-back transaction)."""

    registration = models.ForeignKey(
        LtiRegistration, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    issuer = models.CharField(max_length=255, blank=True)
    failed_check = models.CharField(max_length=40)
    message = models.TextField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.failed_check}"


class ScoreSync(BaseModel):
    """One student's score on one placed item, as Coursebench wants the LMS to have it, and
    whether it has. `version` goes up at each change; the task sends a version and records
    `sent_version`, so a late retry of an older version sends nothing (and the AGS timestamp,
    `scored_at`, lets the LMS ignore anything older it might still receive)."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENT = "sent", "The LMS has the current score"
        FAILED = "failed", "Sending failed (will retry)"
        NO_LINE_ITEM = "no_line_item", "No gradebook column in the LMS"

    context = models.ForeignKey(LtiContext, on_delete=models.CASCADE, related_name="+")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    resource = models.CharField(max_length=40)  # quiz:<id> or lab:<id>, the line item's
    score_given = models.FloatField(null=True, blank=True)
    score_maximum = models.FloatField()
    activity_progress = models.CharField(max_length=20)
    grading_progress = models.CharField(max_length=20)
    scored_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)
    sent_version = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    lineitem_url = models.URLField(max_length=500, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["context", "student", "resource"], name="lti_score_sync_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.student} {self.resource} v{self.version} ({self.state})"


class Placement(BaseModel):
    """A gradable item an instructor placed in an LMS course by deep linking: the LMS made a
    column (line item) for it, so its scores are sent there."""

    context = models.ForeignKey(LtiContext, on_delete=models.CASCADE, related_name="+")
    resource = models.CharField(max_length=40)  # quiz:<id> or lab:<id>

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["context", "resource"], name="lti_placement_unique")
        ]

    def __str__(self) -> str:
        return f"{self.resource} in {self.context}"
