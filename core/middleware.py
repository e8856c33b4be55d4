"""Portal error handling: the one place an ApplicationError raised by a view becomes a page.

API views never get here: DRF turns exceptions into responses itself (core.api).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from core.exceptions import ApplicationError

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
