"""Portal input validation. Forms check and normalise what the user sent; they never write."""

from __future__ import annotations

from pathlib import PurePath

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat

from courseware.decks import DeckError, ParsedDeck, parse_deck

DECK_EXTENSIONS = (".md",)


def _check_deck_size(size: int) -> None:
    if size > settings.DECK_MAX_BYTES:
        raise forms.ValidationError(
            f"The deck is {filesizeformat(size)}; the limit is "
            f"{filesizeformat(settings.DECK_MAX_BYTES)}. Move large images out of the deck "
            "and link to them instead.",
            code="too_big",
        )


def _normalise_newlines(text: str) -> str:
    # Browsers send a textarea's line breaks as CRLF; decks are parsed with LF.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _parse(source: str) -> ParsedDeck:
    try:
        return parse_deck(source)
    except DeckError as exc:
        raise forms.ValidationError(exc.message, code="invalid_deck") from None


class DeckUploadForm(forms.Form):
    """Step 1: a Marp markdown file, which must parse. `cleaned_data` gains `source`,
    `filename` and `deck`."""

    deck_file = forms.FileField(
        label="Marp deck (.md)",
        help_text=f"A UTF-8 Marp markdown file, at most {filesizeformat(settings.DECK_MAX_BYTES)}.",
        widget=forms.ClearableFileInput(attrs={"accept": ".md,text/markdown"}),
        error_messages={
            "required": "Choose the deck's .md file to upload.",
            "empty": "The file is empty: upload a Marp markdown deck with at least one slide.",
        },
    )

    def clean_deck_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["deck_file"]
        name = PurePath(upload.name or "").name
        if not name.lower().endswith(DECK_EXTENSIONS):
            raise forms.ValidationError(
                f"“{name}” is not a markdown file: upload the deck's .md file.",
                code="wrong_type",
            )
        _check_deck_size(upload.size or 0)
        return upload

    def clean(self) -> dict:
        cleaned = super().clean()
        upload: UploadedFile | None = cleaned.get("deck_file")
        if upload is None:
            return cleaned
        raw = b"".join(upload.chunks())
        try:
            source = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            self.add_error(
                "deck_file",
                forms.ValidationError(
                    f"The file is not UTF-8 text (bad byte at position {exc.start}). "
                    "Save it as UTF-8 in your editor and upload it again.",
                    code="not_utf8",
                ),
            )
            return cleaned
        cleaned["source"] = _normalise_newlines(source)
        cleaned["filename"] = PurePath(upload.name or "").name
        try:
            cleaned["deck"] = _parse(cleaned["source"])
        except forms.ValidationError as exc:
            self.add_error("deck_file", exc)
        return cleaned


class DeckConfirmForm(forms.Form):
    """Step 2: the previewed deck's source, carried back in a hidden field and parsed again."""

    source = forms.CharField(strip=False, widget=forms.Textarea(attrs={"hidden": True}))
    filename = forms.CharField(required=False, max_length=255, widget=forms.HiddenInput)

    def clean_source(self) -> str:
        source = _normalise_newlines(self.cleaned_data["source"])
        _check_deck_size(len(source.encode("utf-8")))
        return source

    def clean(self) -> dict:
        cleaned = super().clean()
        if "source" in cleaned:
            try:
                cleaned["deck"] = _parse(cleaned["source"])
            except forms.ValidationError as exc:
                self.add_error("source", exc)
        return cleaned


class HomeworkToggleForm(forms.Form):
    done = forms.TypedChoiceField(
        choices=[("1", "done"), ("0", "not done")], coerce=lambda value: value == "1"
    )


class HomeworkDueForm(forms.Form):
    due_at = forms.DateTimeField(
        label="Due",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Leave empty for no due date.",
    )


class TokenActionForm(forms.Form):
    action = forms.ChoiceField(choices=[("create", "Create"), ("revoke", "Revoke")])
