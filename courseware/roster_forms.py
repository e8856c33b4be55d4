"""Forms of the roster import page: the upload, and the confirm step that carries the
previewed file back signed (so what is imported is exactly what was previewed)."""

from __future__ import annotations

import base64

from django import forms
from django.core import signing
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat

from courseware.roster import MAX_BYTES

# A preview left open longer than this is uploaded again (the accounts may have changed).
CONFIRM_MAX_AGE_S = 60 * 60


def _salt(*, course_pk: int, user_pk: int) -> str:
    # Bound to the course and the uploader: a signed file cannot be replayed elsewhere.
    return f"courseware.roster:{course_pk}:{user_pk}"


def sign_roster(data: bytes, *, course_pk: int, user_pk: int) -> str:
    payload = base64.b64encode(data).decode("ascii")
    return signing.dumps(payload, salt=_salt(course_pk=course_pk, user_pk=user_pk), compress=True)


class RosterUploadForm(forms.Form):
    roster_file = forms.FileField(
        label="Class list (.csv)",
        help_text=(
            "A CSV file with an email column; first_name, last_name, student_id, role and "
            f"section are optional. At most {filesizeformat(MAX_BYTES)}."
        ),
        error_messages={
            "required": "Choose the class list's .csv file to upload.",
            "empty": "The file is empty: upload a CSV file with a header row and one row a person.",
        },
    )

    def clean_roster_file(self) -> bytes:
        upload: UploadedFile = self.cleaned_data["roster_file"]
        if (upload.size or 0) > MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {filesizeformat(upload.size)}; the limit is "
                f"{filesizeformat(MAX_BYTES)}. Split the class list into smaller files.",
                code="too_big",
            )
        return b"".join(upload.chunks())


class RosterConfirmForm(forms.Form):
    payload = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, course_pk: int, user_pk: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.salt = _salt(course_pk=course_pk, user_pk=user_pk)

    def clean_payload(self) -> bytes:
        try:
            payload = signing.loads(
                self.cleaned_data["payload"], salt=self.salt, max_age=CONFIRM_MAX_AGE_S
            )
        except signing.SignatureExpired:
            raise forms.ValidationError(
                "The preview is more than an hour old: upload the file again.", code="expired"
            ) from None
        except signing.BadSignature:
            raise forms.ValidationError(
                "The previewed file did not come back intact: upload the file again.",
                code="bad_signature",
            ) from None
        return base64.b64decode(payload)
