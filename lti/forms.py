from __future__ import annotations

from django import forms


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.replace(",", "\n").splitlines() if line.strip()]


class PlatformForm(forms.Form):
    name = forms.CharField(max_length=255, help_text="What staff call it, e.g. “Canvas (prod)”.")
    issuer = forms.CharField(
        max_length=255,
        help_text="Canvas: https://canvas.instructure.com; Moodle: the site's address.",
    )
    client_id = forms.CharField(
        max_length=255,
        label="Client ID",
        help_text="Canvas: the developer key's ID; Moodle: the tool's Client ID.",
    )
    deployment_ids = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Deployment IDs",
        help_text="One per line.",
    )
    auth_url = forms.URLField(
        max_length=200, label="Authentication request URL (OIDC auth)", assume_scheme="https"
    )
    token_url = forms.URLField(max_length=200, label="Access token URL", assume_scheme="https")
    keyset_url = forms.URLField(max_length=200, label="Public keyset URL", assume_scheme="https")
    frame_origins = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="LMS web address(es)",
        help_text="Where people use the LMS (allowed to show Coursebench in a frame), e.g. "
        "https://school.instructure.com. Blank: the issuer's.",
    )

    def clean_deployment_ids(self) -> list[str]:
        return _lines(self.cleaned_data["deployment_ids"])

    def clean_frame_origins(self) -> list[str]:
        return _lines(self.cleaned_data["frame_origins"])


class DeploymentForm(forms.Form):
    deployment_id = forms.CharField(max_length=255, label="Deployment ID")


class PlatformActiveForm(forms.Form):
    is_active = forms.BooleanField(required=False)


class PlatformEditForm(forms.Form):
    """What can change on a registered platform (not its issuer and client id)."""

    name = PlatformForm.base_fields["name"]
    auth_url = PlatformForm.base_fields["auth_url"]
    token_url = PlatformForm.base_fields["token_url"]
    keyset_url = PlatformForm.base_fields["keyset_url"]
    frame_origins = PlatformForm.base_fields["frame_origins"]

    def clean_frame_origins(self) -> list[str]:
        return _lines(self.cleaned_data["frame_origins"])
