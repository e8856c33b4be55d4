"""Forms of the People page (a module of its own, beside forms.py, so the People page's
inputs stay in one place). They check and normalise input; they never write."""

from __future__ import annotations

from django import forms

from courseware.models import Membership
from courseware.selectors.people import Status

SECTION_MAX = Membership._meta.get_field("section").max_length
_ROLE_ERRORS = {"invalid_choice": "Choose instructor, teaching assistant or student."}
_SECTION_ERRORS = {"max_length": f"A section name is at most {SECTION_MAX} characters."}


class MemberAddForm(forms.Form):
    email = forms.EmailField(
        label="Email",
        error_messages={
            "required": "Type the person's email address.",
            "invalid": "That is not an email address: use name@example.edu.",
        },
    )
    first_name = forms.CharField(label="First name", max_length=150, required=False)
    last_name = forms.CharField(label="Last name", max_length=150, required=False)
    role = forms.ChoiceField(
        label="Role",
        choices=Membership.Role.choices,
        initial=Membership.Role.STUDENT,
        error_messages=_ROLE_ERRORS,
    )
    section = forms.CharField(
        label="Section", max_length=SECTION_MAX, required=False, error_messages=_SECTION_ERRORS
    )


class MemberUpdateForm(forms.Form):
    role = forms.ChoiceField(
        label="Role", choices=Membership.Role.choices, error_messages=_ROLE_ERRORS
    )
    section = forms.CharField(
        label="Section", max_length=SECTION_MAX, required=False, error_messages=_SECTION_ERRORS
    )


class PeopleFilterForm(forms.Form):
    role = forms.ChoiceField(choices=[("", "All roles"), *Membership.Role.choices], required=False)
    status = forms.ChoiceField(choices=[("", "All statuses"), *Status.choices], required=False)
    section = forms.CharField(max_length=SECTION_MAX, required=False)
