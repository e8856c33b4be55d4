"""The demo quiz `load_demo` adds to Session 12: the questions of
demo/quizzes/session-12-transformers.gift, open now for two weeks, 20 minutes, 2 attempts."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.actors import SYSTEM
from courseware.models import Course, Session
from quizzes.models import Quiz
from quizzes.services import question_bank_import, quiz_create, quiz_question_add

DEMO_GIFT = settings.BASE_DIR / "demo" / "quizzes" / "session-12-transformers.gift"
DEMO_QUIZ_TITLE = "Session 12 check: Transformers and Hugging Face"
DEMO_REVIEW_OPTIONS = {
    "during": {"correctness": False, "marks": False, "feedback": False, "right_answers": False},
    "immediately": {"correctness": True, "marks": True, "feedback": True, "right_answers": False},
    "open": {"correctness": True, "marks": True, "feedback": True, "right_answers": False},
    "closed": {"correctness": True, "marks": True, "feedback": True, "right_answers": True},
}


@transaction.atomic
def demo_quiz_load(*, course: Course, session: Session) -> Quiz:
    """Import the demo questions (updating them on a re-run, by their [id:...]) and create
    the demo quiz once; a re-run leaves an existing quiz and its attempts alone."""
    bank = question_bank_import(
        actor=SYSTEM, course=course, source=DEMO_GIFT.read_text(encoding="utf-8"), session=session
    )
    quiz = Quiz.objects.filter(session=session, title=DEMO_QUIZ_TITLE).first()
    if quiz is not None:
        return quiz
    now = timezone.now()
    quiz = quiz_create(
        actor=SYSTEM,
        session=session,
        title=DEMO_QUIZ_TITLE,
        intro="Check your understanding of today's session. Two attempts; your best counts.",
        opens_at=now - timedelta(minutes=1),
        closes_at=now + timedelta(days=14),
        time_limit=timedelta(minutes=20),
        attempts_allowed=2,
        grading_method=Quiz.GradingMethod.HIGHEST,
        shuffle_answers=True,
        pass_percentage=50.0,
        review_options=DEMO_REVIEW_OPTIONS,
    )
    for question in bank.questions:
        quiz_question_add(actor=SYSTEM, quiz=quiz, question=question)
    return quiz
