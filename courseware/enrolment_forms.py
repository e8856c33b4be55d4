"""Forms of the self-enrolment pages (join settings, joining with a code, signing up)."""

from __future__ import annotations

from django import forms


class JoinSettingsForm(forms.Form):
    enabled = forms.BooleanField(required=False, label="Students may join with the code")
    email_domain = forms.CharField(
        required=False,
        max_length=120,
        label="Only email addresses at",
        help_text="e.g. student.example.edu (its subdomains too); blank: any address.",
    )
    section = forms.CharField(
        required=False,
        max_length=60,
        label="Section for students who join",
        help_text="e.g. Tue lab; blank: no section.",
    )


class JoinForm(forms.Form):
    code = forms.CharField(
        max_length=32,
        label="Join code",
        help_text="8 letters and digits, from your instructor.",
        error_messages={"required": "Enter the join code your instructor gave you."},
    )


class SignupForm(JoinForm):
    email = forms.EmailField(label="Email address")
    first_name = forms.CharField(max_length=150, label="First name")
    last_name = forms.CharField(max_length=150, label="Last name")
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
        label="Password",
    )
