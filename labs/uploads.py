"""A lab's upload limit, applied to a request's Content-Length before anything reads its body.

core.middleware.RequestSizeLimitMiddleware refuses any request over the site-wide
REQUEST_MAX_BYTES the same way; a lab's own `max_upload_bytes` is smaller (500 MB by default)
and depends on the lab, so the views that take a lab's uploads call `upload_check_length`
first: a student sending 900 MB to a 500 MB lab is told at once, instead of after the server
has spooled the whole body to disk. The check after the upload (labs.services) stays: a
request without a Content-Length (chunked) or one that understates it is caught there.

The views must call this before request.POST / FILES / data, and before CSRF is checked on a
form post, since CsrfViewMiddleware reads the form to find its token.
"""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from rest_framework.request import Request

from core.exceptions import ApplicationError
from labs.models import Lab

#: What a multipart body carries besides the file: the boundary lines, each part's headers
#: (the file name among them), the CSRF token and the small form fields. 64 KiB is far more
#: than that, so an upload the check after the upload would accept is never refused here.
MULTIPART_ALLOWANCE_BYTES = 64 * 1024

UploadKind = Literal["archive", "dataset"]


def announced_length(request: HttpRequest | Request) -> int:
    """The request's Content-Length; 0 when it has none or an unparsable one (as Django reads
    the body then: empty)."""
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def upload_too_large_error(
    *, lab: Lab, size: int, kind: UploadKind = "archive"
) -> ApplicationError:
    """The `too_large` error for an upload of `size` bytes to `lab`, with what to do about it."""
    limit = f"{lab.max_upload_bytes / 2**20:.0f} MB"
    if kind == "dataset":
        return ApplicationError(
            "too_large",
            f"The held-out file is {size / 2**20:.1f} MB; this lab accepts at most {limit} "
            "in one upload. Leave out columns other than text and label, save it as Parquet "
            "(smaller than CSV), or raise the lab's upload limit on its edit page.",
            status_code=413,
        )
    return ApplicationError(
        "too_large",
        f"The archive is {size / 2**20:.1f} MB; this lab accepts at most {limit}. Remove "
        "optimizer states and checkpoints (keep only the save_pretrained files).",
        status_code=413,
    )


def upload_check_length(
    *, lab: Lab, request: HttpRequest | Request, kind: UploadKind = "archive"
) -> None:
    """Raise `too_large` (413) if the request announces more than the lab accepts, plus the
    multipart allowance. Reads only the request's headers."""
    length = announced_length(request)
    if length > lab.max_upload_bytes + MULTIPART_ALLOWANCE_BYTES:
        raise upload_too_large_error(lab=lab, size=length, kind=kind)
