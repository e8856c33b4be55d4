"""LTI fixtures: a running test LMS (tests/lti/platform.py) registered in Coursebench."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from lti_tool.models import (
    LtiContext,
    LtiDeployment,
    LtiMembership,
    LtiResourceLink,
    LtiUser,
)

from core.actors import SYSTEM
from courseware.models import Course, Membership
from lti import services
from lti.models import CourseLink, LinkTarget, UsedNonce
from tests.lti.platform import TestLMS


@pytest.fixture
def lms():
    lms = TestLMS.start()
    yield lms
    lms.stop()


@pytest.fixture
def registration(db, lms):
    return services.platform_register(actor=SYSTEM, **lms.registration_values())


@pytest.fixture
def login_url(registration) -> str:
    """The login URL staff paste into Canvas or Moodle (the registration exists)."""
    return "http://127.0.0.1:8000" + reverse("lti-login")


CREATED_BY_A_LAUNCH = (
    get_user_model(),
    Course,
    Membership,
    LtiUser,
    LtiContext,
    LtiMembership,
    LtiResourceLink,
    LtiDeployment,
    CourseLink,
    LinkTarget,
    UsedNonce,
)


def row_counts() -> dict[str, int]:
    """Rows of everything a launch may create, to prove a refused one created nothing."""
    return {model.__name__: model.objects.count() for model in CREATED_BY_A_LAUNCH}
