"""Quiz results, their CSV, statistics, the essay queue and the overrides picker list current
students only (unenrolled students keep their attempts), take a `?section=` filter, and hold
a teaching assistant with a section to it."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from core.exceptions import PermissionDeniedError
from courseware import services as courseware_services
from courseware.models import Membership
from courseware.selectors.students import student_scope
from quizzes import selectors, services
from quizzes.models import Attempt, AttemptQuestion
from tests.factories import MembershipFactory
from tests.quizzes.conftest import NOW, essay, true_false

STUDENT = Membership.Role.STUDENT


def finished(quiz, user, responses):
    attempt = services.attempt_start(quiz=quiz, actor=user, now=NOW)
    return services.attempt_submit(
        attempt=attempt, actor=user, responses=responses, now=NOW + timedelta(minutes=1)
    )


@pytest.fixture
def essay_quiz(make_quiz):
    return make_quiz(true_false(), essay(), marks=[1, 2])


@pytest.fixture
def klass(course, essay_quiz):
    """ann (A), cat (B) and dan (A, unenrolled after answering): each wrote an essay."""
    members = {
        name: MembershipFactory(
            course=course,
            role=STUDENT,
            section=section,
            user__username=name,
            user__last_name=name.title(),
        )
        for name, section in (("ann", "A"), ("cat", "B"), ("dan", "A"))
    }
    for membership in members.values():
        finished(essay_quiz, membership.user, {1: {"value": True}, 2: {"text": "An essay."}})
    members["dan"].is_active = False
    members["dan"].save()
    return members


def mark_essays(quiz, marker) -> None:
    """Statistics count graded attempts: mark every essay waiting (whoever wrote it)."""
    waiting = AttemptQuestion.objects.filter(
        attempt__quiz=quiz, state=AttemptQuestion.State.NEEDS_GRADING
    )
    for question in waiting:
        services.essay_mark(attempt_question=question, actor=marker, mark=1)


def names(table) -> list[str]:
    return [row[0] for row in table.rows]


def test_unenrolled_students_leave_results_statistics_and_essays_but_keep_attempts(
    course, instructor, essay_quiz, klass
):
    assert names(selectors.quiz_results(quiz=essay_quiz)) == ["ann", "cat"]
    queue = selectors.essay_marking_queue(course=course, quiz=essay_quiz)
    assert sorted(q.attempt.user.username for q in queue) == ["ann", "cat"]
    mark_essays(essay_quiz, instructor)
    assert selectors.quiz_statistics(quiz=essay_quiz).quiz.count == 2
    assert Attempt.objects.filter(user=klass["dan"].user).count() == 1

    klass["dan"].is_active = True
    klass["dan"].save()
    assert names(selectors.quiz_results(quiz=essay_quiz)) == ["ann", "cat", "dan"]
    assert selectors.quiz_statistics(quiz=essay_quiz).quiz.count == 3


def test_the_overrides_picker_offers_current_students_only(essay_quiz, klass):
    rows = selectors.quiz_override_rows(quiz=essay_quiz)
    assert sorted(r.student.username for r in rows) == ["ann", "cat"]


def test_a_section_scope_narrows_results_statistics_and_essays(
    course, instructor, essay_quiz, klass
):
    scope = student_scope(user=instructor, course=course, section="B")

    assert names(selectors.quiz_results(quiz=essay_quiz, scope=scope)) == ["cat"]
    queue = selectors.essay_marking_queue(course=course, quiz=essay_quiz, scope=scope)
    assert [q.attempt.user.username for q in queue] == ["cat"]
    mark_essays(essay_quiz, instructor)
    assert selectors.quiz_statistics(quiz=essay_quiz, scope=scope).quiz.count == 1


def test_a_teaching_assistant_with_a_section_gets_only_its_results(course, essay_quiz, klass):
    ta = MembershipFactory(course=course, role=Membership.Role.TEACHING_ASSISTANT, section="A")

    scope = student_scope(user=ta.user, course=course)
    assert names(selectors.quiz_results(quiz=essay_quiz, scope=scope)) == ["ann"]
    with pytest.raises(PermissionDeniedError):
        student_scope(user=ta.user, course=course, section="B")


def test_a_teaching_assistant_without_a_section_gets_the_whole_course(course, essay_quiz, klass):
    ta = MembershipFactory(course=course, role=Membership.Role.TEACHING_ASSISTANT)

    scope = student_scope(user=ta.user, course=course)
    assert names(selectors.quiz_results(quiz=essay_quiz, scope=scope)) == ["ann", "cat"]


def _results_queries(quiz, scope) -> int:
    with CaptureQueriesContext(connection) as ctx:
        selectors.quiz_results(quiz=quiz, scope=scope)
        selectors.quiz_statistics(quiz=quiz, scope=scope)
    return len(ctx.captured_queries)


@pytest.mark.parametrize("section", ["", "A"])
def test_results_cost_the_same_queries_whatever_the_class_size(
    course, instructor, essay_quiz, klass, section
):
    scope = student_scope(user=instructor, course=course, section=section)
    small = _results_queries(essay_quiz, scope)
    for i in range(8):
        user = MembershipFactory(course=course, role=STUDENT, section="A").user
        finished(essay_quiz, user, {1: {"value": i % 2 == 0}})
    assert _results_queries(essay_quiz, scope) == small


# --- pages and the API, per role ---------------------------------------------------------


def test_the_results_page_and_csv_honour_the_section(client, course, instructor, essay_quiz, klass):
    client.force_login(instructor)
    page = client.get(reverse("quiz-results", args=[essay_quiz.pk]), {"section": "B"})
    html = page.content.decode()
    assert '<option value="B" selected>' in html
    assert "cat" in html and ">ann<" not in html
    assert f"{reverse('quiz-results-csv', args=[essay_quiz.pk])}?section=B" in html

    response = client.get(reverse("quiz-results-csv", args=[essay_quiz.pk]), {"section": "B"})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert [row[0] for row in rows[1:]] == ["cat"]
    assert "results-section-b.csv" in response["Content-Disposition"]

    everyone = client.get(reverse("quiz-results-csv", args=[essay_quiz.pk]))
    rows = list(csv.reader(io.StringIO(everyone.content.decode())))
    assert [row[0] for row in rows[1:]] == ["ann", "cat"]


def test_statistics_and_essays_pages_honour_the_section(client, instructor, essay_quiz, klass):
    client.force_login(instructor)
    essays = client.get(reverse("quiz-essays", args=[essay_quiz.pk]), {"section": "A"})
    assert [item.attempt.user.username for item, _form in essays.context["queue"]] == ["ann"]
    mark_essays(essay_quiz, instructor)
    stats = client.get(reverse("quiz-statistics", args=[essay_quiz.pk]), {"section": "A"})
    assert stats.context["summary"].count == 1


def test_an_unknown_section_is_a_clear_error(client, instructor, essay_quiz, klass):
    client.force_login(instructor)
    response = client.get(reverse("quiz-results", args=[essay_quiz.pk]), {"section": "Z"})
    assert response.status_code == 400
    assert "has no section" in response.content.decode()


def test_students_are_refused_results_with_or_without_a_section(client, essay_quiz, klass):
    client.force_login(klass["ann"].user)
    for params in ({}, {"section": "A"}):
        response = client.get(reverse("quiz-results-csv", args=[essay_quiz.pk]), params)
        assert response.status_code == 403


def test_the_results_and_statistics_api_take_a_section(instructor, essay_quiz, klass):
    api = APIClient()
    token = courseware_services.api_token_create(actor=instructor).key
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    results = api.get(reverse("quizzes_api:quiz-results", kwargs={"quiz_id": essay_quiz.pk}))
    assert [row["username"] for row in results.json()["rows"]] == ["ann", "cat"]
    results = api.get(
        reverse("quizzes_api:quiz-results", kwargs={"quiz_id": essay_quiz.pk}), {"section": "B"}
    )
    assert [row["username"] for row in results.json()["rows"]] == ["cat"]
    mark_essays(essay_quiz, instructor)
    stats = api.get(
        reverse("quizzes_api:quiz-statistics", kwargs={"quiz_id": essay_quiz.pk}),
        {"section": "A"},
    )
    assert stats.json()["quiz"]["count"] == 1
    essays = api.get(
        reverse("quizzes_api:essay-queue", kwargs={"quiz_id": essay_quiz.pk}), {"section": "Z"}
    )
    assert (essays.status_code, essays.json()["code"]) == (400, "unknown_section")
