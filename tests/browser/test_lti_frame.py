"""Coursebench inside a real LMS's iframe, in a real browser (Debian's Chromium).

The LMS (tests/lti/platform.py, lti1p3platform on a loopback port) serves its own course
page from http://127.0.0.1:<port>; Coursebench is the live server on http://localhost:<port>.
127.0.0.1 and localhost are different *sites*, so for Chromium everything inside the frame is
third-party: the browser keeps and sends the tool's cookies only because they are
`SameSite=None; Secure; Partitioned`. This Chromium (156) blocks *unpartitioned* third-party
cookies even in a normal profile: with `SameSite=None; Secure` alone the state cookie set by
the login is dropped and the launch is refused ("State not found"), which this test caught;
`Partitioned` (CHIPS) keeps them, per top-level site. Plain http is enough on loopback:
Chromium treats http://localhost as a secure context and keeps `Secure` cookies from it (a
deployment is HTTPS, as LTI requires), so the test does not need a certificate.

The flow is the real one: the LMS page's iframe opens the tool's OIDC login initiation → the
tool redirects the frame to the LMS's auth endpoint → the LMS auto-posts the signed id_token
form to the tool's launch URL → the tool logs the student in and opens the linked quiz, all in
the frame. The student then starts an attempt: a POST that needs the session and CSRF cookies
(and the CSRF token) from inside the cross-site frame."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.test import Client
from playwright.sync_api import expect

from core.actors import SYSTEM
from courseware import services
from courseware.models import Membership
from lti.models import CourseLink
from quizzes.demo import DEMO_QUIZ_TITLE, demo_quiz_load
from quizzes.models import Attempt
from tests.lti.conftest import lms, registration  # noqa: F401 (fixtures)
from tests.lti.platform import INSTRUCTOR, LEARNER

pytestmark = [pytest.mark.browser, pytest.mark.lti, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tool(live_server, lms, settings, registration):  # noqa: F811
    """Coursebench at the live server's address, registered with the LMS."""
    settings.SITE_URL = live_server.url
    lms.tool_url = live_server.url
    assert urlsplit(live_server.url).hostname == "localhost"
    assert urlsplit(lms.base_url).hostname == "127.0.0.1"  # another site: cross-site frame
    return live_server.url


@pytest.fixture
def context(browser, tool, lms):  # noqa: F811
    """Like tests/browser's context, but the LMS's origin is reachable too."""
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    context.set_default_timeout(10_000)
    allowed = (tool, lms.base_url)
    context.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith(allowed) else route.abort(),
    )
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def linked_quiz(tool, lms, seed_deck_source):  # noqa: F811
    """An instructor's first launch made the offering; it has a session with a quiz."""
    lms.launch(Client(), login_url=tool + "/lti/login/", user_id="t-1", roles=[INSTRUCTOR])
    course = CourseLink.objects.get().course
    imported = services.session_import_deck(
        actor=SYSTEM, course=course, source=seed_deck_source, filename="session-12-transformers.md"
    )
    return demo_quiz_load(course=course, session=imported.session)


def test_a_student_launched_in_the_lms_frame_starts_a_quiz_attempt(page, tool, lms, linked_quiz):  # noqa: F811
    page.goto(
        lms.course_page_url(
            "quiz-link",
            login_url=tool + "/lti/login/",
            user_id="s-1",
            roles=[LEARNER],
            name="Sam Student",
            custom={"resource": f"quiz:{linked_quiz.pk}"},
        )
    )
    expect(page.get_by_role("heading", name="Machine learning (LMS)")).to_be_visible()
    frame = page.frame_locator("iframe[name=tool]")
    expect(frame.locator(".quiz-rules")).to_contain_text("0 used of 2")
    expect(frame.get_by_text(DEMO_QUIZ_TITLE).first).to_be_visible()
    # The top page is still the LMS's: the launch happened inside the frame.
    assert page.url.startswith(lms.base_url)
    tool_frame = page.frame(name="tool")
    assert tool_frame.url == f"{tool}/quizzes/{linked_quiz.pk}/"

    cookies = {c["name"]: c for c in page.context.cookies(tool)}
    for name in ("sessionid", "csrftoken"):
        assert (cookies[name]["sameSite"], cookies[name]["secure"]) == ("None", True), name

    frame.get_by_role("button", name="Start attempt").click()
    expect(frame.locator("[data-countdown]")).to_be_visible()
    assert re.search(r"/quizzes/attempts/\d+/$", tool_frame.url)
    attempt = Attempt.objects.get(quiz=linked_quiz)
    assert attempt.user.lti_users.get().sub == "s-1"
    assert Membership.objects.get(user=attempt.user).role == Membership.Role.STUDENT


def test_a_page_outside_an_lti_launch_refuses_to_be_framed(page, tool, lms):  # noqa: F811
    with page.expect_response(lambda r: r.url == f"{tool}/accounts/login/") as framed:
        page.goto(f"{lms.base_url}/frame?src={tool}/accounts/login/")
    headers = framed.value.headers
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    # Chromium blocked it: the frame shows its error page, not Coursebench's login form.
    expect(page.locator("iframe[name=tool]")).to_be_attached()
    page.wait_for_timeout(300)
    (frame,) = page.main_frame.child_frames
    assert frame.url == "chrome-error://chromewebdata/"
    assert frame.locator("input[name=password]").count() == 0
