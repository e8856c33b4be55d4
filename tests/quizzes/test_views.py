"""Quiz portal pages: the role matrix for every URL, taking a quiz (answer inputs per type,
countdown, HTMX autosave, summary, submit, review), score history, and the instructor pages
(GIFT import with preview, results and CSV, statistics, essay marking, regrading)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.actors import SYSTEM
from courseware.models import Membership
from quizzes import selectors, services
from quizzes.models import Attempt, Question, Quiz
from tests.factories import MembershipFactory
from tests.quizzes.conftest import CONTENT, description, essay, single_choice, true_false

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
ROLES = ["anonymous", "other_student", "student", "teaching_assistant", "instructor"]

GIFT_OK = """// two questions
::Capital::Capital of Italy?{=Rome ~Milan ~Turin}

::Sky::The sky is green.{F}

::Pi::Pi to two decimals?{#3.14:0.01}
"""
GIFT_BAD = """::Fine::A fine question.{T}

::Broken::This one is broken.{=yes ~no

::Also broken::Weights that do not add up.{~%30%a ~%30%b ~c}
"""


@pytest.fixture
def new_quiz(make_quiz):
    def make(*contents, **fields):
        now = timezone.now()
        fields.setdefault("opens_at", now - timedelta(hours=1))
        fields.setdefault("closes_at", now + timedelta(days=1))
        return make_quiz(*contents, **fields)

    return make


@pytest.fixture
def open_quiz(new_quiz):
    return new_quiz(single_choice(), true_false(), essay(), marks=[1, 1, 2], pass_percentage=50)


def _display_id(attempt: Attempt, slot: int, text: str) -> int:
    question = attempt.questions.get(position=slot)
    answers = question.version.content["answers"]
    return next(k for k, i in enumerate(question.order["choices"]) if answers[i]["text"] == text)


@pytest.fixture
def finished(open_quiz, student):
    attempt = services.attempt_start(quiz=open_quiz, actor=student)
    return services.attempt_submit(
        attempt=attempt,
        actor=student,
        responses={
            1: {"choice": _display_id(attempt, 1, "Rome")},
            2: {"value": True},
            3: {"text": "Because attention."},
        },
    )


@pytest.fixture
def in_progress(open_quiz, student, finished):
    return services.attempt_start(quiz=open_quiz, actor=student)


def _client_for(request, who: str) -> Client:
    client = Client()
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    return client


def _gift_upload(text: str, name: str = "questions.gift") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/plain")


# --- Role matrix ---------------------------------------------------------------------------

CASES = {
    # name: (method, url builder, data builder, expected codes per ROLES)
    "quiz-list": (
        "get",
        lambda c: reverse("quiz-list", args=[c["code"]]),
        None,
        [302, 404, 200, 200, 200],
    ),
    "quiz-import-get": (
        "get",
        lambda c: reverse("quiz-import", args=[c["code"]]),
        None,
        [302, 404, 403, 403, 200],
    ),
    "quiz-import-post": (
        "post",
        lambda c: reverse("quiz-import", args=[c["code"]]),
        lambda c: {"source_text": "", "format": "gift", "attempts_allowed": "1"},
        [302, 404, 403, 403, 400],
    ),
    "quiz-detail": (
        "get",
        lambda c: reverse("quiz-detail", args=[c["quiz"].pk]),
        None,
        [302, 404, 200, 200, 200],
    ),
    "quiz-start": (
        "post",
        lambda c: reverse("quiz-start", args=[c["quiz"].pk]),
        None,
        [302, 404, 302, 403, 403],
    ),
    "quiz-attempt": (
        "get",
        lambda c: reverse("quiz-attempt", args=[c["in_progress"].pk]),
        None,
        [302, 404, 200, 302, 302],  # instructors are sent to the review
    ),
    "quiz-answer-save": (
        "post",
        lambda c: reverse("quiz-answer-save", args=[c["in_progress"].pk, 2]),
        lambda c: {"q2-value": "false"},
        [302, 404, 302, 403, 403],
    ),
    "quiz-attempt-summary": (
        "get",
        lambda c: reverse("quiz-attempt-summary", args=[c["in_progress"].pk]),
        None,
        [302, 404, 200, 302, 302],
    ),
    "quiz-attempt-submit": (
        "post",
        lambda c: reverse("quiz-attempt-submit", args=[c["in_progress"].pk]),
        None,
        [302, 404, 302, 403, 403],
    ),
    "quiz-attempt-review": (
        "get",
        lambda c: reverse("quiz-attempt-review", args=[c["finished"].pk]),
        None,
        [302, 404, 200, 200, 200],
    ),
    "quiz-results": (
        "get",
        lambda c: reverse("quiz-results", args=[c["quiz"].pk]),
        None,
        [302, 404, 403, 200, 200],
    ),
    "quiz-results-csv": (
        "get",
        lambda c: reverse("quiz-results-csv", args=[c["quiz"].pk]),
        None,
        [302, 404, 403, 200, 200],
    ),
    "quiz-statistics": (
        "get",
        lambda c: reverse("quiz-statistics", args=[c["quiz"].pk]),
        None,
        [302, 404, 403, 200, 200],
    ),
    "quiz-essays": (
        "get",
        lambda c: reverse("quiz-essays", args=[c["quiz"].pk]),
        None,
        [302, 404, 403, 200, 200],
    ),
    "quiz-essay-mark": (
        "post",
        lambda c: reverse("quiz-essay-mark", args=[c["finished"].pk, 3]),
        lambda c: {f"essay-{c['finished'].questions.get(position=3).pk}-mark": "1"},
        [302, 404, 403, 302, 302],
    ),
    "quiz-question-regrade": (
        "post",
        lambda c: reverse("quiz-question-regrade", args=[c["quiz"].slots.first().question_id]),
        None,
        [302, 404, 403, 403, 302],
    ),
}


@pytest.mark.parametrize("who_index", range(len(ROLES)), ids=ROLES)
@pytest.mark.parametrize("case", list(CASES))
def test_permission_matrix(request, open_quiz, finished, in_progress, instructor, case, who_index):
    method, url_for, data_for, codes = CASES[case]
    who = ROLES[who_index]
    context = {
        "code": open_quiz.session.course.code,
        "quiz": open_quiz,
        "finished": finished,
        "in_progress": in_progress,
    }
    client = _client_for(request, who)

    data = data_for(context) if data_for else {}
    response = getattr(client, method)(url_for(context), data)

    assert response.status_code == codes[who_index], response.content[:500]
    if who == "anonymous":
        assert response["Location"].startswith(reverse("login"))


def test_expired_session_on_autosave_redirects_htmx_to_login(client, in_progress):
    url = reverse("quiz-answer-save", args=[in_progress.pk, 2])
    response = client.post(url, {"q2-value": "true"}, **HTMX)
    assert response.status_code == 401
    assert response["HX-Redirect"].startswith(reverse("login"))


# --- Student pages -------------------------------------------------------------------------


def test_quiz_page_shows_rules_and_start(client, open_quiz, student):
    client.force_login(student)
    html = client.get(reverse("quiz-detail", args=[open_quiz.pk])).content.decode()

    assert "20 minutes" in html
    assert "0 used of unlimited" in html
    assert "Highest grade" in html
    assert "50%" in html
    assert "3 (4 marks)" in html
    assert "Start attempt" in html
    assert reverse("quiz-start", args=[open_quiz.pk]) in html
    assert reverse("quiz-results", args=[open_quiz.pk]) not in html


def test_quiz_page_offers_continue_and_lists_attempts(client, open_quiz, student, in_progress):
    client.force_login(student)
    html = client.get(reverse("quiz-detail", args=[open_quiz.pk])).content.decode()

    assert "Continue attempt" in html
    assert 'id="my-attempts"' in html
    assert reverse("quiz-attempt-review", args=[in_progress.pk - 1]) in html
    assert "Not yet graded" in html  # the first attempt's essay waits for a mark


def test_no_attempts_left_explains_why(client, new_quiz, student):
    quiz = new_quiz(single_choice(), attempts_allowed=1)
    attempt = services.attempt_start(quiz=quiz, actor=student)
    services.attempt_submit(attempt=attempt, actor=student)
    client.force_login(student)

    html = client.get(reverse("quiz-detail", args=[quiz.pk])).content.decode()
    response = client.post(reverse("quiz-start", args=[quiz.pk]), follow=True)

    assert "No attempts left." in html
    assert "Start attempt" not in html
    assert "You have used all 1 attempts" in response.content.decode()


def test_start_creates_one_attempt_and_opens_it(client, open_quiz, student):
    client.force_login(student)
    first = client.post(reverse("quiz-start", args=[open_quiz.pk]))
    again = client.post(reverse("quiz-start", args=[open_quiz.pk]))

    attempt = Attempt.objects.get(quiz=open_quiz, user=student)
    assert first["Location"] == again["Location"] == reverse("quiz-attempt", args=[attempt.pk])


def test_attempt_page_renders_every_type_without_answers(client, new_quiz, student):
    contents = [CONTENT[t](general_feedback="Secret general") for t in CONTENT]
    quiz = new_quiz(*contents)
    attempt = services.attempt_start(quiz=quiz, actor=student)
    client.force_login(student)

    response = client.get(reverse("quiz-attempt", args=[attempt.pk]))
    html = response.content.decode()

    assert response.status_code == 200
    slots = {q.question.qtype: q.position for q in attempt.questions.select_related("question")}
    assert f'type="radio" name="q{slots["single_choice"]}-choice"' in html
    assert f'type="checkbox" name="q{slots["multiple_choice"]}-choices"' in html
    assert f'name="q{slots["true_false"]}-value" id="q{slots["true_false"]}-true"' in html
    assert f'name="q{slots["short_answer"]}-text"' in html
    assert f'name="q{slots["numerical"]}-value"' in html and 'inputmode="decimal"' in html
    assert html.count(f'<select name="q{slots["matching"]}-match-') == 3
    assert f'<textarea name="q{slots["essay"]}-text"' in html
    assert "Read carefully." in html  # the description
    assert html.count('hx-trigger="input delay:600ms"') == 7
    assert 'data-seconds-left="' in html
    seconds = int(re.search(r'data-seconds-left="(\d+)"', html).group(1))
    assert 19 * 60 < seconds <= 20 * 60
    for secret in ("Secret general", "Yes.", "No, Rome.", "Right, it is blue.", "Way off."):
        assert secret not in html


def test_attempt_without_time_limit_has_no_countdown(client, new_quiz, student):
    quiz = new_quiz(single_choice(), time_limit=None, closes_at=None)
    attempt = services.attempt_start(quiz=quiz, actor=student)
    client.force_login(student)
    html = client.get(reverse("quiz-attempt", args=[attempt.pk])).content.decode()
    assert "data-seconds-left" not in html


def test_autosave_fragment(client, open_quiz, student, in_progress):
    client.force_login(student)
    url = reverse("quiz-answer-save", args=[in_progress.pk, 1])
    choice = _display_id(in_progress, 1, "Rome")

    saved = client.post(url, {"q1-choice": str(choice)}, **HTMX)
    cleared = client.post(url, {}, **HTMX)
    bad = client.post(url, {"q1-choice": "42"}, **HTMX)

    assert saved.status_code == 200
    assert "Saved" in saved.content.decode() and "<html" not in saved.content.decode()
    assert "answer cleared" in cleared.content.decode()
    assert bad.status_code == 200 and "Not saved" in bad.content.decode()
    client.post(url, {"q1-choice": str(choice)}, **HTMX)
    assert in_progress.questions.get(position=1).response is not None


def test_autosave_reads_only_its_own_question(client, open_quiz, student, in_progress):
    client.force_login(student)
    url = reverse("quiz-answer-save", args=[in_progress.pk, 2])
    client.post(url, {"q2-value": "false", "q3-text": "Not this one"}, **HTMX)

    assert in_progress.questions.get(position=2).response == {"value": False}
    assert in_progress.questions.get(position=3).response is None


def test_autosave_after_deadline_and_grace_sends_htmx_to_the_review(
    client, open_quiz, student, in_progress, settings
):
    settings.QUIZ_NETWORK_GRACE_S = 15
    Attempt.objects.filter(pk=in_progress.pk).update(
        deadline=timezone.now() - timedelta(seconds=16)
    )
    client.force_login(student)

    response = client.post(
        reverse("quiz-answer-save", args=[in_progress.pk, 2]), {"q2-value": "false"}, **HTMX
    )

    assert response["HX-Redirect"] == reverse("quiz-attempt-review", args=[in_progress.pk])
    in_progress.refresh_from_db()
    assert in_progress.state == Attempt.State.FINISHED and in_progress.auto_submitted
    assert in_progress.questions.get(position=2).response is None
    review = client.get(response["HX-Redirect"]).content.decode()
    assert "Time is up" in review


def test_autosave_sent_in_time_is_saved_within_the_grace(
    client, open_quiz, student, in_progress, settings
):
    settings.QUIZ_NETWORK_GRACE_S = 15
    Attempt.objects.filter(pk=in_progress.pk).update(deadline=timezone.now() - timedelta(seconds=5))
    client.force_login(student)

    response = client.post(
        reverse("quiz-answer-save", args=[in_progress.pk, 2]), {"q2-value": "false"}, **HTMX
    )

    assert "HX-Redirect" not in response
    assert "Saved" in response.content.decode()
    assert in_progress.questions.get(position=2).response == {"value": False}


def test_within_the_grace_the_attempt_page_says_time_is_up_and_only_submits(
    client, open_quiz, student, in_progress, settings
):
    settings.QUIZ_NETWORK_GRACE_S = 15
    Attempt.objects.filter(pk=in_progress.pk).update(deadline=timezone.now() - timedelta(seconds=5))
    in_progress.questions.filter(position=2).update(response={"value": False})
    client.force_login(student)

    page = client.get(reverse("quiz-attempt", args=[in_progress.pk])).content.decode()
    submitted = client.post(reverse("quiz-attempt-submit", args=[in_progress.pk]))

    assert "Time is up" in page
    assert 'data-seconds-left="0"' in page  # quiz.js submits at once
    assert 'class="answer" disabled' in page  # no more answering
    assert 'name="answers"' not in page  # the read-only fields must not clear saved answers
    assert f'action="{reverse("quiz-attempt-submit", args=[in_progress.pk])}"' in page
    assert submitted["Location"] == reverse("quiz-attempt-review", args=[in_progress.pk])
    in_progress.refresh_from_db()
    assert in_progress.state == Attempt.State.FINISHED and in_progress.auto_submitted
    assert in_progress.questions.get(position=2).response == {"value": False}


def test_finish_saves_everything_and_lists_unanswered(client, open_quiz, student, in_progress):
    client.force_login(student)
    choice = _display_id(in_progress, 1, "Rome")

    response = client.post(
        reverse("quiz-attempt-summary", args=[in_progress.pk]),
        {"answers": "1", "q1-choice": str(choice), "q3-text": "Long range links."},
    )
    html = client.get(response["Location"]).content.decode()

    assert response["Location"] == reverse("quiz-attempt-summary", args=[in_progress.pk])
    assert in_progress.questions.get(position=3).response == {"text": "Long range links."}
    assert "1 of 3 questions unanswered" in html
    assert f'href="{reverse("quiz-attempt", args=[in_progress.pk])}#q2">Question 2' in html
    assert "Submit all and finish" in html


def test_submit_and_review(client, open_quiz, student, in_progress):
    client.force_login(student)
    services.attempt_answer_save(
        attempt=in_progress,
        actor=student,
        slot=1,
        response={"choice": _display_id(in_progress, 1, "Rome")},
    )
    services.attempt_answer_save(
        attempt=in_progress, actor=student, slot=2, response={"value": False}
    )

    response = client.post(reverse("quiz-attempt-submit", args=[in_progress.pk]), follow=True)
    html = response.content.decode()

    assert response.redirect_chain[-1][0] == reverse("quiz-attempt-review", args=[in_progress.pk])
    assert "Your attempt has been submitted." in html
    assert re.search(r'id="attempt-score"><strong class="score">2 / 4</strong> \(50.0%\)', html)
    assert "Passed" in html
    assert "Mark 1 out of 1" in html
    assert "Yes." in html  # answer feedback: shown right after submitting
    assert "The right answer is" not in html  # right answers only after the quiz closes
    # Submitting again changes nothing.
    again = client.post(reverse("quiz-attempt-submit", args=[in_progress.pk]))
    assert again.status_code == 302
    assert Attempt.objects.get(pk=in_progress.pk).score == 2


def test_auto_submit_form_posts_answers(client, open_quiz, student, in_progress):
    client.force_login(student)
    response = client.post(
        reverse("quiz-attempt-submit", args=[in_progress.pk]),
        {"answers": "1", "q2-value": "false"},
    )
    assert response.status_code == 302
    attempt = Attempt.objects.get(pk=in_progress.pk)
    assert attempt.state == Attempt.State.FINISHED
    assert attempt.score == 1


def test_review_hides_marks_when_the_options_do(client, new_quiz, student):
    hidden = {
        w: {"marks": False, "correctness": False, "feedback": False} for w in ("immediately",)
    }
    quiz = new_quiz(single_choice(), review_options=hidden)
    attempt = services.attempt_start(quiz=quiz, actor=student)
    services.attempt_submit(
        attempt=attempt, actor=student, responses={1: {"choice": _display_id(attempt, 1, "Rome")}}
    )
    client.force_login(student)

    html = client.get(reverse("quiz-attempt-review", args=[attempt.pk])).content.decode()
    listing = client.get(reverse("quiz-list", args=[quiz.session.course.code])).content.decode()

    assert "Marks are not shown yet" in html
    assert "Mark 1 out of 1" not in html and "1 / 1" not in html
    assert "Yes." not in html
    assert "Correct" not in html
    assert "Rome" in html  # their own response
    assert "Not available yet" in listing


def test_review_after_close_shows_right_answers(client, open_quiz, student, finished):
    past = timezone.now() - timedelta(minutes=10)
    Attempt.objects.filter(pk=finished.pk).update(submitted_at=past - timedelta(minutes=5))
    Quiz.objects.filter(pk=open_quiz.pk).update(closes_at=past)
    client.force_login(student)

    html = client.get(reverse("quiz-attempt-review", args=[finished.pk])).content.decode()

    assert "The right answer is:</strong> Rome" in html


def test_other_students_attempts_are_404(client, course, finished, in_progress):
    classmate = MembershipFactory(course=course, role=Membership.Role.STUDENT).user
    client.force_login(classmate)

    assert client.get(reverse("quiz-attempt", args=[in_progress.pk])).status_code == 404
    assert client.get(reverse("quiz-attempt-review", args=[finished.pk])).status_code == 404
    assert client.get(reverse("quiz-attempt-summary", args=[in_progress.pk])).status_code == 404
    saved = client.post(reverse("quiz-answer-save", args=[in_progress.pk, 1]), {}, **HTMX)
    assert saved.status_code == 404
    assert saved["HX-Retarget"] == "#htmx-errors"


def test_quiz_list_and_score_history(client, open_quiz, student, finished, instructor):
    services.essay_mark(
        attempt_question=finished.questions.get(position=3), actor=instructor, mark=2
    )
    client.force_login(student)

    html = client.get(reverse("quiz-list", args=[open_quiz.session.course.code])).content.decode()

    assert open_quiz.title in html
    assert 'id="score-history"' in html
    assert "3 / 4 (75.0%)" in html
    assert "Passed" in html


def test_session_and_course_pages_link_to_quizzes(client, new_quiz, open_quiz, student, course):
    hidden = new_quiz(single_choice(), visible=False, title="Secret quiz")
    client.force_login(student)

    session_html = client.get(reverse("session-detail", args=[course.code, 12])).content.decode()
    course_html = client.get(reverse("course-detail", args=[course.code])).content.decode()

    assert reverse("quiz-detail", args=[open_quiz.pk]) in session_html
    assert reverse("quiz-detail", args=[hidden.pk]) not in session_html
    assert "Secret quiz" not in session_html
    assert reverse("quiz-list", args=[course.code]) in course_html


# --- Instructor pages ----------------------------------------------------------------------


def test_instructor_quiz_page(client, open_quiz, finished, instructor):
    client.force_login(instructor)
    html = client.get(reverse("quiz-detail", args=[open_quiz.pk])).content.decode()

    for name in ("quiz-results", "quiz-statistics", "quiz-essays"):
        assert reverse(name, args=[open_quiz.pk]) in html
    assert html.count('class="regrade-form"') == 3
    assert "Start attempt" not in html
    assert "1 essay to mark" in html


def test_import_preview_then_confirm(client, course, session12, instructor):
    client.force_login(instructor)
    url = reverse("quiz-import", args=[course.code])

    preview = client.post(
        url,
        {
            "question_file": _gift_upload(GIFT_OK),
            "format": "gift",
            "session": str(session12.pk),
            "quiz_title": "Warm-up",
            "time_limit": "15",
            "attempts_allowed": "2",
        },
    )
    html = preview.content.decode()

    assert preview.status_code == 200
    assert 'id="import-preview"' in html
    assert "Preview: 3 questions" in html
    assert "Single choice" in html and "True/false" in html and "Numerical" in html
    assert "“Warm-up”" in html
    assert not Question.objects.exists()  # nothing saved yet

    source = re.search(r'<textarea name="source"[^>]*>(.*?)</textarea>', html, re.S).group(1)
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))
    confirm = client.post(url, {**hidden, "source": source.replace("&quot;", '"')}, follow=True)

    quiz = Quiz.objects.get(title="Warm-up")
    assert confirm.redirect_chain[-1][0] == reverse("quiz-detail", args=[quiz.pk])
    assert "Imported 3 questions (3 new, 0 updated) and created the quiz" in (
        confirm.content.decode()
    )
    assert quiz.session == session12
    assert quiz.time_limit == timedelta(minutes=15)
    assert quiz.attempts_allowed == 2
    assert quiz.slots.count() == 3
    assert Question.objects.filter(course=course).count() == 3


def test_import_pasted_into_the_bank_only(client, course, instructor):
    client.force_login(instructor)
    url = reverse("quiz-import", args=[course.code])
    preview = client.post(url, {"source_text": GIFT_OK, "format": "gift", "attempts_allowed": "1"})
    assert preview.status_code == 200

    confirm = client.post(
        url,
        {"confirm": "1", "source": GIFT_OK, "format": "gift", "attempts_allowed": "1"},
    )

    assert confirm["Location"] == reverse("quiz-list", args=[course.code])
    assert Question.objects.filter(course=course).count() == 3
    assert not Quiz.objects.exists()


def test_import_errors_have_line_numbers(client, course, instructor):
    client.force_login(instructor)
    response = client.post(
        reverse("quiz-import", args=[course.code]),
        {"source_text": GIFT_BAD, "format": "gift", "attempts_allowed": "1"},
    )
    html = response.content.decode()

    assert response.status_code == 400
    assert "nothing was imported" in html
    rows = re.findall(r'<tr><td><a href="#line-(\d+)">\d+</a></td>', html)
    assert rows and set(rows) <= {"3", "5"}
    assert '<span class="src-line has-problem" id="line-3">' in html
    assert "This one is broken." in html  # the text is kept for fixing
    assert not Question.objects.exists()


def test_import_form_errors(client, course, instructor):
    client.force_login(instructor)
    url = reverse("quiz-import", args=[course.code])

    nothing = client.post(url, {"format": "gift", "attempts_allowed": "1"})
    wrong_type = client.post(
        url, {"question_file": _gift_upload(GIFT_OK, "q.pdf"), "attempts_allowed": "1"}
    )
    quiz_without_session = client.post(
        url,
        {"source_text": GIFT_OK, "format": "gift", "quiz_title": "X", "attempts_allowed": "1"},
    )

    assert nothing.status_code == 400 and "Upload a question file" in nothing.content.decode()
    assert (
        wrong_type.status_code == 400 and "not a .txt or .gift file" in wrong_type.content.decode()
    )
    assert quiz_without_session.status_code == 400
    assert "Choose the session" in quiz_without_session.content.decode()


def test_results_page_and_csv(client, open_quiz, finished, instructor, student):
    client.force_login(instructor)

    html = client.get(reverse("quiz-results", args=[open_quiz.pk])).content.decode()
    response = client.get(reverse("quiz-results-csv", args=[open_quiz.pk]))

    assert 'id="results-table"' in html
    assert student.username in html
    assert "Needs grading" in html
    assert reverse("quiz-results-csv", args=[open_quiz.pk]) in html
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:6] == ["username", "last_name", "first_name", "email", "attempts", "grade"]
    assert rows[1][0] == student.username and rows[1][4] == "1" and rows[1][9] == "yes"


def test_statistics_page_has_histogram_and_flags_problem_questions(
    client, open_quiz, instructor, course
):
    # Strong students get Q1 and the essay right; only the weak ones get Q2 right, so Q2's
    # discrimination index is negative.
    for i in range(6):
        someone = MembershipFactory(course=course).user
        attempt = services.attempt_start(quiz=open_quiz, actor=someone)
        strong = i >= 3
        attempt = services.attempt_submit(
            attempt=attempt,
            actor=someone,
            responses={
                1: {"choice": _display_id(attempt, 1, "Rome" if strong else "Milan")},
                2: {"value": strong},
                3: {"text": "An essay."},
            },
        )
        services.essay_mark(
            attempt_question=attempt.questions.get(position=3),
            actor=instructor,
            mark=2 if strong else 0,
        )
    client.force_login(instructor)

    response = client.get(reverse("quiz-statistics", args=[open_quiz.pk]))
    html = response.content.decode()

    assert response.status_code == 200
    assert "vendor/chart.umd.min.js" in html and "cdn" not in html.lower()
    data = json.loads(re.search(r'id="histogram-data"[^>]*>(.*?)</script>', html, re.S).group(1))
    assert sum(data["counts"]) == data["graded"] == 6
    assert data["counts"][2] == data["counts"][7] == 3  # 25% and 75%
    assert 'id="grade-histogram"' in html
    rows = response.context["rows"]
    assert [row["problem"] for row in rows][:2] == [False, True]
    assert html.count('class="is-problem"') == 1
    assert "1 question does not discriminate well" in html
    all_attempts = client.get(reverse("quiz-statistics", args=[open_quiz.pk]), {"attempts": "all"})
    assert all_attempts.context["which"] == "all"


def test_essay_marking(client, open_quiz, finished, instructor):
    client.force_login(instructor)
    question = finished.questions.get(position=3)

    page = client.get(reverse("quiz-essays", args=[open_quiz.pk])).content.decode()
    too_high = client.post(
        reverse("quiz-essay-mark", args=[finished.pk, 3]),
        {f"essay-{question.pk}-mark": "9"},
        follow=True,
    )
    marked = client.post(
        reverse("quiz-essay-mark", args=[finished.pk, 3]),
        {f"essay-{question.pk}-mark": "1.5", f"essay-{question.pk}-comment": "Fair."},
        follow=True,
    )

    assert "Because attention." in page
    assert "between 0 and 2" in too_high.content.decode()
    assert "Marked" in marked.content.decode()
    assert "No essays are waiting" in marked.content.decode()
    finished.refresh_from_db()
    assert finished.score == 2.5 and not finished.needs_grading


def test_regrade_button(client, open_quiz, finished, instructor):
    question = Question.objects.get(pk=open_quiz.slots.get(position=2).question_id)
    services.question_update(
        question=question, content=dict(question.current_version.content, correct=True)
    )
    client.force_login(instructor)
    back = reverse("quiz-statistics", args=[open_quiz.pk])

    response = client.post(
        reverse("quiz-question-regrade", args=[question.pk]), {"next": back}, follow=True
    )
    evil = client.post(
        reverse("quiz-question-regrade", args=[question.pk]), {"next": "https://evil.example/"}
    )

    assert response.redirect_chain[0][0] == back
    assert "1 mark changed" in response.content.decode()
    assert evil["Location"] == reverse("quiz-list", args=[open_quiz.session.course.code])
    assert finished.questions.get(position=2).mark == 1.0


def test_instructor_quiz_pages_number_questions_as_students_see_them(client, new_quiz, instructor):
    quiz = new_quiz(description(), single_choice(), true_false())
    client.force_login(instructor)

    for name in ("quiz-detail", "quiz-questions"):
        html = client.get(reverse(name, args=[quiz.pk])).content.decode()
        numbers = re.findall(r"<tr>\s*<td>(.*?)</td>", html)
        assert numbers[:3] == ['<span class="muted">Info</span>', "1", "2"], name


def test_a_percentage_reads_the_same_on_every_page_and_in_the_csv(
    client, new_quiz, student, instructor
):
    # 1 of 26 marks is 3.846...%: rounded to 3.85 first, the results table said 3.9.
    quiz = new_quiz(true_false(), true_false(), marks=[1, 25])
    attempt = services.attempt_start(quiz=quiz, actor=student)
    services.attempt_submit(
        attempt=attempt, actor=student, responses={1: {"value": False}, 2: {"value": True}}
    )
    client.force_login(student)
    pages = [
        client.get(reverse("quiz-attempt-review", args=[attempt.pk])).content.decode(),
        client.get(reverse("quiz-detail", args=[quiz.pk])).content.decode(),
    ]
    client.force_login(instructor)
    results = client.get(reverse("quiz-results", args=[quiz.pk])).content.decode()
    rows = list(
        csv.reader(
            io.StringIO(client.get(reverse("quiz-results-csv", args=[quiz.pk])).content.decode())
        )
    )

    for html in pages:
        assert "(3.8%)" in html
    assert re.search(r"<td>3\.8</td>", results)
    assert "3.9" not in results
    assert rows[1][rows[0].index("percentage")] == "3.8"


def test_the_start_card_counts_the_earlier_of_time_limit_and_close_date(client, open_quiz, student):
    now = timezone.now()
    services.quiz_override_set(
        actor=SYSTEM, quiz=open_quiz, student=student, closes_at=now + timedelta(minutes=5)
    )
    client.force_login(student)

    html = client.get(reverse("quiz-detail", args=[open_quiz.pk])).content.decode()

    # 4 minutes and some seconds are left; the 20-minute limit is not what the student gets.
    assert "You will have <strong>4 minutes</strong>: the quiz closes for you at" in html
    assert "before the 20 minutes time limit is up" in html


def test_an_attempt_cut_off_by_the_close_date_says_so(client, open_quiz, student):
    now = timezone.now()
    services.quiz_override_set(
        actor=SYSTEM, quiz=open_quiz, student=student, closes_at=now - timedelta(minutes=1)
    )
    attempt = services.attempt_start(quiz=open_quiz, actor=student, now=now - timedelta(minutes=2))
    client.force_login(student)

    response = client.post(
        reverse("quiz-attempt-submit", args=[attempt.pk]), {"answers": "1"}, follow=True
    )
    html = response.content.decode()

    assert "The quiz closed for you at" in html
    assert "Your attempt has been submitted." not in html


def test_the_countdown_rounds_up_so_it_ends_at_the_deadline(open_quiz, student):
    now = timezone.now()
    attempt = services.attempt_start(quiz=open_quiz, actor=student, now=now)

    display = selectors.attempt_display(attempt=attempt, now=now + timedelta(seconds=5.5))

    assert display["attempt"]["seconds_left"] == 20 * 60 - 5  # 1194.5 s, shown as 1195


def test_feedback_on_a_right_answer_is_styled_as_right(client, student, finished):
    client.force_login(student)

    html = client.get(reverse("quiz-attempt-review", args=[finished.pk])).content.decode()

    right = html.index('id="q1"')
    assert '<div class="feedback feedback-correct">' in html[right : html.index('id="q2"')]


def test_an_attempt_waiting_for_an_essay_mark_is_not_yet_graded_on_both_pages(
    client, open_quiz, student, finished
):
    client.force_login(student)

    listing = client.get(reverse("quiz-list", args=[open_quiz.session.course.code]))
    detail = client.get(reverse("quiz-detail", args=[open_quiz.pk]))

    for response in (listing, detail):
        html = response.content.decode()
        assert "Not yet graded" in html
        assert "Not available yet" not in html


def test_instructor_quiz_page_lists_questions_outside_a_height_limited_box(
    client, open_quiz, instructor
):
    client.force_login(instructor)

    html = client.get(reverse("quiz-detail", args=[open_quiz.pk])).content.decode()

    assert 'class="table-scroll card table-scroll-full"' in html


def test_import_hint_points_at_the_list_above_and_the_form_below(client, course, instructor):
    client.force_login(instructor)

    response = client.post(
        reverse("quiz-import", args=[course.code]),
        {"source_text": GIFT_BAD, "format": "gift", "attempts_allowed": "1"},
    )

    assert "Fix the problems listed above in the form below" in response.content.decode()
