"""The `/api/v1/` quizzes API: who may call what, that questions never carry answers, review
options, deadlines, idempotent submission, results CSV, statistics, essays and regrading."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from courseware import services as courseware_services
from courseware.models import Membership
from quizzes import services
from quizzes.models import Attempt, AttemptQuestion, Question
from tests.factories import MembershipFactory, SessionFactory
from tests.quizzes.conftest import (
    CONTENT,
    essay,
    numerical,
    short_answer,
    single_choice,
    true_false,
)

pytestmark = pytest.mark.django_db

#: Keys that would give answers away while a student answers.
SECRET_KEYS = {
    "fraction",
    "feedback",
    "feedback_true",
    "feedback_false",
    "general_feedback",
    "answers",
    "correct",
    "right_answer",
    "pairs",
    "tolerance",
    "state",
    "mark",
    "score",
}
EVERYTHING_HIDDEN = {
    window: dict.fromkeys(("correctness", "marks", "feedback", "right_answers"), False)
    for window in ("during", "immediately", "open", "closed")
}


def url(name: str, **kwargs) -> str:
    return reverse(f"quizzes_api:{name}", kwargs=kwargs)


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {courseware_services.api_token_create(actor=user).key}"
    )
    return client


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code, body
    assert body["message"]
    return body


def keys_in(data: Any) -> set[str]:
    """Every dict key anywhere in a JSON value."""
    if isinstance(data, dict):
        return set(data) | {k for value in data.values() for k in keys_in(value)}
    if isinstance(data, list):
        return {k for value in data for k in keys_in(value)}
    return set()


@pytest.fixture
def new_quiz(make_quiz):
    """make_quiz, open from an hour ago until tomorrow unless told otherwise."""

    def make(*contents, **fields):
        now = timezone.now()
        fields.setdefault("opens_at", now - timedelta(hours=1))
        fields.setdefault("closes_at", now + timedelta(days=1))
        return make_quiz(*contents, **fields)

    return make


@pytest.fixture
def open_quiz(new_quiz):
    """Open now: single choice (1), true/false (1), essay (2); unlimited attempts."""
    return new_quiz(single_choice(), true_false(), essay(), marks=[1, 1, 2], pass_percentage=50)


@pytest.fixture
def finished(open_quiz, student):
    """The student's first attempt: Rome (right), True (wrong), an essay to mark."""
    attempt = services.attempt_start(quiz=open_quiz, actor=student)
    choice = _display_id(attempt, 1, "Rome")
    return services.attempt_submit(
        attempt=attempt,
        actor=student,
        responses={1: {"choice": choice}, 2: {"value": True}, 3: {"text": "Because."}},
    )


@pytest.fixture
def in_progress(open_quiz, student, finished):
    return services.attempt_start(quiz=open_quiz, actor=student)


@pytest.fixture
def classmate(course):
    return MembershipFactory(course=course, role=Membership.Role.STUDENT).user


def _display_id(attempt: Attempt, slot: int, text: str) -> int:
    question = attempt.questions.get(position=slot)
    answers = question.version.content["answers"]
    return next(k for k, i in enumerate(question.order["choices"]) if answers[i]["text"] == text)


# --- Who may call what ----------------------------------------------------------------------

ROLES = ("anonymous", "other_student", "student", "teaching_assistant", "instructor")

