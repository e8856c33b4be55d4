"""Portal error handling: the one place an ApplicationError raised by a view becomes a page.

API views never get here: DRF turns exceptions into responses itself (core.api).
RequestSizeLimitMiddleware refuses an over-large body before anything reads it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string

from core.exceptions import ApplicationError
from core.views import api_error, is_api_request

logger = logging.getLogger(__name__)

# Where HTMX error fragments go (an aria-live region in base.html), whatever the request's target.
HTMX_ERROR_TARGET = "#htmx-errors"


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


class ApplicationErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, ApplicationError):
            return None
        return render_application_error(request, exception)


def render_application_error(request: HttpRequest, exception: ApplicationError) -> HttpResponse:
    """The portal's page for an error (an HTMX fragment for an HTMX request)."""
    status = exception.status_code
    logger.info("%s %s -> %s %s", request.method, request.path, status, exception.code)
    context = {"error": exception, "status": status, "message": exception.message}
    if is_htmx(request):
        body = render_to_string("_error_fragment.html", context, request=request)
        response = HttpResponse(body, status=status)
        response["HX-Retarget"] = HTMX_ERROR_TARGET
        response["HX-Reswap"] = "innerHTML"
        return response
    return HttpResponse(render_to_string("error.html", context, request=request), status=status)


def _size(n: int) -> str:
    return filesizeformat(n).replace("\xa0", " ")  # plain spaces, also in JSON


class RequestSizeLimitMiddleware:
    """Refuses a request whose Content-Length exceeds REQUEST_MAX_BYTES with a 413, before
    anything reads the body (CsrfViewMiddleware reads a POST's form, Django spools uploads to
    disk): a client must not make the server take in gigabytes only to be told no. Each lab's
    own, smaller `max_upload_bytes` is applied the same way by its upload views (labs.uploads)
    and checked again by the labs service once the upload is in."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.REQUEST_MAX_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads an unparsable Content-Length as an empty body
        if length <= limit:
            return self.get_response(request)
        error = ApplicationError(
            "too_large",
            f"The request is {_size(length)}; this site accepts at most "
            f"{_size(limit)} in one upload. For a lab model, leave out checkpoints and "
            "optimizer states (keep only the save_pretrained files).",
            status_code=413,
        )
        if is_api_request(request):
            return api_error(413, error.code, error.message)
        return render_application_error(request, error)
