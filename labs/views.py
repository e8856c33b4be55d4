"""Portal views of the labs app."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest
from django.views.decorators.http import require_GET

CLIENT_PATH = Path(__file__).resolve().parent / "client" / "coursebench_submit.py"


@require_GET
@login_required
def client_download(request: HttpRequest) -> FileResponse:
    """The single-file submission client (standard library only), as a download."""
    return FileResponse(
        CLIENT_PATH.open("rb"),
        as_attachment=True,
        filename=CLIENT_PATH.name,
        content_type="text/x-python; charset=utf-8",
    )
