"""A student takes the demo quiz in a real browser: starts it, answers with autosave,
submits after the summary page, and sees the score the review options allow."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.actors import SYSTEM
from courseware import services
from courseware.models import Membership
from quizzes.demo import DEMO_QUIZ_TITLE, demo_quiz_load
from quizzes.models import Attempt
from quizzes.review import EVERYTHING, WINDOWS
from tests.factories import PASSWORD, CourseFactory, MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seeded(seed_deck_source):
    course = CourseFactory(code="ICTSS00120", title="Artificial Intelligence Skill Set")
    result = services.session_import_deck(
        actor=SYSTEM, course=course, source=seed_deck_source, filename="session-12-transformers.md"
    )
    quiz = demo_quiz_load(course=course, session=result.session)
    student = MembershipFactory(course=course, role=Membership.Role.STUDENT).user
    return course, quiz, student


def _log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")


def _question(page, text: str):
    return page.locator("section.question", has_text=text)


def _answer_and_wait_for_save(section, answer) -> None:
    """Answer one question, then wait for its autosave to say "Saved"."""
    with section.page.expect_response(lambda r: "/answers/" in r.url) as saved:
        answer()
    assert saved.value.status == 200
    expect(section.locator(".save-status")).to_contain_text("Saved")


def test_student_takes_the_demo_quiz(page, live_server, seeded):
    course, quiz, student = seeded
    _log_in(page, live_server, student.username)

    # From the session page to the quiz, whose rules are shown before starting.
    page.goto(f"{live_server.url}/courses/{course.code}/sessions/12/")
    page.get_by_role("link", name=DEMO_QUIZ_TITLE).click()
    expect(page.locator(".quiz-rules")).to_contain_text("20 minutes")
    expect(page.locator(".quiz-rules")).to_contain_text("0 used of 2")
    expect(page.locator(".quiz-rules")).to_contain_text("Highest grade")
    page.get_by_role("button", name="Start attempt").click()
    page.wait_for_url(re.compile(r"/quizzes/attempts/\d+/$"))

    # The countdown runs from the server's remaining time.
    timer = page.locator("[data-countdown]")
    expect(timer).to_have_text(re.compile(r"^(20:00|19:[0-5]\d)$"))
    first = timer.inner_text()
    page.wait_for_timeout(1200)
    assert timer.inner_text() != first

    single = _question(page, "Which statement best describes a Transformer?")
    _answer_and_wait_for_save(
        single,
        lambda: single.get_by_label(
            "A deep learning model for sequential data built around an attention mechanism"
        ).check(),
    )
    true_false = _question(page, "Self-attention lets a model weigh")
    _answer_and_wait_for_save(
        true_false, lambda: true_false.get_by_label("True", exact=True).check()
    )
    short = _question(page, "Complete the code that loads a pre-trained sentiment classifier")
    _answer_and_wait_for_save(short, lambda: short.get_by_label("Answer").fill("pipeline"))
    number = _question(page, "How many dimensions does the concatenated output have?")
    _answer_and_wait_for_save(number, lambda: number.get_by_label("Answer (a number)").fill("512"))

    # The autosaved answers survive a reload.
    page.reload()
    assert _question(page, "Complete the code").get_by_label("Answer").input_value() == "pipeline"

    # Finish: the summary lists what is unanswered, then the student submits.
    page.get_by_role("button", name="Finish attempt…").click()
    page.wait_for_url(re.compile(r"/summary/$"))
    expect(page.locator("#unanswered")).to_contain_text("8 of 12 questions unanswered")
    page.get_by_role("button", name="Submit all and finish").click()
    page.wait_for_url(re.compile(r"/review/$"))

    attempt = Attempt.objects.get(quiz=quiz, user=student)
    assert attempt.state == Attempt.State.FINISHED
    assert not attempt.auto_submitted
    assert attempt.score == 4.0
    assert attempt.max_score == 13.0
    # The demo quiz shows marks right after submitting: the same score as the database.
    expect(page.locator("#attempt-score")).to_contain_text(
        f"{attempt.score:g} / {attempt.max_score:g}"
    )
    expect(page.locator("#attempt-score")).to_contain_text("(30.8%)")
    expect(page.get_by_text("Not passed")).to_be_visible()
    expect(page.get_by_text("Your attempt has been submitted.")).to_be_visible()
    # Right answers are kept back until the quiz closes.
    expect(page.get_by_text("The right answer is")).to_have_count(0)


def test_time_running_out_submits_the_page(page, live_server, seeded):
    _course, quiz, student = seeded
    _log_in(page, live_server, student.username)
    page.goto(f"{live_server.url}/quizzes/{quiz.pk}/")
    page.get_by_role("button", name="Start attempt").click()
    page.wait_for_url(re.compile(r"/quizzes/attempts/\d+/$"))
    attempt = Attempt.objects.get(quiz=quiz, user=student)

    # The deadline comes 4 seconds from now; the answer typed meanwhile goes with the page.
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() + timedelta(seconds=4))
    page.reload()
    _question(page, "How many dimensions").get_by_label("Answer (a number)").fill("512")
    page.wait_for_url(re.compile(r"/review/$"), timeout=15_000)

    attempt.refresh_from_db()
    assert attempt.state == Attempt.State.FINISHED
    assert attempt.score == 1.0  # the typed number was saved before time ran out
    expect(page.locator("#attempt-score")).to_contain_text("1 / 13")


def test_a_page_opened_within_the_network_grace_submits_at_once(page, live_server, seeded):
    _course, quiz, student = seeded
    _log_in(page, live_server, student.username)
    page.goto(f"{live_server.url}/quizzes/{quiz.pk}/")
    page.get_by_role("button", name="Start attempt").click()
    page.wait_for_url(re.compile(r"/quizzes/attempts/\d+/$"))
    attempt = Attempt.objects.get(quiz=quiz, user=student)
    field = _question(page, "How many dimensions").get_by_label("Answer (a number)")
    field.fill("512")
    expect(page.locator(".save-status .saved")).to_be_visible()

    # Time ran out 3 s ago, within the grace: the attempt is still open on the server, but the
    # page only shows time is up and submits what was saved, without new answers.
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(seconds=3))
    page.reload()
    page.wait_for_url(re.compile(r"/review/$"), timeout=15_000)

    attempt.refresh_from_db()
    assert (attempt.state, attempt.auto_submitted) == (Attempt.State.FINISHED, True)
    assert attempt.score == 1.0  # the answer saved in time still counts


def _finished_attempt(quiz, student) -> Attempt:
    from quizzes import services as quiz_services

    attempt = quiz_services.attempt_start(quiz=quiz, actor=student)
    return quiz_services.attempt_submit(attempt=attempt, actor=student, responses={})


def test_the_review_fits_a_phone_and_the_quiz_page_shows_every_question(
    page, live_server, seeded, tmp_path
):
    course, quiz, student = seeded
    instructor = MembershipFactory(course=course, role=Membership.Role.INSTRUCTOR).user
    attempt = _finished_attempt(quiz, student)
    _log_in(page, live_server, student.username)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}/quizzes/attempts/{attempt.pk}/review/")
        page.screenshot(path=str(tmp_path / f"review-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), width

    page.context.clear_cookies()
    _log_in(page, live_server, instructor.username)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/quizzes/{quiz.pk}/")
    box = page.locator("section[aria-labelledby='questions-heading'] .table-scroll")
    page.screenshot(path=str(tmp_path / "quiz-detail-1280.png"), full_page=True)
    # The whole list is on the page: the box does not clip it into its own scroll area.
    assert box.evaluate("el => el.scrollHeight <= el.clientHeight")


# What ML-course questions contain: code calls, class names and documentation paths with no
# place to break a line, and matching prompts a sentence long.
LONG_TEXT_GIFT = Path(__file__).with_name("long_text_quiz.gift")


@pytest.fixture
def long_text_quiz(seeded):
    from quizzes import services as quiz_services

    course, demo_quiz, student = seeded
    bank = quiz_services.question_bank_import(
        actor=SYSTEM,
        course=course,
        source=LONG_TEXT_GIFT.read_text(encoding="utf-8"),
        session=demo_quiz.session,
    )
    quiz = quiz_services.quiz_create(
        actor=SYSTEM,
        session=demo_quiz.session,
        title="Loading Hugging Face models",
        opens_at=timezone.now() - timedelta(minutes=1),
        closes_at=timezone.now() + timedelta(days=1),
        shuffle_answers=False,
        # Feedback and right answers in every window: the longest pages there are.
        review_options={window: dict(EVERYTHING) for window in WINDOWS},
    )
    for question in bank.questions:
        quiz_services.quiz_question_add(actor=SYSTEM, quiz=quiz, question=question)
    return course, quiz, student


def _fits_the_window(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _table_fits_its_box(page, selector: str) -> bool:
    return page.locator(selector).evaluate("el => el.scrollWidth <= el.clientWidth")


def test_every_quiz_page_fits_a_phone(page, live_server, long_text_quiz, tmp_path):
    from quizzes import services as quiz_services

    course, quiz, student = long_text_quiz
    instructor = MembershipFactory(course=course, role=Membership.Role.INSTRUCTOR).user
    _log_in(page, live_server, student.username)
    page.set_viewport_size({"width": 390, "height": 844})

    def check(name: str) -> None:
        page.screenshot(path=str(tmp_path / f"{name}-390.png"), full_page=True)
        assert _fits_the_window(page), name

    page.goto(f"{live_server.url}/quizzes/{quiz.pk}/")
    check("quiz")
    page.get_by_role("button", name="Start attempt").click()
    page.wait_for_url(re.compile(r"/quizzes/attempts/\d+/$"))
    attempt = Attempt.objects.get(quiz=quiz, user=student)
    for slot, response in {
        1: {"choice": 0},
        2: {"matches": {"0": 0, "1": 1}},
        3: {"text": "AutoModelForSequenceClassification.from_pretrained"},
    }.items():
        quiz_services.attempt_answer_save(
            attempt=attempt, actor=student, slot=slot, response=response
        )
    page.reload()
    check("attempt")
    page.get_by_role("button", name="Finish attempt…").click()
    page.wait_for_url(re.compile(r"/summary/$"))
    check("summary")
    page.get_by_role("button", name="Submit all and finish").click()
    page.wait_for_url(re.compile(r"/review/$"))
    expect(page.get_by_text("The right answer is").first).to_be_visible()
    check("review")
    page.goto(f"{live_server.url}/quizzes/{quiz.pk}/")
    check("quiz-with-attempts")
    assert _table_fits_its_box(page, "section[aria-labelledby='attempts-heading'] .table-scroll")
    page.goto(f"{live_server.url}/courses/{course.code}/quizzes/")
    check("quiz-list")
    assert _table_fits_its_box(page, "section[aria-labelledby='history-heading'] .table-scroll")

    page.context.clear_cookies()
    _log_in(page, live_server, instructor.username)
    page.goto(f"{live_server.url}/quizzes/attempts/{attempt.pk}/review/")
    check("review-instructor")
    page.goto(f"{live_server.url}/quizzes/{quiz.pk}/")
    check("quiz-detail")
    # The questions table fits: no column hidden behind a sideways scroll, nothing clipped.
    questions = "section[aria-labelledby='questions-heading'] .table-scroll"
    assert _table_fits_its_box(page, questions)
    assert page.locator(questions).evaluate("el => el.scrollHeight <= el.clientHeight")
    # The type column gives way to a line under each question's name: still shown.
    matching = page.locator(questions).get_by_text("Matching", exact=True).filter(visible=True)
    expect(matching).to_have_count(1)
    # Results and item analysis are spreadsheets: they scroll inside their card, not the page.
    for name in ("results", "statistics"):
        page.goto(f"{live_server.url}/quizzes/{quiz.pk}/{name}/")
        check(name)