#: operation id → (method, path builder, body, expected status per ROLES)
CASES = {
    "quizzes_list": (
        "get",
        lambda c: url("quiz-list", code=c["quiz"].session.course.code),
        None,
        (401, 404, 200, 200, 200),
    ),
    "quizzes_retrieve": (
        "get",
        lambda c: url("quiz-detail", quiz_id=c["quiz"].pk),
        None,
        (401, 404, 200, 200, 200),
    ),
    "quiz_attempts_start": (
        "post",
        lambda c: url("attempt-start", quiz_id=c["quiz"].pk),
        None,
        (401, 404, 200, 403, 403),  # 200: the attempt in progress is returned
    ),
    "attempts_retrieve": (
        "get",
        lambda c: url("attempt-detail", attempt_id=c["in_progress"].pk),
        None,
        (401, 404, 200, 200, 200),
    ),
    "attempt_answers_save": (
        "put",
        lambda c: url("answer-save", attempt_id=c["in_progress"].pk, slot=2),
        {"response": {"value": False}},
        (401, 404, 200, 403, 403),
    ),
    "attempts_submit": (
        "post",
        lambda c: url("attempt-submit", attempt_id=c["in_progress"].pk),
        {},
        (401, 404, 200, 403, 403),
    ),
    "attempts_review": (
        "get",
        lambda c: url("attempt-review", attempt_id=c["finished"].pk),
        None,
        (401, 404, 200, 200, 200),
    ),
    "quiz_results": (
        "get",
        lambda c: url("quiz-results", quiz_id=c["quiz"].pk),
        None,
        (401, 404, 403, 200, 200),
    ),
    "quiz_statistics": (
        "get",
        lambda c: url("quiz-statistics", quiz_id=c["quiz"].pk),
        None,
        (401, 404, 403, 200, 200),
    ),
    "quiz_essays_list": (
        "get",
        lambda c: url("essay-queue", quiz_id=c["quiz"].pk),
        None,
        (401, 404, 403, 200, 200),
    ),
    "essays_mark": (
        "post",
        lambda c: url("essay-mark", attempt_id=c["finished"].pk, slot=3),
        {"mark": 1.5, "comment": "Good."},
        (401, 404, 403, 200, 200),
    ),
    "questions_regrade": (
        "post",
        lambda c: url("question-regrade", question_id=c["quiz"].slots.first().question_id),
        None,
        (401, 404, 403, 403, 200),
    ),
}


@pytest.mark.parametrize("who_index", range(len(ROLES)), ids=ROLES)
@pytest.mark.parametrize("case", list(CASES))
def test_permission_matrix(request, open_quiz, finished, in_progress, instructor, case, who_index):
    method, path_for, body, codes = CASES[case]
    who = ROLES[who_index]
    client = APIClient() if who == "anonymous" else token_client(request.getfixturevalue(who))
    context = {"quiz": open_quiz, "finished": finished, "in_progress": in_progress}

    response = getattr(client, method)(path_for(context), body, format="json")

    assert response.status_code == codes[who_index], response.content
    if codes[who_index] >= 400:
        expected = {401: "not_authenticated", 403: "permission_denied", 404: "not_found"}
        assert response.json()["code"] == expected[codes[who_index]]


def test_every_quiz_operation_is_in_the_schema():
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    operation_ids = {
        op["operationId"]
        for item in schema["paths"].values()
        for method, op in item.items()
        if method in {"get", "put", "post", "patch", "delete"}
    }
    assert set(CASES) <= operation_ids


def test_session_auth_works_too(client, open_quiz, student):
    client.force_login(student)
    response = client.get(url("quiz-detail", quiz_id=open_quiz.pk))
    assert response.status_code == 200


# --- Quizzes --------------------------------------------------------------------------------


def test_list_filters_by_session_and_hides_hidden_quizzes(new_quiz, open_quiz, student, course):
    other_session = SessionFactory(course=course, number=13)
    now = timezone.now()
    hidden = new_quiz(single_choice(), visible=False, opens_at=now, closes_at=None)
    client = token_client(student)

    everything = client.get(url("quiz-list", code=course.code)).json()
    only_13 = client.get(url("quiz-list", code=course.code), {"session": 13}).json()
    missing = client.get(url("quiz-list", code=course.code), {"session": 99})

    assert [q["id"] for q in everything["results"]] == [open_quiz.pk]
    assert only_13["results"] == []
    assert other_session.quizzes.count() == 0
    assert_error(missing, 404, "not_found")
    assert_error(client.get(url("quiz-detail", quiz_id=hidden.pk)), 404, "not_found")


def test_instructor_sees_hidden_quizzes_and_cannot_start(new_quiz, open_quiz, instructor, course):
    hidden = new_quiz(single_choice(), visible=False)
    body = token_client(instructor).get(url("quiz-list", code=course.code)).json()

    assert {q["id"] for q in body["results"]} == {open_quiz.pk, hidden.pk}
    assert all(q["can_start"] is False for q in body["results"])


