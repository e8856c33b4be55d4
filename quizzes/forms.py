"""Quiz portal input. Forms check and normalise what the browser sent; they never write.

Answer fields are named per question slot (`q3-choice`, `q3-choices`, `q3-value`, `q3-text`,
`q3-match-<item>`) so one form can carry a whole attempt and the autosave of one question
reads only that question's fields. Choice values are the display ids of
`selectors.attempt_display`, which the services convert back.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import PurePath
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Count
from django.template.defaultfilters import filesizeformat

from core.exceptions import ApplicationError
from courseware.models import Session
from quizzes import qtypes
from quizzes.models import Question, QuestionCategory, Quiz
from quizzes.review import (
    CLOSED,
    DURING,
    IMMEDIATELY,
    OPEN,
    WINDOWS,
    default_review_options,
    normalise_review_options,
)
from quizzes.review import OPTIONS as REVIEW_OPTIONS
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
        self.questions = [q for q in questions if qtypes.get(q["type"]).answerable]
        for q in self.questions:
            # Each type names its own fields (quizzes.qtypes: form_fields).
            for key, field in qtypes.get(q["type"]).form_fields(q).items():
                self.fields[field_name(q["slot"], key)] = field

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
            plugin = qtypes.get(q["type"])
            prefix = field_name(q["slot"], "")
            cleaned = {
                name.removeprefix(prefix): value
                for name, value in data.items()
                if name.startswith(prefix)
            }
            result[q["slot"]] = plugin.form_response(q, cleaned)
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


# --- Quiz settings, questions and overrides (instructors) ------------------------------------

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
MAX_TIME_LIMIT_MINUTES = 7 * 24 * 60
MAX_ATTEMPTS = 1000
BANK_SEARCH_MAX = 100

#: The review matrix as the settings page explains it: (window, label, explanation).
REVIEW_WINDOWS = [
    (
        DURING,
        "During the attempt",
        "Shown as soon as an answer is saved. Only for practice quizzes: students could try "
        "answers until one is marked right.",
    ),
    (IMMEDIATELY, "Immediately after", "Within 2 minutes of submitting."),
    (
        OPEN,
        "Later, while open",
        "From 2 minutes after submitting until the quiz closes for that student.",
    ),
    (CLOSED, "After close", "Once the quiz has closed; never for a quiz without a close date."),
]
#: (option, label, explanation)
REVIEW_COLUMNS = [
    ("correctness", "Correctness", "Whether each answer is right, partly right or wrong."),
    ("marks", "Marks", "Each question's mark and the attempt's score."),
    (
        "feedback",
        "Feedback",
        "Feedback on the chosen answers, general feedback, the grader's comments.",
    ),
    ("right_answers", "Right answers", "The correct answer to each question."),
]


def _datetime_field(label: str, help_text: str = "") -> forms.DateTimeField:
    # Django reads a naive datetime-local value in the current time zone and shows an aware
    # one converted to it.
    return forms.DateTimeField(
        label=label,
        required=False,
        input_formats=[DATETIME_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT),
        help_text=help_text,
    )


def _control(widget: forms.Widget) -> forms.Widget:
    widget.attrs.setdefault("class", "quiz-form-control")
    return widget


def _minutes(value: timedelta | None) -> int | None:
    return None if value is None else round(value.total_seconds() / 60)


def _number(value: float | None) -> float | int | None:
    """50.0 shown as 50 (a number input would show "50.0")."""
    return int(value) if value is not None and float(value).is_integer() else value


def _same_minute(a: datetime | None, b: datetime | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.replace(second=0, microsecond=0) == b.replace(second=0, microsecond=0)


def review_field_name(window: str, option: str) -> str:
    return f"review_{window}_{option}"


class QuizSettingsForm(forms.Form):
    """A quiz's settings, to create a quiz (`course=`, with a session) or edit one
    (`quiz=`). The review options are one checkbox per window and option.
    `settings()` gives the service's keyword arguments; `changes(quiz)` only what differs."""

    session = forms.ModelChoiceField(queryset=Session.objects.none(), empty_label=None)
    title = forms.CharField(max_length=255)
    intro = forms.CharField(
        label="Introduction",
        required=False,
        max_length=20_000,
        widget=_control(forms.Textarea(attrs={"rows": 4})),
        help_text="Shown on the quiz page before students start.",
    )
    visible = forms.BooleanField(
        label="Visible to students",
        required=False,
        initial=True,
        help_text="Hidden quizzes are listed only for instructors.",
    )
    opens_at = _datetime_field("Opens", "Empty: open at once.")
    closes_at = _datetime_field(
        "Closes", "Empty: never closes. Attempts in progress are submitted when it closes."
    )
    time_limit = forms.IntegerField(
        label="Time limit (minutes)",
        required=False,
        min_value=1,
        max_value=MAX_TIME_LIMIT_MINUTES,
        widget=_control(forms.NumberInput()),
        help_text="Empty: no time limit.",
    )
    attempts_allowed = forms.IntegerField(
        label="Attempts allowed",
        min_value=0,
        max_value=MAX_ATTEMPTS,
        initial=0,
        widget=_control(forms.NumberInput()),
        help_text="0: unlimited.",
    )
    grading_method = forms.ChoiceField(
        choices=Quiz.GradingMethod.choices,
        initial=Quiz.GradingMethod.HIGHEST,
        widget=_control(forms.Select()),
        help_text="Which attempts make the quiz grade when several are allowed.",
    )
    pass_percentage = forms.FloatField(
        label="Pass mark (%)",
        required=False,
        min_value=0,
        max_value=100,
        widget=_control(forms.NumberInput(attrs={"step": "any"})),
        help_text="Empty: no pass mark.",
    )
    shuffle_questions = forms.BooleanField(
        required=False, help_text="Descriptions stay where they are."
    )
    shuffle_answers = forms.BooleanField(
        label="Shuffle answers",
        required=False,
        initial=True,
        help_text="Choices of each question in a different order per attempt.",
    )
    confirm_cut_off = forms.BooleanField(
        label="Save anyway and submit those attempts now", required=False
    )

    GENERAL = ("session", "title", "intro", "visible")
    TIMING = ("opens_at", "closes_at", "time_limit")
    GRADING = ("attempts_allowed", "grading_method", "pass_percentage")
    SHUFFLE = ("shuffle_questions", "shuffle_answers")

    def __init__(self, *args, course=None, quiz: Quiz | None = None, **kwargs) -> None:
        if quiz is not None:
            initial = {
                "title": quiz.title,
                "intro": quiz.intro,
                "visible": quiz.visible,
                "opens_at": quiz.opens_at,
                "closes_at": quiz.closes_at,
                "time_limit": _minutes(quiz.time_limit),
                "attempts_allowed": quiz.attempts_allowed,
                "grading_method": quiz.grading_method,
                "pass_percentage": _number(quiz.pass_percentage),
                "shuffle_questions": quiz.shuffle_questions,
                "shuffle_answers": quiz.shuffle_answers,
            }
            options = normalise_review_options(quiz.review_options)
        else:
            initial = {}
            options = default_review_options()
        for window in WINDOWS:
            for option in REVIEW_OPTIONS:
                initial[review_field_name(window, option)] = options[window][option]
        initial.update(kwargs.pop("initial", None) or {})
        super().__init__(*args, initial=initial, **kwargs)
        self.quiz = quiz
        for window, label, _ in REVIEW_WINDOWS:
            for option, option_label, _ in REVIEW_COLUMNS:
                self.fields[review_field_name(window, option)] = forms.BooleanField(
                    label=f"{option_label}: {label.lower()}", required=False
                )
        if quiz is not None:
            del self.fields["session"]
        else:
            sessions = Session.objects.filter(course=course).order_by("number")
            self.fields["session"].queryset = sessions
            self.fields["session"].label_from_instance = lambda s: f"Session {s.number}: {s.title}"

    def section(self, names: tuple[str, ...]) -> list[forms.BoundField]:
        return [self[name] for name in names if name in self.fields]

    def general_fields(self):
        return self.section(self.GENERAL)

    def timing_fields(self):
        return self.section(self.TIMING)

    def grading_fields(self):
        return self.section(self.GRADING)

    def shuffle_fields(self):
        return self.section(self.SHUFFLE)

    def review_rows(self) -> list[dict[str, Any]]:
        """The matrix for the template: one row per window, one checkbox per option."""
        return [
            {
                "window": window,
                "label": label,
                "help": help_text,
                "cells": [self[review_field_name(window, option)] for option in REVIEW_OPTIONS],
            }
            for window, label, help_text in REVIEW_WINDOWS
        ]

    def review_columns(self) -> list[tuple[str, str, str]]:
        return REVIEW_COLUMNS

    def review_has_errors(self) -> bool:
        return any(
            self.errors.get(review_field_name(w, o)) for w in WINDOWS for o in REVIEW_OPTIONS
        )

    def clean(self) -> dict:
        cleaned = super().clean()
        opens, closes = cleaned.get("opens_at"), cleaned.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", "The quiz must close after it opens.")
        return cleaned

    def review_options(self) -> dict[str, dict[str, bool]]:
        data = self.cleaned_data
        return {
            window: {
                option: bool(data.get(review_field_name(window, option)))
                for option in REVIEW_OPTIONS
            }
            for window in WINDOWS
        }

    def settings(self) -> dict[str, Any]:
        """Keyword arguments of `services.quiz_create` (but `session`) and keys of
        `services.quiz_update`."""
        data = self.cleaned_data
        minutes = data.get("time_limit")
        return {
            "title": data["title"],
            "intro": _normalise_newlines(data.get("intro") or ""),
            "visible": data["visible"],
            "opens_at": data.get("opens_at"),
            "closes_at": data.get("closes_at"),
            "time_limit": timedelta(minutes=minutes) if minutes else None,
            "attempts_allowed": data["attempts_allowed"],
            "grading_method": data["grading_method"],
            "shuffle_questions": data["shuffle_questions"],
            "shuffle_answers": data["shuffle_answers"],
            "pass_percentage": data.get("pass_percentage"),
            "review_options": self.review_options(),
        }

    def changes(self, quiz: Quiz) -> dict[str, Any]:
        """The settings that differ from `quiz`'s. Dates are compared to the minute and
        the time limit in whole minutes (what the form can show), so saving an untouched
        form changes nothing."""
        changed = {}
        for key, value in self.settings().items():
            current = getattr(quiz, key)
            if key in ("opens_at", "closes_at"):
                same = _same_minute(current, value)
            elif key == "time_limit":
                same = _minutes(current) == _minutes(value)
            elif key == "review_options":
                same = normalise_review_options(current) == value
            else:
                same = current == value
            if not same:
                changed[key] = value
        return changed


