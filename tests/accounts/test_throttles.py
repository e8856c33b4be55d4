"""Password-reset and sign-up requests are throttled per client address and per email
address, with a clear message, and the same answer whether the email has an account."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import RequestFactory
from django.urls import reverse

from accounts.throttles import account_request_limited

pytestmark = pytest.mark.django_db
URL = "/accounts/password/reset/"


@pytest.fixture(autouse=True)
def _small_limits(settings):
    settings.ACCOUNT_REQUESTS_PER_EMAIL = 2
    settings.ACCOUNT_REQUESTS_PER_ADDRESS = 3


def reset(client, email: str, **extra):
    return client.post(URL, {"email": email}, **extra)


def comparable(response) -> str:
    """The page without CSRF tokens and the wait, which depends on where the email's hourly
    window starts (django-ratelimit staggers windows by key), not on whether it has an account."""
    text = re.sub(r"[A-Za-z0-9]{64}", "<csrf>", response.content.decode())
    return re.sub(r"Try again in \d+ minutes?", "Try again in <n> minutes", text)


def test_reset_requests_for_one_email_are_limited_with_a_clear_message(client, ada):
    answers = [reset(client, "ada@example.edu", REMOTE_ADDR=f"10.0.0.{i}") for i in range(3)]

    assert [a.status_code for a in answers] == [302, 302, 429]
    assert len(mail.outbox) == 2  # the limited request sends nothing
    html = answers[-1].content.decode()
    assert "Too many requests from your address or for this email address" in html
    # The count runs in hourly windows (django-ratelimit): the wait is what is left of it.
    minutes = int(re.search(r"Try again in (\d+) minutes?", html).group(1))
    assert 1 <= minutes <= 60
    assert answers[-1]["Retry-After"] == str(minutes * 60)


def test_the_limit_looks_the_same_for_an_unknown_email(client, ada):
    known = [reset(client, "ada@example.edu", REMOTE_ADDR=f"10.0.0.{i}") for i in range(3)]
    unknown = [reset(client, "nobody@example.edu", REMOTE_ADDR=f"10.0.1.{i}") for i in range(3)]

    assert [r.status_code for r in known] == [r.status_code for r in unknown]
    assert comparable(known[-1]) == comparable(unknown[-1])


def test_the_email_limit_ignores_case_and_spaces(client, ada):
    reset(client, "ada@example.edu", REMOTE_ADDR="10.0.0.1")
    reset(client, " ADA@example.edu", REMOTE_ADDR="10.0.0.2")

    assert reset(client, "Ada@Example.edu", REMOTE_ADDR="10.0.0.3").status_code == 429


def test_requests_from_one_address_are_limited_across_emails(client):
    answers = [reset(client, f"n{i}@example.edu", REMOTE_ADDR="10.0.0.9") for i in range(4)]

    assert [a.status_code for a in answers] == [302, 302, 302, 429]
    assert reset(client, "other@example.edu", REMOTE_ADDR="10.0.0.8").status_code == 302


def test_a_forged_forwarded_for_header_does_not_escape_the_address_limit(client, settings):
    settings.NUM_PROXIES = 0
    answers = [
        reset(
            client,
            f"n{i}@example.edu",
            REMOTE_ADDR="10.0.0.9",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{i}",
        )
        for i in range(4)
    ]

    assert answers[-1].status_code == 429


def test_behind_a_proxy_the_limit_is_per_forwarded_client(client, settings):
    settings.NUM_PROXIES = 1
    for i in range(3):
        reset(client, f"n{i}@example.edu", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.7")

    limited = reset(
        client, "x@example.edu", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.7"
    )
    other_client = reset(
        client, "y@example.edu", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.8"
    )

    assert (limited.status_code, other_client.status_code) == (429, 302)


def test_sign_up_requests_have_their_own_count_with_the_same_limits():
    factory = RequestFactory()

    def signup(email: str, address: str = "10.0.0.5"):
        request = factory.post("/join/", REMOTE_ADDR=address)
        return account_request_limited(request, scope="signup", email=email)

    assert [signup("s@example.edu", f"10.0.2.{i}") for i in range(2)] == [None, None]
    limited = signup("s@example.edu", "10.0.2.9")

    assert limited is not None and "Too many requests" in limited.message
    # Password-reset requests for the same email are counted apart.
    request = factory.post(URL, REMOTE_ADDR="10.0.3.1")
    assert account_request_limited(request, scope="password_reset", email="s@example.edu") is None


def test_a_form_error_is_not_a_request(client):
    for _ in range(4):
        response = client.post(reverse("password_reset"), {"email": "not-an-email"})
        assert response.status_code == 200 and "Enter a valid email address" in (
            response.content.decode()
        )
