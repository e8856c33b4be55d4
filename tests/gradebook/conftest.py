"""Gradebook fixtures: a course with a quiz (2 marks), a lab and two homework tasks, a TA, and
an open gradebook. Grade events run their on-commit work at once (`events` fixture)."""

from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.utils import timezone

from config.celery import app as celery_app
from core.actors import SYSTEM
from courseware.models import Membership
from gradebook import services
from quizzes.services import attempt_start, attempt_submit
from tests.factories import LabFactory, MembershipFactory
from tests.quizzes.conftest import QuizFactory, single_choice, true_false


@pytest.fixture
def events(django_capture_on_commit_callbacks):
    """Run on-commit callbacks (grade events) as each block commits, and the student refresh
    they queue with them (`gradebook.tasks.student_refresh`, run as a worker would)."""

    @contextmanager
    def capture():
        celery_app.conf.task_always_eager = True
        try:
            with django_capture_on_commit_callbacks(execute=True) as callbacks:
                yield callbacks
        finally:
            celery_app.conf.task_always_eager = False

    return capture


@pytest.fixture
def ta(course):
    return MembershipFactory(course=course, role=Membership.Role.TEACHING_ASSISTANT).user


@pytest.fixture
def gb_quiz(session12):
    from quizzes.services import question_create, quiz_question_add

    now = timezone.now()
    quiz = QuizFactory(
        session=session12,
        title="Attention quiz",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=2),
    )
    for content in (single_choice(), true_false()):
        question = question_create(course=session12.course, content=content)
        quiz_question_add(actor=SYSTEM, quiz=quiz, question=question)
    return quiz


@pytest.fixture
def gb_lab(session12):
    now = timezone.now()
    return LabFactory(
        session=session12,
        title="Sentiment lab",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=7),
    )


@pytest.fixture
def gradebook(course, instructor, student, gb_quiz, gb_lab, session12):
    """The course's gradebook, opened once (items synced, every student computed)."""
    services.gradebook_ensure_fresh(course=course)
    return services.gradebook_settings_get(course=course)


def take_quiz(quiz, user, *, right: int):
    """Submit an attempt with `right` of the two questions right (1 mark each): the
    true/false one first, then the capital (wrong answer: Milan)."""
    attempt = attempt_start(actor=user, quiz=quiz)
    responses = {1: {"choice": 0 if right >= 2 else 1}, 2: {"value": right < 1}}
    return attempt_submit(actor=user, attempt=attempt, responses=responses)