def _categories(course):
    return (
        QuestionCategory.objects.filter(course=course)
        .annotate(question_count=Count("questions"))
        .order_by("path")
    )


def _category_label(category: QuestionCategory) -> str:
    count = category.question_count
    return f"{category.path} ({count} question{'' if count == 1 else 's'})"


class BankFilterForm(forms.Form):
    """Which bank questions the quiz's question page lists (GET)."""

    category = forms.ModelChoiceField(
        queryset=QuestionCategory.objects.none(),
        required=False,
        empty_label="All categories",
        widget=_control(forms.Select()),
    )
    q = forms.CharField(
        label="Name contains",
        required=False,
        max_length=BANK_SEARCH_MAX,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "e.g. attention"}),
    )

    def __init__(self, *args, course, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = _categories(course)
        self.fields["category"].label_from_instance = _category_label


class QuizQuestionsAddForm(forms.Form):
    """Bank questions to add to a quiz, each in a new slot."""

    questions = forms.ModelMultipleChoiceField(
        queryset=Question.objects.none(),
        error_messages={"required": "Tick the questions to add."},
    )
    mark = forms.FloatField(
        required=False,
        min_value=0,
        max_value=1000,
        widget=_control(forms.NumberInput(attrs={"step": "any"})),
        help_text="Empty: each question's default mark.",
    )

    def __init__(self, *args, course, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["questions"].queryset = Question.objects.filter(
            course=course, current_version__isnull=False
        ).order_by("category__path", "name", "pk")


class QuizRandomAddForm(forms.Form):
    """N slots that each draw a different question from a category at every start."""

    category = forms.ModelChoiceField(
        queryset=QuestionCategory.objects.none(),
        empty_label=None,
        widget=_control(forms.Select()),
    )
    count = forms.IntegerField(
        label="How many",
        min_value=1,
        max_value=100,
        initial=1,
        widget=_control(forms.NumberInput()),
    )
    include_subcategories = forms.BooleanField(label="Include subcategories", required=False)
    mark = forms.FloatField(
        label="Mark each",
        min_value=0,
        max_value=1000,
        initial=1,
        widget=_control(forms.NumberInput(attrs={"step": "any"})),
    )

    def __init__(self, *args, course, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = _categories(course)
        self.fields["category"].label_from_instance = _category_label


class QuizOverrideForm(forms.Form):
    """One student's accommodation: own dates, extra time, extra attempts."""

    student = forms.ModelChoiceField(
        queryset=None, empty_label="Choose a student…", widget=_control(forms.Select())
    )
    opens_at = _datetime_field("Opens", "Empty: as the quiz.")
    closes_at = _datetime_field("Closes", "Empty: as the quiz.")
    extra_time = forms.IntegerField(
        label="Extra time (minutes)",
        required=False,
        min_value=0,
        max_value=MAX_TIME_LIMIT_MINUTES,
        widget=_control(forms.NumberInput()),
        help_text="Added to the time limit (none while the quiz has no time limit).",
    )
    extra_attempts = forms.IntegerField(
        label="Extra attempts",
        required=False,
        min_value=0,
        max_value=MAX_ATTEMPTS,
        widget=_control(forms.NumberInput()),
        help_text="Added to the attempts allowed (none needed while they are unlimited).",
    )

    def __init__(self, *args, students, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["student"].queryset = students
        self.fields["student"].label_from_instance = lambda u: (
            f"{u.get_full_name() or u.get_username()} ({u.get_username()})"
        )

    def clean(self) -> dict:
        cleaned = super().clean()
        opens, closes = cleaned.get("opens_at"), cleaned.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", "The close date must be after the open date.")
        cleaned["extra_attempts"] = cleaned.get("extra_attempts") or 0
        minutes = cleaned.get("extra_time")
        cleaned["extra_time_delta"] = timedelta(minutes=minutes) if minutes else None
        if not self.errors and not (
            opens or closes or cleaned["extra_time_delta"] or cleaned["extra_attempts"]
        ):
            raise forms.ValidationError(
                "Set a date, extra time or extra attempts; to remove an override, use Clear."
            )
        return cleaned

    @staticmethod
    def initial_for(override) -> dict[str, Any]:
        return {
            "student": override.user_id,
            "opens_at": override.opens_at,
            "closes_at": override.closes_at,
            "extra_time": _minutes(override.extra_time) or None,
            "extra_attempts": override.extra_attempts or None,
        }
