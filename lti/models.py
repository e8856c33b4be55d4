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
