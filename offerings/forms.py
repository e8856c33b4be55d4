"""The copy form: the new term and its dates. Input only; `services.offering_copy` writes."""

from __future__ import annotations

from django import forms

DATE = forms.DateInput(attrs={"type": "date"})


class CourseCopyForm(forms.Form):
    term = forms.CharField(max_length=40, help_text="The new term, e.g. 2027 S2.")
    starts_on = forms.DateField(
        widget=DATE,
        label="Starts on",
        help_text="Every date moves by the new start minus the old start: session dates, "
        "homework due dates, quiz and lab open and close dates.",
    )
    ends_on = forms.DateField(widget=DATE, label="Ends on")
    title = forms.CharField(
        max_length=200, required=False, help_text="Blank: the same title as this offering."
    )

    def clean_term(self) -> str:
        term = " ".join(self.cleaned_data["term"].split())
        if not term:
            raise forms.ValidationError("Name the new term, e.g. 2027 S2.")
        return term

    def clean(self) -> dict:
        cleaned = super().clean()
        starts, ends = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", "The course must end on or after its start date.")
        return cleaned
