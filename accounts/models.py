from django.conf import settings
from django.db import models
from django.db.models import Q

from core.models import BaseModel


class Profile(BaseModel):
    """What Coursebench keeps about a person beside Django's user: the names they go by and
    the roster's student id. Created on demand by `accounts.services.profile_get_or_create`."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    preferred_name = models.CharField(
        max_length=150, blank=True, help_text="What to call the person, e.g. in greetings."
    )
    display_name = models.CharField(
        max_length=60, blank=True, help_text="The display name used on leaderboards."
    )
    # Blank when unknown; a roster's student id belongs to one account (constraint below).
    student_id = models.CharField(max_length=64, blank=True)
    invited_at = models.DateTimeField(null=True, blank=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["student_id"],
                condition=~Q(student_id=""),
                name="accounts_profile_student_id_unique",
                violation_error_message="Another account already has this student id.",
            )
        ]

    def __str__(self) -> str:
        return f"profile of {self.user}"
