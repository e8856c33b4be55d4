"""Throttles on requests that send email to an address someone typed in (password reset,
sign-up): per client address and per email address, counted in the cache by django-ratelimit
(keyed on core.auth.client_ip, like the login lockout). They count requests, not accounts,
so a limited answer is the same whether the email has an account."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage

from core.auth import client_ip


@dataclass(frozen=True)
class Limited:
    minutes: int

    @property
    def message(self) -> str:
        wait = "1 minute" if self.minutes == 1 else f"{self.minutes} minutes"
        return (
            f"Too many requests from your address or for this email address. Try again in "
            f"{wait}; if the email has not arrived, check your spam folder first."
        )


def _email_key(email: str):
    normalized = email.strip().lower()
    return lambda group, request: normalized


def _address_key(group: str, request: HttpRequest) -> str:
    return client_ip(request)


def account_request_limited(request: HttpRequest, *, scope: str, email: str) -> Limited | None:
    """Count one `scope` request ("password_reset", "signup") for the client's address and
    for `email`; a Limited (how long to wait) when either is over its hourly limit."""
    checks = [
        (f"accounts.{scope}.address", _address_key, settings.ACCOUNT_REQUESTS_PER_ADDRESS),
        (f"accounts.{scope}.email", _email_key(email), settings.ACCOUNT_REQUESTS_PER_EMAIL),
    ]
    wait = 0
    for group, key, per_hour in checks:
        usage = get_usage(request, group=group, key=key, rate=f"{per_hour}/h", increment=True)
        if usage and usage["should_limit"]:
            wait = max(wait, usage["time_left"], 60)
    return Limited(minutes=max(1, round(wait / 60))) if wait else None
