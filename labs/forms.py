"""Portal input validation for labs. Forms check and normalise what the user sent; services
write (and apply the rules that need the database)."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from labs.models import MB, Lab, Submission, validate_labels
from labs.services import TRY_IT_MAX_CHARS

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
ARCHIVE_ACCEPT = ".zip,.tar.gz,.tgz,application/zip,application/gzip"
DATASET_ACCEPT = ".csv,.jsonl,.ndjson,.parquet"


class SubmissionUploadForm(forms.Form):
    archive = forms.FileField(
        label="Model archive",
        allow_empty_file=True,  # the service answers `invalid_archive` with a clearer message
        widget=forms.ClearableFileInput(attrs={"accept": ARCHIVE_ACCEPT}),
        error_messages={
            "required": "Choose the .zip of your save_pretrained folder to upload.",
        },
    )


def _datetime_widget() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT)


class LabForm(forms.Form):
    """A lab's rules. Sizes are asked in MB and stored in bytes."""

    title = forms.CharField(max_length=200)
    instructions = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text="Markdown: what to train, on which data, and how it is scored.",
    )
    labels = forms.CharField(
        max_length=2000,
        help_text="Comma-separated, e.g. negative, neutral, positive. A model's id2label must "
        "use the same names, in any order.",
    )
    primary_metric = forms.ChoiceField(
        choices=Lab.Metric.choices, initial=Lab.Metric.MACRO_F1, label="Ranking metric"
    )
    opens_at = forms.DateTimeField(
        required=False,
        widget=_datetime_widget(),
        input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M"],
        label="Opens",
    )
    closes_at = forms.DateTimeField(
        required=False,
        widget=_datetime_widget(),
        input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M"],
        label="Closes (deadline)",
    )
    daily_quota = forms.IntegerField(
        min_value=1, initial=5, help_text="Submissions per student per day (resets 00:00 UTC)."
    )
    total_quota = forms.IntegerField(
        min_value=1, required=False, help_text="Optional: submissions per student in all."
    )
    public_fraction = forms.FloatField(
        min_value=0.05,
        max_value=0.95,
        initial=0.5,
        help_text="Share of the held-out set scored on the public leaderboard before the deadline.",
    )
    max_upload_mb = forms.IntegerField(
        min_value=1, max_value=10_000, initial=500, label="Max upload (MB)"
    )
    grading_timeout_s = forms.IntegerField(
        min_value=5, max_value=3000, initial=600, label="Grading time limit (s)"
    )
    grading_memory_mb = forms.IntegerField(
        min_value=256, max_value=262_144, initial=4096, label="Grading memory limit (MB)"
    )
    leaderboard_pseudonyms = forms.BooleanField(
        required=False,
        label="Pseudonyms on the leaderboard",
        help_text="Show stable pseudonyms such as “Student 4F2A” instead of names.",
    )

    @classmethod
    def initial_for(cls, lab: Lab) -> dict:
        return {
            "title": lab.title,
            "instructions": lab.instructions,
            "labels": ", ".join(lab.labels or []),
            "primary_metric": lab.primary_metric,
            "opens_at": timezone.localtime(lab.opens_at) if lab.opens_at else None,
            "closes_at": timezone.localtime(lab.closes_at) if lab.closes_at else None,
            "daily_quota": lab.daily_quota,
            "total_quota": lab.total_quota,
            "public_fraction": lab.public_fraction,
            "max_upload_mb": round(lab.max_upload_bytes / MB),
            "grading_timeout_s": lab.grading_timeout_s,
            "grading_memory_mb": round(lab.grading_memory_bytes / MB),
            "leaderboard_pseudonyms": lab.leaderboard_pseudonyms,
        }

    def clean_labels(self) -> list[str]:
        labels = [part.strip() for part in self.cleaned_data["labels"].split(",")]
        labels = [label for label in labels if label]
        validate_labels(labels)
        return labels

    def clean(self) -> dict:
        cleaned = super().clean()
        opens, closes = cleaned.get("opens_at"), cleaned.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", "The lab must close after it opens.")
        return cleaned

    def lab_fields(self) -> dict:
        """cleaned_data as Lab field values (sizes in bytes)."""
        data = dict(self.cleaned_data)
        data["max_upload_bytes"] = data.pop("max_upload_mb") * MB
        data["grading_memory_bytes"] = data.pop("grading_memory_mb") * MB
        return data


class DatasetUploadForm(forms.Form):
    dataset = forms.FileField(
        label="Held-out file",
        help_text="CSV, JSONL or Parquet with a text and a label column.",
        widget=forms.ClearableFileInput(attrs={"accept": DATASET_ACCEPT}),
        error_messages={
            "required": "Choose the held-out file to upload.",
            "empty": "The file is empty: it needs a header and at least one row per label.",
        },
    )
    regrade = forms.BooleanField(
        required=False,
        label="Re-grade all scored submissions with the new version",
        help_text="Runs on the low-priority queue; current results stay until new ones exist.",
    )


class SubmissionFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *Submission.Status.choices]
    )
    error = forms.CharField(required=False, max_length=40)
    student = forms.IntegerField(required=False, min_value=1)


class LeaderboardForm(forms.Form):
    part = forms.ChoiceField(
        required=False, choices=[("public", "Public part"), ("private", "Private part")]
    )


class TryItForm(forms.Form):
    text = forms.CharField(
        label="A sentence",
        max_length=TRY_IT_MAX_CHARS,
        strip=True,
        widget=forms.TextInput(
            attrs={"placeholder": "A text like the ones this lab classifies", "autocomplete": "off"}
        ),
        error_messages={"required": "Type a sentence for the model to classify."},
    )

    def __init__(self, *args, example: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if example:  # from the lab's own training data, so it fits whatever the lab classifies
            self.fields["text"].widget.attrs["placeholder"] = f"e.g. {example}"


class LabExtensionForm(forms.Form):
    """An instructor's deadline extension for one student (the dashboard and the per-student
    page post it; the service checks the dates against the lab)."""

    student = forms.IntegerField(min_value=1, error_messages={"required": "Choose a student."})
    closes_at = forms.DateTimeField(
        widget=_datetime_widget(),
        input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M"],
        label="Extended deadline",
        error_messages={"required": "Give the student's new deadline."},
    )
    reason = forms.CharField(
        max_length=500,
        error_messages={"required": "Give a reason (e.g. medical certificate)."},
    )
    # Where to go afterwards: the per-student page or the dashboard (the default).
    back = forms.ChoiceField(
        choices=[("dashboard", "dashboard"), ("student", "student")], required=False
    )
