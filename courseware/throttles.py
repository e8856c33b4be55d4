"""The join-code throttle: failed join attempts (a wrong, rotated or switched-off code) per
client address per hour, counted in the cache by django-ratelimit and keyed on
core.auth.client_ip like the login lockout, so guessing codes is as slow as guessing
passwords. Successful joins are not counted: a class behind one NAT address joins freely."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage

from core.auth import client_ip

GROUP = "courseware.join.failures"


def _address_key(group: str, request: HttpRequest) -> str:
    return client_ip(request)


def _usage(request: HttpRequest, *, increment: bool) -> dict | None:
    rate = f"{settings.JOIN_FAILURES_PER_ADDRESS}/h"
    return get_usage(request, group=GROUP, key=_address_key, rate=rate, increment=increment)


def join_attempts_limited(request: HttpRequest) -> int | None:
    """Minutes to wait when this address has used up its failed attempts, else None."""
    usage = _usage(request, increment=False)
    if usage and usage["count"] >= usage["limit"]:
        return max(1, round(usage["time_left"] / 60))
    return None


def join_failure_count(request: HttpRequest) -> None:
    _usage(request, increment=True)


def join_limited_message(minutes: int) -> str:
    wait = "1 minute" if minutes == 1 else f"{minutes} minutes"
    return (
        f"Too many wrong join codes from your address. Try again in {wait}, and check the "
        "code with your instructor first."
    )
