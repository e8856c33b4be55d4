"""Login protection shared by every login path (portal, admin, API token): the client's
address as the deployment's proxies report it, and django-axes' lockout answer."""

from __future__ import annotations

from datetime import timedelta

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from core.views import api_error, is_api_request


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the one `NUM_PROXIES` trusted proxies in front
    of the app put into X-Forwarded-For (each appends the address it saw, so the n-th entry
    from the right is the last one a trusted proxy wrote). Entries left of it are the
    client's own say, and a client that rotates them must not get a fresh identity.

    DRF's throttles (REST_FRAMEWORK["NUM_PROXIES"]) and axes (AXES_CLIENT_IP_CALLABLE) both
    key on this same rule and setting."""
    remote_addr = request.META.get("REMOTE_ADDR", "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    proxies = settings.NUM_PROXIES
    if proxies == 0 or not forwarded.strip():
        return remote_addr
    addresses = [address.strip() for address in forwarded.split(",")]
    return addresses[-min(proxies, len(addresses))] or remote_addr


def cool_off() -> timedelta:
    return get_cool_off() or timedelta(0)


def _in_words(delta: timedelta) -> str:
    minutes = max(1, round(delta.total_seconds() / 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def lockout_message() -> str:
    # The same words whether or not the username exists: no account enumeration.
    return (
        f"Too many failed logins for this username from your address. Try again in "
        f"{_in_words(cool_off())}, or ask your course coordinator to reset your password."
    )


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: a 429 with the cool-off time, as JSON under /api/ and as a
    page elsewhere (portal and admin login)."""
    retry_after = str(int(cool_off().total_seconds()))
    if is_api_request(request):
        response: HttpResponse = api_error(429, "locked_out", lockout_message())
    else:
        context = {"status": 429, "title": "Too many failed logins", "message": lockout_message()}
        response = HttpResponse(
            render_to_string("error.html", context, request=request), status=429
        )
    response["Retry-After"] = retry_after
    return response


def login_failures_reset(*, request: HttpRequest, username: str) -> None:
    """After a successful API token login: what axes does on `user_logged_in` for a session
    login (AXES_RESET_ON_SUCCESS), without the session axes would create for its access log."""
    AxesProxyHandler.reset_attempts(ip_address=client_ip(request), username=username)
