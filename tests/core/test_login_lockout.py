"""Every login path (portal, admin, API token) locks a username out from an address after
LOGIN_FAILURE_LIMIT failures, even for the right password; the address is REMOTE_ADDR unless
NUM_PROXIES trusted proxies report it in X-Forwarded-For."""

from __future__ import annotations

import re

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient

from core.auth import client_ip
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOKEN_URL = reverse("courseware_api:token-obtain")
LIMIT = 5
LOCKED = (
    "Too many failed logins for this username from your address. Try again in 15 minutes, "
    "or ask your course coordinator to reset your password."
)


@pytest.fixture(autouse=True)
def _fresh_throttles_and_limits(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    cache.clear()  # the API token throttle counts in the cache, which tests do not roll back
    yield
    cache.clear()


@pytest.fixture
def user():
    return UserFactory(username="ada", is_staff=True, is_superuser=True)


def portal_login(client, username: str, password: str, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def admin_login(client, username: str, password: str, **extra):
    return client.post(
        reverse("admin:login"), {"username": username, "password": password}, **extra
    )


def api_login(client, username: str, password: str, **extra):
    return APIClient().post(
        TOKEN_URL, {"username": username, "password": password}, format="json", **extra
    )


def comparable(response, username: str) -> str:
    """The body without its CSRF tokens and the (echoed) username typed in."""
    text = re.sub(r"[A-Za-z0-9]{64}", "<token>", response.content.decode())
    return text.replace(f'value="{username}"', 'value="<username>"')


LOGINS = {"portal": portal_login, "admin": admin_login, "api": api_login}


def assert_locked_out(response, path: str) -> None:
    assert response.status_code == 429, response.content
    assert response["Retry-After"] == "900"
    if path == "api":
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"code": "locked_out", "message": LOCKED}
    else:
        assert response["Content-Type"].startswith("text/html")
        html = response.content.decode()
        assert "Too many failed logins" in html
        assert "Try again in 15 minutes" in html


def assert_logged_in(response, path: str) -> None:
    if path == "api":
        assert response.status_code == 200, response.content
        assert "token" in response.json()
    else:
        assert response.status_code == 302, response.content
        assert "/login/" not in response["Location"]


@pytest.mark.parametrize("path", LOGINS)
def test_failures_lock_out_even_the_right_password(client, user, path):
    login = LOGINS[path]
    for _ in range(LIMIT - 1):
        assert login(client, "ada", "wrong").status_code in (200, 400)

    assert_locked_out(login(client, "ada", "wrong"), path)
    assert_locked_out(login(client, "ada", PASSWORD), path)


@pytest.mark.parametrize("path", LOGINS)
def test_fewer_failures_than_the_limit_still_let_the_right_password_in(client, user, path):
    login = LOGINS[path]
    for _ in range(LIMIT - 1):
        login(client, "ada", "wrong")

    assert_logged_in(login(client, "ada", PASSWORD), path)
    assert not AccessAttempt.objects.exists()  # a success resets the count


@pytest.mark.parametrize("path", LOGINS)
def test_an_unknown_username_gets_the_same_answers(client, user, path):
    login = LOGINS[path]
    known = [login(client, "ada", "wrong") for _ in range(LIMIT + 1)]
    cache.clear()  # not the API's 10-a-minute throttle: the same start for both
    unknown = [login(client, "nobody", "wrong") for _ in range(LIMIT + 1)]

    assert [r.status_code for r in known] == [r.status_code for r in unknown]
    for index in (0, -1):  # a wrong password; locked out
        assert comparable(known[index], "ada") == comparable(unknown[index], "nobody")


def test_the_lockout_is_per_username_and_address(client, user):
    UserFactory(username="grace")
    for _ in range(LIMIT):
        portal_login(client, "ada", "wrong")

    assert_logged_in(portal_login(client, "grace", PASSWORD), "portal")
    assert_logged_in(portal_login(client, "ada", PASSWORD, REMOTE_ADDR="10.0.0.9"), "portal")


def test_the_lockout_applies_across_login_paths(client, user):
    for _ in range(LIMIT):
        portal_login(client, "ada", "wrong")

    assert_locked_out(api_login(client, "ada", PASSWORD), "api")
    assert_locked_out(admin_login(client, "ada", PASSWORD), "admin")


@pytest.mark.parametrize("path", LOGINS)
def test_rotating_x_forwarded_for_does_not_bypass_without_proxies(client, user, path, settings):
    settings.NUM_PROXIES = 0
    login = LOGINS[path]
    for i in range(LIMIT):
        login(client, "ada", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")

    assert_locked_out(login(client, "ada", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7"), path)


def test_rotating_x_forwarded_for_does_not_bypass_the_api_throttle(user, settings):
    settings.NUM_PROXIES = 0
    for i in range(10):
        api_login(None, f"user{i}", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")

    response = api_login(None, "someone", "wrong", HTTP_X_FORWARDED_FOR="198.51.100.7")

    assert response.status_code == 429
    assert response.json()["code"] == "throttled"


@pytest.mark.parametrize("path", LOGINS)
def test_behind_one_proxy_its_reported_address_is_the_client(client, user, path, settings):
    settings.NUM_PROXIES = 1
    login = LOGINS[path]
    for _ in range(LIMIT):
        # The client's own X-Forwarded-For entries come first; the proxy appends what it saw.
        login(client, "ada", "wrong", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.5")

    spoofed = login(client, "ada", PASSWORD, HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.5")
    assert_locked_out(spoofed, path)
    assert_logged_in(login(client, "ada", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.6"), path)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.5"}


def test_behind_one_proxy_the_api_throttle_keys_on_the_reported_address(user, settings):
    settings.NUM_PROXIES = 1
    for i in range(10):
        api_login(None, f"user{i}", "wrong", HTTP_X_FORWARDED_FOR="203.0.113.5")

    throttled = api_login(None, "someone", "wrong", HTTP_X_FORWARDED_FOR="203.0.113.5")
    other_client = api_login(None, "someone", "wrong", HTTP_X_FORWARDED_FOR="203.0.113.6")

    assert throttled.status_code == 429
    assert other_client.status_code == 400


@pytest.mark.parametrize(
    ("num_proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.5", "127.0.0.1"),
        (1, "", "127.0.0.1"),
        (1, "203.0.113.5", "203.0.113.5"),
        (1, "1.2.3.4, 203.0.113.5", "203.0.113.5"),
        (2, "1.2.3.4, 203.0.113.5, 10.0.0.2", "203.0.113.5"),
        (2, "203.0.113.5", "203.0.113.5"),
    ],
)
def test_client_ip(settings, num_proxies, forwarded, expected):
    settings.NUM_PROXIES = num_proxies
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == expected


def test_the_cool_off_time_in_the_message_follows_the_setting(client, user, settings):
    from datetime import timedelta

    settings.AXES_COOLOFF_TIME = timedelta(minutes=1)
    for _ in range(LIMIT):
        response = api_login(client, "ada", "wrong")

    assert response.json()["message"].startswith(
        "Too many failed logins for this username from your address. Try again in 1 minute,"
    )
    assert response["Retry-After"] == "60"