def test_detail_has_rules_and_my_attempts(open_quiz, student, finished):
    body = token_client(student).get(url("quiz-detail", quiz_id=open_quiz.pk)).json()

    assert body["time_limit_seconds"] == 20 * 60
    assert body["attempts_allowed"] == 0
    assert body["attempts_used"] == 1
    assert body["attempts_left"] is None
    assert body["grading_method"] == "highest"
    assert body["pass_percentage"] == 50
    assert body["question_count"] == 3
    assert body["max_grade"] == 4
    assert body["status"] == "open"
    assert body["can_start"] is True
    assert [a["number"] for a in body["attempts"]] == [1]
    assert body["attempts"][0]["needs_grading"] is True
    assert body["grade"] is None  # the essay waits for a mark


# --- Attempts -------------------------------------------------------------------------------


def test_start_is_idempotent(open_quiz, student):
    client = token_client(student)

    first = client.post(url("attempt-start", quiz_id=open_quiz.pk))
    again = client.post(url("attempt-start", quiz_id=open_quiz.pk))

    assert first.status_code == 201
    assert again.status_code == 200
    assert first.json()["attempt"]["id"] == again.json()["attempt"]["id"]
    assert first.json()["attempt"]["seconds_left"] > 19 * 60
    assert Attempt.objects.filter(quiz=open_quiz, user=student).count() == 1


def test_start_refused_when_closed_or_no_attempts_left(new_quiz, student):
    now = timezone.now()
    closed = new_quiz(single_choice(), opens_at=now - timedelta(days=2), closes_at=now)
    once = new_quiz(single_choice(), opens_at=now - timedelta(hours=1), attempts_allowed=1)
    client = token_client(student)

    assert_error(client.post(url("attempt-start", quiz_id=closed.pk)), 400, "quiz_closed")
    attempt_id = client.post(url("attempt-start", quiz_id=once.pk)).json()["attempt"]["id"]
    client.post(url("attempt-submit", attempt_id=attempt_id), {}, format="json")
    assert_error(client.post(url("attempt-start", quiz_id=once.pk)), 400, "no_attempts_left")


def test_questions_never_carry_answers_or_feedback(new_quiz, student):
    now = timezone.now()
    contents = [CONTENT[t](general_feedback="Secret general") for t in CONTENT]
    quiz = new_quiz(*contents, opens_at=now - timedelta(hours=1), shuffle_answers=True)
    client = token_client(student)

    started = client.post(url("attempt-start", quiz_id=quiz.pk)).json()
    attempt_id = started["attempt"]["id"]
    # Answer every question, so saved responses are part of the payload too.
    for q in started["questions"]:
        response = {
            "single_choice": {"choice": 0},
            "multiple_choice": {"choices": [0, 1]},
            "true_false": {"value": True},
            "short_answer": {"text": "transformers"},
            "numerical": {"value": "3.14"},
            "matching": {"matches": {str(i["id"]): 0 for i in q.get("items", [])}},
            "essay": {"text": "Because."},
        }.get(q["type"])
        if response is not None:
            saved = client.put(
                url("answer-save", attempt_id=attempt_id, slot=q["slot"]),
                {"response": response},
                format="json",
            )
            assert saved.status_code == 200, saved.content
            assert not keys_in(saved.json()) & SECRET_KEYS, saved.json()
    shown = client.get(url("attempt-detail", attempt_id=attempt_id)).json()

    for payload in (started, shown):
        leaked = keys_in(payload["questions"]) & SECRET_KEYS
        assert not leaked, leaked
        assert "Secret general" not in str(payload)
        assert "Yes." not in str(payload)  # answer feedback of the single-choice question
    assert {q["type"] for q in shown["questions"]} == set(CONTENT)
    assert all(q["answered"] for q in shown["questions"] if q["type"] != "description")


