"""The gradebook in a real browser: a student submits a quiz and "My grades" shows it; the
instructor overrides the cell with a reason, and the student sees the new total."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.actors import SYSTEM
from courseware.models import Membership
from gradebook import services
from gradebook.models import CellHistory, GradeItem
from quizzes.services import question_create, quiz_question_add
from tests.factories import PASSWORD, MembershipFactory
from tests.quizzes.conftest import QuizFactory, single_choice, true_false

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def gradebook_course(course, session12):
    """A two-question quiz (1 mark each), its gradebook item released, the only item out."""
    now = timezone.now()
    quiz = QuizFactory(
        session=session12,
        title="Attention quiz",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=2),
        shuffle_answers=False,
    )
    for content in (single_choice(), true_false()):
        question = question_create(course=course, content=content)
        quiz_question_add(actor=SYSTEM, quiz=quiz, question=question)
    student = MembershipFactory(course=course, role=Membership.Role.STUDENT).user
    instructor = MembershipFactory(course=course, role=Membership.Role.INSTRUCTOR).user
    services.gradebook_ensure_fresh(course=course)
    item = GradeItem.objects.get(course=course, kind="quiz")
    services.grade_item_update(actor=SYSTEM, item=item, released=True)
    return course, quiz, item, student, instructor


def _log_in(page, live_server, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")


def _quiz_row(page):
    return page.locator("#my-grades tr", has_text="Attention quiz")


def test_a_quiz_and_an_override_reach_the_students_grades(page, live_server, gradebook_course):
    course, quiz, item, student, instructor = gradebook_course
    grades_url = f"{live_server.url}/courses/{course.slug}/gradebook/"

    # Before the quiz: the item is there, with no score and no total.
    _log_in(page, live_server, student.username)
    page.goto(grades_url)
    expect(page.get_by_role("heading", name="My grades")).to_be_visible()
    expect(_quiz_row(page)).to_contain_text("\u2013 / 2")  # an en dash: no score
    expect(page.locator("#current-total")).to_have_text("\u2013%")

    # The student takes the quiz: one of two right.
    page.goto(f"{live_server.url}/quizzes/{quiz.pk}/")
    page.get_by_role("button", name="Start attempt").click()
    page.wait_for_url(re.compile(r"/quizzes/attempts/\d+/$"))
    capital = page.locator("section.question", has_text="Capital of Italy?")
    with page.expect_response(lambda r: "/answers/" in r.url):
        capital.get_by_label("Milan").check()
    sky = page.locator("section.question", has_text="The sky is green.")
    with page.expect_response(lambda r: "/answers/" in r.url):
        sky.get_by_label("False", exact=True).check()
    page.get_by_role("button", name="Finish attempt…").click()
    page.wait_for_url(re.compile(r"/summary/$"))
    page.get_by_role("button", name="Submit all and finish").click()
    page.wait_for_url(re.compile(r"/review/$"))

    page.goto(grades_url)
    expect(_quiz_row(page)).to_contain_text("1 / 2")
    expect(_quiz_row(page)).to_contain_text("graded")
    expect(page.locator("#current-total")).to_have_text("50.0%")

    # The instructor opens the cell in the grid and overrides it, giving a reason.
    _log_in(page, live_server, instructor.username)
    page.goto(grades_url)
    name = student.get_full_name() or student.username
    row = page.locator("#gradebook tbody tr", has_text=name)
    current = row.locator("td.total-col").first  # the Current column, next to the name
    expect(current).to_contain_text("50.0%")
    row.locator(f"td a[hx-get$='/cells/{item.pk}/{student.pk}/']").click()
    detail = page.locator(".cell-detail")
    expect(detail).to_contain_text("Attention quiz")
    detail.get_by_label("Override").fill("2")
    detail.get_by_label("Reason (required)").fill("Question 1 was ambiguous")
    detail.get_by_role("button", name="Save").click()
    expect(page.locator(".cell-detail")).to_contain_text("Question 1 was ambiguous")
    expect(page.locator(".cell-detail .cell-history")).to_contain_text("Override: \u2013 \u2192 2")
    page.goto(grades_url)
    expect(current).to_contain_text("100.0%")
    assert CellHistory.objects.filter(
        item=item, student=student, field="override", reason="Question 1 was ambiguous"
    ).exists()

    # The student sees the new score and total.
    _log_in(page, live_server, student.username)
    page.goto(grades_url)
    expect(_quiz_row(page)).to_contain_text("2 / 2")
    expect(page.locator("#current-total")).to_have_text("100.0%")


def test_my_grades_fits_a_phone_with_every_column_readable(page, live_server, gradebook_course):
    course, _quiz, _item, student, _instructor = gradebook_course
    _log_in(page, live_server, student.username)
    page.set_viewport_size({"width": 390, "height": 900})

    page.goto(f"{live_server.url}/courses/{course.slug}/gradebook/")

    row = _quiz_row(page)
    expect(row).to_contain_text("Attention quiz")
    for label in ("Category", "Score", "Status"):
        cell = row.locator(f'td[data-label="{label}"]')
        box = cell.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390 + 0.5, label
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    region = page.locator("#my-grades").locator("xpath=..")
    assert region.evaluate("el => el.scrollWidth <= el.clientWidth + 1")
