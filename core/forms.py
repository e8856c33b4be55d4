"""Form helpers every app's views share."""

from __future__ import annotations

from django import forms


def form_error_message(form: forms.BaseForm) -> str:
    """All of a bound form's errors as one sentence-per-error line, for a flash message or an
    ApplicationError (field names are left out: each error already says what to fix)."""
    return " ".join(str(error) for errors in form.errors.values() for error in errors)
