"""Quiz fixtures: a fixed "now", sample content for every question type, and a small quiz
built through the services (so versions and slots are consistent)."""

from datetime import UTC, datetime, timedelta

import factory
import pytest

from core.actors import SYSTEM
from quizzes.models import Quiz
from quizzes.services import question_create, quiz_question_add
from tests.factories import SessionFactory

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def single_choice(**extra):
    return {
        "type": "single_choice",
        "name": "Capital",
        "text": "Capital of Italy?",
        "answers": [
            {"text": "Rome", "fraction": 1.0, "feedback": "Yes."},
            {"text": "Milan", "fraction": 0.0, "feedback": "No, Rome."},
            {"text": "Turin", "fraction": 0.0, "feedback": ""},
        ],
        **extra,
    }


def multiple_choice(**extra):
    return {
        "type": "multiple_choice",
        "name": "Primes",
        "text": "Which are prime?",
        "answers": [
            {"text": "2", "fraction": 0.5, "feedback": "2 is prime."},
            {"text": "3", "fraction": 0.5, "feedback": ""},
            {"text": "4", "fraction": -1.0, "feedback": "4 = 2 x 2."},
            {"text": "9", "fraction": -0.5, "feedback": ""},
        ],
        **extra,
    }


def true_false(**extra):
    return {
        "type": "true_false",
        "name": "Sky",
        "text": "The sky is green.",
        "correct": False,
        "feedback_true": "Look up.",
        "feedback_false": "Right, it is blue.",
        **extra,
    }


def short_answer(**extra):
    return {
        "type": "short_answer",
        "name": "Library",
        "text": "Which library provides pipeline()?",
        "answers": [
            {"text": "transformers", "fraction": 1.0, "feedback": "Yes."},
            {"text": "hugging*", "fraction": 0.5, "feedback": "The library is transformers."},
        ],
        **extra,
    }


def numerical(**extra):
    return {
        "type": "numerical",
        "name": "Pi",
        "text": "Pi to two decimals?",
        "answers": [
            {"value": 3.14, "tolerance": 0.01, "fraction": 1.0, "feedback": "Good."},
            {"value": 3.0, "tolerance": 0.5, "fraction": 0.5, "feedback": "Roughly."},
            {"value": None, "tolerance": 0.0, "fraction": 0.0, "feedback": "Way off."},
        ],
        **extra,
    }


def matching(**extra):
    return {
        "type": "matching",
        "name": "Parts",
        "text": "Match the parts.",
        "pairs": [
            {"question": "Encoder", "answer": "Reads the input"},
            {"question": "Decoder", "answer": "Writes the output"},
            {"question": "Head", "answer": "Attends"},
            {"question": "", "answer": "Convolves"},
        ],
        **extra,
    }


def essay(**extra):
    return {"type": "essay", "name": "Why", "text": "Why attention?", **extra}


def description(**extra):
    return {"type": "description", "name": "Intro", "text": "Read carefully.", **extra}


CONTENT = {
    "single_choice": single_choice,
    "multiple_choice": multiple_choice,
    "true_false": true_false,
    "short_answer": short_answer,
    "numerical": numerical,
    "matching": matching,
    "essay": essay,
    "description": description,
}


class QuizFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Quiz

    session = factory.SubFactory(SessionFactory)
    title = factory.Sequence(lambda n: f"Quiz {n}")
    opens_at = NOW - timedelta(hours=1)
    closes_at = NOW + timedelta(days=1)
    time_limit = timedelta(minutes=20)
    attempts_allowed = 0
    shuffle_answers = False


@pytest.fixture
def make_quiz(session12):
    """make_quiz(*contents, **quiz_fields): a quiz in session 12 with one fixed slot per
    content, in order."""

    def make(*contents, marks=None, **fields):
        quiz = QuizFactory(session=session12, **fields)
        for i, content in enumerate(contents):
            question = question_create(course=session12.course, content=content)
            mark = None if marks is None else marks[i]
            quiz_question_add(actor=SYSTEM, quiz=quiz, question=question, mark=mark)
        return quiz

    return make


@pytest.fixture
def quiz(make_quiz):
    """Single choice, true/false and an essay (mark 2): a quiz with every kind of grading."""
    return make_quiz(single_choice(), true_false(), essay(), marks=[1, 1, 2])
