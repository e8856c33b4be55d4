import re
from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import mail
from django.core.cache import cache

from tests.factories import UserFactory

LINK = re.compile(r"https?://\S+")


@pytest.fixture(autouse=True)
def _fresh_throttles(settings):
    settings.SITE_URL = "https://coursebench.example.edu"
    cache.clear()  # the throttles count in the cache, which tests do not roll back
    yield
    cache.clear()


@pytest.fixture
def ada(db):
    return UserFactory(username="ada", email="ada@example.edu")


@pytest.fixture
def grace(db):
    return UserFactory(username="grace", email="grace@example.edu")


@pytest.fixture
def staff(db):
    return UserFactory(username="staff", email="staff@example.edu", is_staff=True)


def links_in(message) -> list[str]:
    return LINK.findall(message.body)


def last_link(prefix: str = "") -> str:
    """The first link in the newest email whose path starts with `prefix`, as a site path."""
    for link in links_in(mail.outbox[-1]):
        path = link.removeprefix("https://coursebench.example.edu")
        if path.startswith(prefix):
            return path
    raise AssertionError(f"no {prefix} link in {mail.outbox[-1].body!r}")


def days_ago(days: int):
    """Make one-time tokens as if it were `days` ago."""
    then = datetime.now() - timedelta(days=days)
    return mock.patch.object(PasswordResetTokenGenerator, "_now", return_value=then)