def test_save_and_read_back_a_response(open_quiz, student):
    client = token_client(student)
    attempt_id = client.post(url("attempt-start", quiz_id=open_quiz.pk)).json()["attempt"]["id"]

    saved = client.put(
        url("answer-save", attempt_id=attempt_id, slot=2), {"response": {"value": False}}, "json"
    )
    cleared = client.put(
        url("answer-save", attempt_id=attempt_id, slot=1), {"response": None}, "json"
    )

    assert saved.json()["response"] == {"value": False}
    assert saved.json()["answered"] is True
    assert cleared.json()["answered"] is False
    questions = client.get(url("attempt-detail", attempt_id=attempt_id)).json()["questions"]
    assert questions[1]["response"] == {"value": False}


def test_bad_responses_are_refused(open_quiz, student):
    client = token_client(student)
    attempt_id = client.post(url("attempt-start", quiz_id=open_quiz.pk)).json()["attempt"]["id"]

    bad_choice = client.put(
        url("answer-save", attempt_id=attempt_id, slot=1), {"response": {"choice": 9}}, "json"
    )
    no_key = client.put(url("answer-save", attempt_id=attempt_id, slot=1), {}, "json")
    no_slot = client.put(
        url("answer-save", attempt_id=attempt_id, slot=42), {"response": None}, "json"
    )

    assert_error(bad_choice, 400, "invalid_response")
    assert_error(no_key, 400, "invalid_input")
    assert_error(no_slot, 404, "not_found")


def test_save_after_the_deadline_and_grace_is_409_and_submits(open_quiz, student, settings):
    settings.QUIZ_NETWORK_GRACE_S = 15
    client = token_client(student)
    attempt_id = client.post(url("attempt-start", quiz_id=open_quiz.pk)).json()["attempt"]["id"]
    client.put(
        url("answer-save", attempt_id=attempt_id, slot=2), {"response": {"value": False}}, "json"
    )
    Attempt.objects.filter(pk=attempt_id).update(deadline=timezone.now() - timedelta(seconds=16))

    late = client.put(
        url("answer-save", attempt_id=attempt_id, slot=1), {"response": {"choice": 0}}, "json"
    )

    assert_error(late, 409, "attempt_overdue")
    attempt = Attempt.objects.get(pk=attempt_id)
    assert attempt.state == Attempt.State.FINISHED
    assert attempt.auto_submitted
    assert attempt.questions.get(position=1).response is None  # the late answer was refused
    assert attempt.questions.get(position=2).mark == 1.0  # the one saved in time counts
    again = client.put(
        url("answer-save", attempt_id=attempt_id, slot=1), {"response": {"choice": 0}}, "json"
    )
    assert_error(again, 409, "attempt_finished")


def test_reading_an_overdue_attempt_submits_it(open_quiz, student, settings):
    settings.QUIZ_NETWORK_GRACE_S = 15
    client = token_client(student)
    attempt_id = client.post(url("attempt-start", quiz_id=open_quiz.pk)).json()["attempt"]["id"]
    Attempt.objects.filter(pk=attempt_id).update(deadline=timezone.now() - timedelta(seconds=16))

    body = client.get(url("attempt-detail", attempt_id=attempt_id)).json()

    assert body["attempt"]["state"] == "finished"
    assert body["attempt"]["seconds_left"] is None


def test_within_the_grace_a_save_is_accepted_and_the_attempt_reads_as_time_up(
    open_quiz, student, settings
):
    settings.QUIZ_NETWORK_GRACE_S = 15
    client = token_client(student)
    attempt_id = client.post(url("attempt-start", quiz_id=open_quiz.pk)).json()["attempt"]["id"]
    Attempt.objects.filter(pk=attempt_id).update(deadline=timezone.now() - timedelta(seconds=5))

    saved = client.put(
        url("answer-save", attempt_id=attempt_id, slot=2), {"response": {"value": False}}, "json"
    )
    shown = client.get(url("attempt-detail", attempt_id=attempt_id)).json()["attempt"]
    submitted = client.post(url("attempt-submit", attempt_id=attempt_id), {}, "json")

    assert saved.status_code == 200
    assert (shown["state"], shown["time_up"], shown["seconds_left"]) == ("in_progress", True, 0)
    assert submitted.status_code == 200
    attempt = Attempt.objects.get(pk=attempt_id)
    assert attempt.state == Attempt.State.FINISHED and attempt.auto_submitted
    assert attempt.submitted_at == attempt.deadline
    assert attempt.questions.get(position=2).mark == 1.0


