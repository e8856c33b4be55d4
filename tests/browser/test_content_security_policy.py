"""The main pages run under the Content-Security-Policy without a single violation: no inline
script or event handler, no inline <style>, nothing from another origin (Swagger UI included).
"""

from __future__ import annotations

import copy
import re

import pytest

from core.actors import SYSTEM
from courseware import services
from courseware.models import Membership
from quizzes.demo import demo_quiz_load
from quizzes.services import attempt_start
from tests.factories import PASSWORD, MembershipFactory
from tests.labs.pipeline import make_lab

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Collects every violation the page reports, from before its first script runs.
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture
def deck_image_origins(settings, seed_deck_source):
    """The seed deck shows images from other sites: a deployment names them in
    CSP_IMG_ORIGINS (the one way a third-party origin gets into the policy)."""
    origins = sorted(set(re.findall(r"https://[^/\s)\"']+", seed_deck_source)))
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["img-src"] = [*policy["DIRECTIVES"]["img-src"], *origins]
    settings.CONTENT_SECURITY_POLICY = policy


@pytest.fixture
def site(tmp_path, seed_deck_source, deck_image_origins):
    lab, instructor = make_lab(tmp_path)
    course = lab.session.course
    session = services.session_import_deck(
        actor=SYSTEM, course=course, source=seed_deck_source, filename="session-12-transformers.md"
    ).session
    quiz = demo_quiz_load(course=course, session=session)
    student = MembershipFactory(course=course, role=Membership.Role.STUDENT).user
    attempt = attempt_start(quiz=quiz, actor=student)
    return {
        "course": course,
        "session": session,
        "lab": lab,
        "attempt": attempt,
        "student": student,
        "instructor": instructor,
    }


def _log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")


def _visit_without_violations(page, url: str, problems: list[str]) -> None:
    response = page.goto(url)
    assert response is not None and response.ok, url
    assert "Content-Security-Policy" in response.headers or "content-security-policy" in (
        response.headers
    )
    page.wait_for_load_state("networkidle")
    problems.extend(f"{url}: {v}" for v in page.evaluate("window.__csp"))


def _watch(context, page) -> list[str]:
    problems: list[str] = []
    context.add_init_script(LISTEN)
    # Requests to other hosts are aborted by the test context (net::ERR_FAILED): not ours.
    page.on(
        "console",
        lambda message: (
            problems.append(f"console: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    return problems


def test_student_pages_have_no_csp_violation(context, page, live_server, site):
    problems = _watch(context, page)
    _log_in(page, live_server, site["student"].username)
    base = live_server.url
    code, number = site["course"].code, site["session"].number

    for path in [
        "/",
        f"/courses/{code}/",
        f"/courses/{code}/sessions/{number}/",
        f"/quizzes/attempts/{site['attempt'].pk}/",
        f"/labs/{site['lab'].pk}/",
        "/account/token/",
        "/api/docs/",
    ]:
        _visit_without_violations(page, base + path, problems)

    # Swagger UI really rendered (its settings script is a file, not inline).
    assert page.locator(".swagger-ui .info .title").count() == 1
    assert problems == [], "\n".join(problems)


def test_instructor_pages_have_no_csp_violation(context, page, live_server, site):
    problems = _watch(context, page)
    _log_in(page, live_server, site["instructor"].username)
    base = live_server.url

    for path in [
        f"/labs/{site['lab'].pk}/dashboard/",
        f"/quizzes/{site['attempt'].quiz_id}/",
        f"/quizzes/{site['attempt'].quiz_id}/statistics/",
    ]:
        _visit_without_violations(page, base + path, problems)

    assert problems == [], "\n".join(problems)


def test_the_login_page_has_no_csp_violation(context, page, live_server):
    problems = _watch(context, page)

    _visit_without_violations(page, f"{live_server.url}/accounts/login/", problems)

    assert problems == [], "\n".join(problems)
