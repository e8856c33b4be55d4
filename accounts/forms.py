from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm

from accounts.models import Profile

User = get_user_model()


class ResetForm(PasswordResetForm):
    """Django's form, which also reaches an invited account that has not set a password yet
    (Django skips accounts without a usable password): its reset link sets the first one."""

    def get_users(self, email: str):
        return User._default_manager.filter(email__iexact=email, is_active=True)


class ProfileForm(forms.ModelForm):
    class Meta:
        model = Profile
        fields = ["preferred_name", "display_name"]
        labels = {"display_name": "Display name on leaderboards"}


class EmailChangeForm(forms.Form):
    new_email = forms.EmailField(label="New email address")