def test_double_submit_is_harmless(open_quiz, student):
    client = token_client(student)
    started = client.post(url("attempt-start", quiz_id=open_quiz.pk)).json()
    attempt_id = started["attempt"]["id"]
    attempt = Attempt.objects.get(pk=attempt_id)
    responses = {"1": {"choice": _display_id(attempt, 1, "Rome")}, "2": {"value": False}}

    first = client.post(
        url("attempt-submit", attempt_id=attempt_id), {"responses": responses}, "json"
    )
    second = client.post(url("attempt-submit", attempt_id=attempt_id), {}, "json")

    assert first.status_code == second.status_code == 200
    assert first.json()["attempt"]["score"] == 2.0  # unanswered essay scores 0 at once
    assert second.json()["attempt"] == first.json()["attempt"]
    assert Attempt.objects.filter(quiz=open_quiz, user=student).count() == 1
    assert Attempt.objects.get(pk=attempt_id).state == Attempt.State.FINISHED


def test_students_cannot_touch_each_others_attempts(open_quiz, finished, in_progress, classmate):
    client = token_client(classmate)

    for response in (
        client.get(url("attempt-detail", attempt_id=in_progress.pk)),
        client.get(url("attempt-review", attempt_id=finished.pk)),
        client.put(
            url("answer-save", attempt_id=in_progress.pk, slot=1), {"response": None}, "json"
        ),
        client.post(url("attempt-submit", attempt_id=in_progress.pk), {}, "json"),
    ):
        assert_error(response, 404, "not_found")
    assert Attempt.objects.get(pk=in_progress.pk).state == Attempt.State.IN_PROGRESS


def test_review_of_an_attempt_in_progress_is_refused(open_quiz, student, in_progress, instructor):
    refused = token_client(student).get(url("attempt-review", attempt_id=in_progress.pk))
    assert_error(refused, 409, "attempt_in_progress")
    # Instructors may look at it (everything shown).
    response = token_client(instructor).get(url("attempt-review", attempt_id=in_progress.pk))
    assert response.status_code == 200


# --- Review options -------------------------------------------------------------------------


def _submit_right_answers(client, quiz, student) -> int:
    attempt_id = client.post(url("attempt-start", quiz_id=quiz.pk)).json()["attempt"]["id"]
    attempt = Attempt.objects.get(pk=attempt_id)
    responses = {"1": {"choice": _display_id(attempt, 1, "Rome")}, "2": {"value": False}}
    client.post(url("attempt-submit", attempt_id=attempt_id), {"responses": responses}, "json")
    return attempt_id


def test_review_hides_what_the_options_hide(new_quiz, student):
    now = timezone.now()
    quiz = new_quiz(
        single_choice(),
        true_false(),
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(days=1),
        review_options=EVERYTHING_HIDDEN,
    )
    client = token_client(student)
    attempt_id = _submit_right_answers(client, quiz, student)

    review = client.get(url("attempt-review", attempt_id=attempt_id)).json()

    assert review["window"] == "immediately"
    assert not keys_in(review["attempt"]) & {"score", "percentage", "passed", "max_score"}
    for question in review["questions"]:
        assert not set(question) & {"state", "mark", "feedback", "right_answer"}
        assert question["response"] is not None  # students always see their own responses
    history = client.get(url("quiz-detail", quiz_id=quiz.pk)).json()
    assert history["attempts"][0]["score"] is None
    assert history["grade"] is None


def test_review_shows_marks_but_not_right_answers_by_default(open_quiz, student):
    client = token_client(student)
    attempt_id = _submit_right_answers(client, open_quiz, student)

    review = client.get(url("attempt-review", attempt_id=attempt_id)).json()

    assert review["options"] == {
        "correctness": True,
        "marks": True,
        "feedback": True,
        "right_answers": False,
    }
    assert review["attempt"]["max_score"] == 4
    assert review["attempt"]["score"] == 2  # the unanswered essay scores 0 at once
    assert review["attempt"]["needs_grading"] is False
    assert review["attempt"]["passed"] is True  # 50% reaches the pass mark
    first = review["questions"][0]
    assert first["state"] == "correct" and first["mark"] == 1
    assert first["feedback"]["answers"] == ["Yes."]
    assert "right_answer" not in first


