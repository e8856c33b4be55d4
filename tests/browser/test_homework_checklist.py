"""A student ticks homework in a real browser; the tick survives a reload."""

from __future__ import annotations

import pytest

from core.actors import SYSTEM
from courseware import services
from courseware.models import HomeworkCompletion, Membership
from tests.factories import PASSWORD, CourseFactory, MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seeded(seed_deck_source):
    course = CourseFactory(code="ICTSS00120", title="Artificial Intelligence Skill Set")
    services.session_import_deck(
        actor=SYSTEM, course=course, source=seed_deck_source, filename="session-12-transformers.md"
    )
    student = MembershipFactory(course=course, role=Membership.Role.STUDENT).user
    return course, student


def _log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url  # anonymous visitors are sent to the login form
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")


def test_ticked_homework_survives_reload(page, live_server, seeded):
    course, student = seeded
    _log_in(page, live_server, student.username)

    page.get_by_role("link", name="Artificial Intelligence Skill Set").click()
    page.get_by_role("link", name="Introduction to Transformers and Hugging Face").click()
    page.wait_for_url(f"{live_server.url}/courses/ICTSS00120/sessions/12/")
    assert page.evaluate("typeof window.htmx") == "object"  # htmx served locally, not a CDN

    task = course.sessions.get(number=12).homework.get(position=2)
    checkbox = page.locator(f"#task-{task.pk}-done")
    assert not checkbox.is_checked()

    with page.expect_response(lambda r: r.url.endswith(f"/homework/{task.pk}/completion/")) as info:
        checkbox.check()
    assert info.value.status == 200
    page.wait_for_selector(f"#task-{task.pk}.is-done")
    page.wait_for_function("!document.querySelector('.htmx-request')")

    page.reload()
    assert page.locator(f"#task-{task.pk}-done").is_checked()
    first = course.sessions.get(number=12).homework.get(position=1)
    assert not page.locator(f"#task-{first.pk}-done").is_checked()
    assert HomeworkCompletion.objects.filter(task=task, student=student).exists()
    assert HomeworkCompletion.objects.filter(student=student).count() == 1


def test_failed_save_shows_error_and_unticks(page, live_server, seeded):
    course, student = seeded
    _log_in(page, live_server, student.username)
    page.goto(f"{live_server.url}/courses/ICTSS00120/sessions/12/")
    task = course.sessions.get(number=12).homework.get(position=1)

    Membership.objects.filter(course=course, user=student).delete()  # dropped from the course
    with page.expect_response(lambda r: r.url.endswith(f"/homework/{task.pk}/completion/")) as info:
        page.locator(f"#task-{task.pk}-done").check()
    assert info.value.status == 404

    error = page.locator("#htmx-errors .alert-error")
    error.wait_for()
    assert f"No homework task {task.pk}" in error.inner_text()
    page.wait_for_function(f"!document.getElementById('task-{task.pk}-done').checked")
    assert page.locator(f"#task-{task.pk}").count() == 1  # the task itself was not replaced
    assert not HomeworkCompletion.objects.exists()


def test_expired_session_sends_the_student_to_login(page, context, live_server, seeded):
    course, student = seeded
    _log_in(page, live_server, student.username)
    session_url = f"{live_server.url}/courses/ICTSS00120/sessions/12/"
    page.goto(session_url)
    task = course.sessions.get(number=12).homework.get(position=1)

    context.clear_cookies(name="sessionid")  # the session ends while the page is open
    page.locator(f"#task-{task.pk}-done").click()

    page.wait_for_url(f"{live_server.url}/accounts/login/?next=/courses/ICTSS00120/sessions/12/")
    assert page.get_by_role("button", name="Log in").is_visible()
    assert not HomeworkCompletion.objects.exists()
