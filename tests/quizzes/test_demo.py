"""The demo quiz load_demo adds to Session 12."""

from datetime import timedelta

from django.utils import timezone

from core.actors import SYSTEM
from courseware.services import session_import_deck
from quizzes import selectors, services
from quizzes.demo import DEMO_QUIZ_TITLE, demo_quiz_load
from quizzes.models import Question, Quiz


def test_demo_quiz_covers_the_deck_and_reloads_without_copies(course, seed_deck_source, student):
    session = session_import_deck(actor=SYSTEM, course=course, source=seed_deck_source).session

    quiz = demo_quiz_load(course=course, session=session)
    again = demo_quiz_load(course=course, session=session)

    assert again.pk == quiz.pk
    assert Quiz.objects.filter(title=DEMO_QUIZ_TITLE).count() == 1
    assert Question.objects.filter(course=course).count() == 13
    assert (quiz.time_limit, quiz.attempts_allowed) == (timedelta(minutes=20), 2)
    types = set(quiz.slots.values_list("question__qtype", flat=True))
    assert types == {
        "description",
        "single_choice",
        "multiple_choice",
        "true_false",
        "short_answer",
        "numerical",
        "matching",
        "essay",
    }
    linked = set(
        Question.objects.filter(course=course).values_list("objectives__position", flat=True)
    )
    assert linked == {None, 1, 2, 3, 4}  # every objective is assessed (the intro is not)
    now = timezone.now()
    attempt = services.attempt_start(quiz=quiz, actor=student, now=now)
    shown = selectors.attempt_display(attempt=attempt, now=now)
    assert len(shown["questions"]) == 13
    assert shown["attempt"]["seconds_left"] == 20 * 60
