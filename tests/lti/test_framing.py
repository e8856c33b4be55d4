"""Inside the LMS's iframe: cross-site cookies and frame-ancestors for LTI routes and
LTI-launched sessions only; every other page keeps DENY, 'none' and SameSite=Lax."""

from __future__ import annotations

import pytest
from django.test import Client

from core.actors import SYSTEM
from courseware.models import Membership
from lti import services
from lti.models import CourseLink
from tests.factories import UserFactory
from tests.lti.platform import INSTRUCTOR, TestLMS

pytestmark = [pytest.mark.lti, pytest.mark.django_db]


def _frame_ancestors(response) -> str:
    policy = response["Content-Security-Policy"]
    return next(p.strip() for p in policy.split(";") if p.strip().startswith("frame-ancestors"))


def _cross_site(morsel) -> bool:
    """The Set-Cookie line a browser keeps in a cross-site frame: SameSite=None, Secure and
    Partitioned (CHIPS)."""
    attributes = {a.strip().lower() for a in morsel.OutputString().split(";")}
    return {"samesite=none", "secure", "partitioned"} <= attributes


def test_the_launch_sets_cross_site_cookies_and_allows_only_the_platform_to_frame(lms, login_url):
    client = Client()
    login = lms.login(client, login_url=login_url, user_id="t-1")
    # PyLTI1p3's state cookie must come back from inside the frame.
    state_cookie = next(m for name, m in login.cookies.items() if name.startswith("lti1p3-"))
    assert _cross_site(state_cookie)

    response = lms.launch(client, login_url=login_url, user_id="t-1", roles=[INSTRUCTOR])
    session = response.cookies["sessionid"]
    assert _cross_site(session)
    assert _cross_site(response.cookies["csrftoken"])
    assert _frame_ancestors(response) == f"frame-ancestors {lms.base_url}"
    assert "X-Frame-Options" not in response

    # The course page, opened in the frame by that session: framed by that platform only.
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert _frame_ancestors(page) == f"frame-ancestors {lms.base_url}"
    assert "X-Frame-Options" not in page


def test_a_page_outside_an_lti_session_cannot_be_framed(lms, login_url):
    lms.launch(Client(), login_url=login_url, user_id="t-1", roles=[INSTRUCTOR])
    course = CourseLink.objects.get().course
    # A member who logged in with a password, not through the LMS.
    user = UserFactory()
    Membership.objects.create(course=course, user=user, role=Membership.Role.STUDENT)
    client = Client()
    client.force_login(user)
    page = client.get(f"/courses/{course.slug}/")
    assert page.status_code == 200
    assert _frame_ancestors(page) == "frame-ancestors 'none'"
    assert page["X-Frame-Options"] == "DENY"


def test_lti_routes_before_a_launch_allow_every_registered_platform_and_no_other(lms, login_url):
    other = TestLMS.start()
    try:
        services.platform_register(
            actor=SYSTEM, **{**other.registration_values(), "client_id": "second"}
        )
        response = Client().get("/lti/jwks/")
        assert _frame_ancestors(response) == f"frame-ancestors {lms.base_url} {other.base_url}"
    finally:
        other.stop()


def test_staff_pages_are_never_framed(registration):
    client = Client()
    client.force_login(UserFactory(is_staff=True))
    response = client.get("/staff/lti/platforms/")
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert _frame_ancestors(response) == "frame-ancestors 'none'"
