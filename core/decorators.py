"""View decorators shared by every app's portal views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse

from core.middleware import is_htmx


def htmx_login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """login_required, except that an HTMX request whose session has expired gets a 401 with
    HX-Redirect, so htmx loads the login page instead of swapping it into a fragment."""
    protected = login_required(view)

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if is_htmx(request) and not request.user.is_authenticated:
            current = urlsplit(request.headers.get("HX-Current-URL", ""))
            back_to = current.path + (f"?{current.query}" if current.query else "") or "/"
            response = HttpResponse("Your session has ended: log in again.", status=401)
            response["HX-Redirect"] = redirect_to_login(back_to)["Location"]
            return response
        return protected(request, *args, **kwargs)

    return wrapper