def test_review_after_close_shows_right_answers(open_quiz, student):
    client = token_client(student)
    attempt_id = _submit_right_answers(client, open_quiz, student)
    past = timezone.now() - timedelta(minutes=10)
    Attempt.objects.filter(pk=attempt_id).update(submitted_at=past - timedelta(minutes=5))
    type(open_quiz).objects.filter(pk=open_quiz.pk).update(closes_at=past)

    review = client.get(url("attempt-review", attempt_id=attempt_id)).json()

    assert review["window"] == "closed"
    assert review["questions"][0]["right_answer"] == "Rome"
    assert review["questions"][1]["right_answer"] == "False"


def test_review_window_open_follows_its_options(new_quiz, student):
    now = timezone.now()
    options = {
        **EVERYTHING_HIDDEN,
        "open": {"correctness": False, "marks": True, "feedback": False, "right_answers": False},
    }
    quiz = new_quiz(single_choice(), opens_at=now - timedelta(hours=1), review_options=options)
    client = token_client(student)
    attempt_id = _submit_right_answers_single(client, quiz)
    Attempt.objects.filter(pk=attempt_id).update(submitted_at=now - timedelta(minutes=5))

    review = client.get(url("attempt-review", attempt_id=attempt_id)).json()

    assert review["window"] == "open"
    assert review["attempt"]["score"] == 1
    assert review["questions"][0]["mark"] == 1
    assert "state" not in review["questions"][0]
    assert "feedback" not in review["questions"][0]


def _submit_right_answers_single(client, quiz) -> int:
    attempt_id = client.post(url("attempt-start", quiz_id=quiz.pk)).json()["attempt"]["id"]
    attempt = Attempt.objects.get(pk=attempt_id)
    responses = {"1": {"choice": _display_id(attempt, 1, "Rome")}}
    client.post(url("attempt-submit", attempt_id=attempt_id), {"responses": responses}, "json")
    return attempt_id


# --- Instructors ----------------------------------------------------------------------------


def test_results_json_and_csv(open_quiz, finished, instructor, student, classmate):
    student.first_name, student.last_name = "=cmd", "Smith"
    student.save()
    client = token_client(instructor)
    services.essay_mark(
        attempt_question=finished.questions.get(position=3), actor=instructor, mark=2
    )

    body = client.get(url("quiz-results", quiz_id=open_quiz.pk)).json()
    as_csv = client.get(url("quiz-results", quiz_id=open_quiz.pk), {"format": "csv"})
    by_accept = client.get(url("quiz-results", quiz_id=open_quiz.pk), HTTP_ACCEPT="text/csv")

    rows = {row["username"]: row for row in body["rows"]}
    assert rows[student.username]["grade"] == 3.0
    assert rows[student.username]["passed"] is True
    assert rows[classmate.username]["attempts"] == 0
    assert body["columns"][-3:] == ["Q1 /1", "Q2 /1", "Q3 /2"]
    assert as_csv.status_code == 200
    assert as_csv["Content-Type"].startswith("text/csv")
    assert "attachment" in as_csv["Content-Disposition"]
    table = list(csv.reader(io.StringIO(as_csv.content.decode())))
    assert table[0] == body["columns"]
    line = next(r for r in table if r[0] == student.username)
    assert line[2] == "'=cmd"  # no formula injection in spreadsheets
    assert line[4:10] == ["1", "3.0", "4.0", "75.0", "yes", "no"]
    assert line[10:] == ["1.0", "0.0", "2.0"]
    assert next(r for r in table if r[0] == classmate.username)[5] == ""
    assert by_accept.content == as_csv.content


def test_results_csv_errors_are_json(open_quiz, student):
    response = token_client(student).get(
        url("quiz-results", quiz_id=open_quiz.pk), {"format": "csv"}
    )
    assert response["Content-Type"].startswith("application/json")
    assert_error(response, 403, "permission_denied")


