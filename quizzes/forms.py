"""Quiz portal input. Forms check and normalise what the browser sent; they never write.

Answer fields are named per question slot (`q3-choice`, `q3-choices`, `q3-value`, `q3-text`,
`q3-match-<item>`) so one form can carry a whole attempt and the autosave of one question
reads only that question's fields. Choice values are the display ids of
`selectors.attempt_display`, which the services convert back.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import PurePath
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat

from core.exceptions import ApplicationError
from courseware.models import Session
from quizzes.content import (
    DESCRIPTION,
    ESSAY,
    MATCHING,
    MULTIPLE_CHOICE,
    NUMERICAL,
    SHORT_ANSWER,
    SINGLE_CHOICE,
    TRUE_FALSE,
)
from quizzes.presentation import ESSAY_TEXT_MAX, SHORT_TEXT_MAX
from quizzes.selectors import STATISTICS_ATTEMPTS

QUESTION_FILE_MAX_BYTES = 1024 * 1024
QUESTION_FILE_EXTENSIONS = (".txt", ".gift")
FORMATS = [("gift", "GIFT (Moodle)"), ("aiken", "Aiken")]


def field_name(slot: int, key: str) -> str:
    return f"q{slot}-{key}"


class AttemptAnswersForm(forms.Form):
    """The answers posted for some questions of an attempt (`questions` as
    `attempt_display` shows them). `responses()` gives {slot: response} for the services."""

    def __init__(self, questions: list[dict[str, Any]], data=None) -> None:
        super().__init__(data)
        self.questions = [q for q in questions if q["type"] != DESCRIPTION]
        for q in self.questions:
            slot, qtype = q["slot"], q["type"]
            choices = [(str(c["id"]), c["text"]) for c in q.get("choices", [])]
            if qtype == SINGLE_CHOICE:
                self.fields[field_name(slot, "choice")] = forms.ChoiceField(
                    choices=choices, required=False
                )
            elif qtype == MULTIPLE_CHOICE:
                self.fields[field_name(slot, "choices")] = forms.MultipleChoiceField(
                    choices=choices, required=False
                )
            elif qtype == TRUE_FALSE:
                self.fields[field_name(slot, "value")] = forms.ChoiceField(
                    choices=[("true", "True"), ("false", "False")], required=False
                )
            elif qtype == NUMERICAL:
                self.fields[field_name(slot, "value")] = forms.CharField(
                    required=False, max_length=100
                )
            elif qtype in (SHORT_ANSWER, ESSAY):
                limit = SHORT_TEXT_MAX if qtype == SHORT_ANSWER else ESSAY_TEXT_MAX
                self.fields[field_name(slot, "text")] = forms.CharField(
                    required=False, max_length=limit, strip=False
                )
            elif qtype == MATCHING:
                for item in q["items"]:
                    self.fields[field_name(slot, f"match-{item['id']}")] = forms.ChoiceField(
                        choices=[("", "Choose…"), *choices], required=False
                    )

    def responses(self) -> dict[int, Any]:
        """{slot: response or None}; ApplicationError `invalid_response` if a field is bad."""
        if not self.is_valid():
            name, errors = next(iter(self.errors.items()))
            slot = name.split("-")[0].removeprefix("q")
            raise ApplicationError(
                "invalid_response", f"Question {slot}: {' '.join(str(e) for e in errors)}"
            )
        data = self.cleaned_data
        result: dict[int, Any] = {}
        for q in self.questions:
            slot, qtype = q["slot"], q["type"]
            if qtype == SINGLE_CHOICE:
                value = data[field_name(slot, "choice")]
                result[slot] = {"choice": int(value)} if value != "" else None
            elif qtype == MULTIPLE_CHOICE:
                picked = [int(v) for v in data[field_name(slot, "choices")]]
                result[slot] = {"choices": picked} if picked else None
            elif qtype == TRUE_FALSE:
                value = data[field_name(slot, "value")]
                result[slot] = {"value": value == "true"} if value else None
            elif qtype == NUMERICAL:
                value = data[field_name(slot, "value")].strip()
                result[slot] = {"value": value} if value else None
            elif qtype in (SHORT_ANSWER, ESSAY):
                text = data[field_name(slot, "text")]
                result[slot] = {"text": text} if text.strip() else None
            elif qtype == MATCHING:
                matches = {}
                for item in q["items"]:
                    value = data[field_name(slot, f"match-{item['id']}")]
                    if value != "":
                        matches[str(item["id"])] = int(value)
                result[slot] = {"matches": matches} if matches else None
        return result


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _check_size(size: int) -> None:
    if size > QUESTION_FILE_MAX_BYTES:
        raise forms.ValidationError(
            f"The questions are {filesizeformat(size)}; the limit is "
            f"{filesizeformat(QUESTION_FILE_MAX_BYTES)}. Split them into several files.",
            code="too_big",
        )


class _QuizFields(forms.Form):
    """Where imported questions go: a session (their category and learning objectives),
    and optionally a new quiz made of them."""

    session = forms.ModelChoiceField(
        queryset=Session.objects.none(),
        required=False,
        empty_label="No session",
        help_text="Questions go to category “Session N” (unless the file names one) and their "
        "LO<n> tags link the session's learning objectives.",
    )
    quiz_title = forms.CharField(
        label="Also create a quiz with these questions",
        required=False,
        max_length=255,
        help_text="Leave empty to only add them to the question bank. Needs a session.",
    )
    time_limit = forms.IntegerField(
        label="Time limit (minutes)",
        required=False,
        min_value=1,
        max_value=24 * 60,
        help_text="Empty: no time limit.",
    )
    attempts_allowed = forms.IntegerField(
        label="Attempts allowed", min_value=0, max_value=100, initial=1, help_text="0: unlimited."
    )

    def __init__(self, *args, course, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["session"].queryset = Session.objects.filter(course=course).order_by("number")
        self.fields["session"].label_from_instance = lambda s: f"Session {s.number}: {s.title}"

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("quiz_title", "").strip() and not cleaned.get("session"):
            self.add_error("session", "Choose the session the new quiz belongs to.")
        minutes = cleaned.get("time_limit")
        cleaned["time_limit_delta"] = timedelta(minutes=minutes) if minutes else None
        if cleaned.get("attempts_allowed") is None:
            cleaned["attempts_allowed"] = 1
        return cleaned


class QuestionImportForm(_QuizFields):
    """Step 1: a GIFT or Aiken file, or the same text pasted. `cleaned_data` gains
    `source` and `filename`."""

    field_order = ["question_file", "source_text", "format", "session", "quiz_title"]

    question_file = forms.FileField(
        label="Question file",
        required=False,
        help_text=f"A UTF-8 .txt or .gift file, at most {filesizeformat(QUESTION_FILE_MAX_BYTES)}.",
        widget=forms.ClearableFileInput(attrs={"accept": ".txt,.gift,text/plain"}),
    )
    source_text = forms.CharField(
        label="…or paste the questions",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false"}),
    )
    format = forms.ChoiceField(choices=FORMATS, initial="gift")

    def clean_question_file(self) -> UploadedFile | None:
        upload = self.cleaned_data.get("question_file")
        if upload is None:
            return None
        name = PurePath(upload.name or "").name
        if not name.lower().endswith(QUESTION_FILE_EXTENSIONS):
            raise forms.ValidationError(
                f"“{name}” is not a .txt or .gift file: export the questions as GIFT text.",
                code="wrong_type",
            )
        _check_size(upload.size or 0)
        return upload

    def clean(self) -> dict:
        cleaned = super().clean()
        upload = cleaned.get("question_file")
        text = cleaned.get("source_text") or ""
        if "question_file" in self.errors:
            return cleaned
        if upload is not None and text.strip():
            raise forms.ValidationError("Upload a file or paste the questions, not both.")
        if upload is None and not text.strip():
            raise forms.ValidationError("Upload a question file or paste the questions.")
        if upload is not None:
            raw = b"".join(upload.chunks())
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                self.add_error(
                    "question_file",
                    f"The file is not UTF-8 text (bad byte at position {exc.start}). Save it "
                    "as UTF-8 and upload it again.",
                )
                return cleaned
            cleaned["filename"] = PurePath(upload.name or "").name
        else:
            _check_size(len(text.encode("utf-8")))
            cleaned["filename"] = ""
        cleaned["source"] = _normalise_newlines(text)
        return cleaned


class QuestionImportConfirmForm(_QuizFields):
    """Step 2: the previewed text and choices, carried back in hidden fields."""

    source = forms.CharField(strip=False, widget=forms.Textarea(attrs={"hidden": True}))
    format = forms.ChoiceField(choices=FORMATS, widget=forms.HiddenInput)
    filename = forms.CharField(required=False, max_length=255, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in ("session", "quiz_title", "time_limit", "attempts_allowed"):
            self.fields[name].widget = forms.HiddenInput()

    def clean_source(self) -> str:
        source = _normalise_newlines(self.cleaned_data["source"])
        _check_size(len(source.encode("utf-8")))
        return source


class EssayMarkForm(forms.Form):
    mark = forms.FloatField(min_value=0)
    comment = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )


class StatisticsForm(forms.Form):
    attempts = forms.ChoiceField(
        choices=[
            ("first", "First attempts"),
            ("last", "Last attempts"),
            ("highest", "Highest-graded attempts"),
            ("all", "All attempts"),
        ],
        required=False,
    )

    def clean_attempts(self) -> str:
        value = self.cleaned_data.get("attempts") or "first"
        return value if value in STATISTICS_ATTEMPTS else "first"
