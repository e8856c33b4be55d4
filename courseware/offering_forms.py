"""Portal forms for offerings: open a course, edit its settings. They check and normalise
input; the services write (courseware.services.offerings)."""

from __future__ import annotations

from django import forms

from courseware.models import Course, course_code_validator

DATE = forms.DateInput(attrs={"type": "date"})


class OfferingDatesForm(forms.Form):
    """Title, dates and state: what an instructor may change after the course exists."""

    title = forms.CharField(max_length=200)
    starts_on = forms.DateField(required=False, widget=DATE, label="Starts on")
    ends_on = forms.DateField(required=False, widget=DATE, label="Ends on")
    state = forms.ChoiceField(
        choices=Course.State.choices,
        initial=Course.State.DRAFT,
        help_text="Draft: only instructors and teaching assistants see it. Archived: read-only "
        "for everyone, still exportable.",
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        starts, ends = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", "The course must end on or after its start date.")
        return cleaned


class CourseCreateForm(OfferingDatesForm):
    code = forms.CharField(
        max_length=40,
        validators=[course_code_validator],
        help_text="E.g. ICTSS00120. The code and term cannot change later: they make the "
        "course's address.",
    )
    term = forms.CharField(
        max_length=40, required=False, help_text="E.g. 2027 S1. Leave blank for a one-off course."
    )
    field_order = ["code", "term", "title", "starts_on", "ends_on", "state"]

    def clean_code(self) -> str:
        return self.cleaned_data["code"].strip()

    def clean_term(self) -> str:
        return " ".join(self.cleaned_data["term"].split())