def test_statistics(open_quiz, instructor, course):
    students = [MembershipFactory(course=course).user for _ in range(4)]
    for i, someone in enumerate(students):
        attempt = services.attempt_start(quiz=open_quiz, actor=someone)
        choice = _display_id(attempt, 1, "Rome" if i % 2 else "Milan")
        services.attempt_submit(
            attempt=attempt,
            actor=someone,
            responses={1: {"choice": choice}, 2: {"value": i >= 2}},
        )
    client = token_client(instructor)

    body = client.get(url("quiz-statistics", quiz_id=open_quiz.pk)).json()
    bad = client.get(url("quiz-statistics", quiz_id=open_quiz.pk), {"attempts": "best"})

    assert body["attempts"] == "first"
    assert body["quiz"]["count"] == 4
    assert [q["slot"] for q in body["questions"]] == [1, 2, 3]
    assert [q["number"] for q in body["questions"]] == [1, 2, 3]
    assert body["questions"][0]["name"] == "Capital"
    assert body["questions"][0]["question_id"] == open_quiz.slots.get(position=1).question_id
    assert body["questions"][0]["facility"] == 50
    for q in body["questions"]:
        index = q["discrimination_index"]
        assert q["problem"] == (index is not None and index < 20)
    assert sum(body["histogram"]["counts"]) == body["histogram"]["graded"] == 4
    assert len(body["histogram"]["labels"]) == 10
    assert_error(bad, 400, "invalid_input")


def test_essay_queue_and_marking(open_quiz, finished, instructor, student):
    client = token_client(instructor)

    queue = client.get(url("essay-queue", quiz_id=open_quiz.pk)).json()
    out_of_range = client.post(
        url("essay-mark", attempt_id=finished.pk, slot=3), {"mark": 5}, "json"
    )
    not_essay = client.post(url("essay-mark", attempt_id=finished.pk, slot=1), {"mark": 1}, "json")
    marked = client.post(
        url("essay-mark", attempt_id=finished.pk, slot=3), {"mark": 1.5, "comment": "Good."}, "json"
    )

    assert queue["count"] == 1
    item = queue["results"][0]
    assert (item["attempt_id"], item["slot"], item["answer"]) == (finished.pk, 3, "Because.")
    assert item["username"] == student.username
    assert_error(out_of_range, 400, "invalid_mark")
    assert_error(not_essay, 400, "not_an_essay")
    assert marked.json()["attempt_score"] == 2.5
    assert marked.json()["needs_grading"] is False
    assert client.get(url("essay-queue", quiz_id=open_quiz.pk)).json()["count"] == 0
    review = token_client(student).get(url("attempt-review", attempt_id=finished.pk)).json()
    assert review["attempt"]["score"] == 2.5
    assert review["questions"][2]["feedback"]["comment"] == "Good."


def test_regrade_after_fixing_the_key(open_quiz, finished, instructor):
    question = Question.objects.get(pk=open_quiz.slots.get(position=2).question_id)
    content = dict(question.current_version.content, correct=True)
    services.question_update(question=question, content=content)

    body = token_client(instructor).post(url("question-regrade", question_id=question.pk)).json()

    assert body["version"] == 2
    assert body["regraded"] == 1
    assert body["changes"] == [
        {
            "attempt_id": finished.pk,
            "username": finished.user.username,
            "old_mark": 0.0,
            "new_mark": 1.0,
        }
    ]
    assert AttemptQuestion.objects.get(attempt=finished, position=2).mark == 1.0


def test_submit_with_responses_grades_short_answer_and_numerical(new_quiz, student):
    now = timezone.now()
    quiz = new_quiz(short_answer(), numerical(), opens_at=now - timedelta(hours=1))
    client = token_client(student)
    attempt_id = client.post(url("attempt-start", quiz_id=quiz.pk)).json()["attempt"]["id"]

    review = client.post(
        url("attempt-submit", attempt_id=attempt_id),
        {"responses": {"1": {"text": " Transformers "}, "2": {"value": "3,14"}}},
        "json",
    ).json()

    assert review["attempt"]["score"] == 2
    assert [q["state"] for q in review["questions"]] == ["correct", "correct"]
