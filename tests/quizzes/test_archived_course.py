"""An archived course's quizzes are read-only: no attempt started, answered or submitted, no
quiz changed, no essay marked (`course_archived`, 409); results and their CSV still open."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.exceptions import ApplicationError
from courseware.models import Course
from quizzes import services
from quizzes.models import Attempt, Quiz
from tests.quizzes.conftest import NOW, essay, single_choice

pytestmark = pytest.mark.django_db


def _archive(course: Course) -> None:
    course.state = Course.State.ARCHIVED
    course.save(update_fields=["state"])


@pytest.fixture
def sample(make_quiz):
    return make_quiz(single_choice(), essay(), marks=[1, 2])


def _refused(write) -> None:
    with pytest.raises(ApplicationError) as excinfo:
        write()
    assert excinfo.value.code == "course_archived"
    assert excinfo.value.status_code == 409


def test_a_student_can_neither_start_nor_continue_an_attempt(sample, student, course):
    attempt = services.attempt_start(actor=student, quiz=sample, now=NOW)
    _archive(course)

    _refused(lambda: services.attempt_start(actor=student, quiz=sample, now=NOW))
    _refused(
        lambda: services.attempt_answer_save(
            actor=student, attempt=attempt, slot=2, response={"text": "Late"}, now=NOW
        )
    )
    _refused(lambda: services.attempt_submit(actor=student, attempt=attempt, now=NOW))
    assert Attempt.objects.get().state == Attempt.State.IN_PROGRESS


def test_the_staff_change_nothing(sample, student, instructor, teaching_assistant, course):
    attempt = services.attempt_start(actor=student, quiz=sample, now=NOW)
    services.attempt_submit(
        actor=student, attempt=attempt, responses={2: {"text": "Answer."}}, now=NOW
    )
    _archive(course)

    _refused(lambda: services.quiz_update(actor=instructor, quiz=sample, data={"title": "New"}))
    _refused(
        lambda: services.essay_mark(
            actor=teaching_assistant, attempt_question=attempt.questions.get(position=2), mark=1
        )
    )
    assert Quiz.objects.get(pk=sample.pk).title == sample.title


@pytest.mark.parametrize("who", ["instructor", "teaching_assistant"])
def test_results_and_the_csv_export_still_open(request, client, sample, student, course, who):
    attempt = services.attempt_start(actor=student, quiz=sample, now=NOW)
    services.attempt_submit(actor=student, attempt=attempt, now=NOW)
    _archive(course)
    client.force_login(request.getfixturevalue(who))

    assert client.get(reverse("quiz-results", args=[sample.pk])).status_code == 200
    response = client.get(reverse("quiz-results-csv", args=[sample.pk]))
    assert response.status_code == 200
    assert student.username in response.content.decode()
