"""The demo quiz `load_demo` adds to Session 12: the questions of
demo/quizzes/session-12-transformers.gift, open now for two weeks, 20 minutes, 2 attempts;
and one finished attempt each for two demo students (`demo_attempts_load`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from core.actors import SYSTEM
from courseware.models import Course, Session
from quizzes import presentation
from quizzes.models import Attempt, AttemptQuestion, Quiz
from quizzes.qtypes.matching import matching_choices, matching_stems
from quizzes.services import (
    attempt_answer_save,
    attempt_start,
    attempt_submit,
    question_bank_import,
    quiz_create,
    quiz_question_add,
)

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


# --- two students' finished attempts, so the mastery view has quiz evidence -----------------

#: The questions (by GIFT [id:...]) each demo student answers right; the rest they leave
#: blank (0 marks). Different answers give different mastery levels per objective: Alex
#: misses two LO4 questions and writes the essay (it waits for the instructor's mark); Sam
#: gets LO1's two questions, the Hub and the pipeline, and skips the essay.
DEMO_RIGHT_ANSWERS = {
    "alex.chen": {
        "s12-what-is",
        "s12-self-attention",
        "s12-multi-head",
        "s12-heads-dimension",
        "s12-encoder-decoder",
        "s12-applications",
        "s12-model-hub",
        "s12-pipeline",
        "s12-auto-tokenizer",
    },
    "sam.patel": {"s12-what-is", "s12-self-attention", "s12-model-hub", "s12-pipeline"},
}
DEMO_ESSAY_WRITERS = {"alex.chen"}
DEMO_ESSAY = (
    "Attention lets every word look directly at every other word, however far apart, so the "
    "model does not have to carry meaning step by step through a long sentence."
)


def _right_response(content: dict[str, Any]) -> dict[str, Any] | None:
    """The full-marks response in canonical form (positions in the question's own order)."""
    qtype, answers = content["type"], content.get("answers", [])
    if qtype == "single_choice":
        best = max(a["fraction"] for a in answers)
        return {"choice": next(i for i, a in enumerate(answers) if a["fraction"] == best)}
    if qtype == "multiple_choice":
        return {"choices": [i for i, a in enumerate(answers) if a["fraction"] > 0]}
    if qtype == "true_false":
        return {"value": content["correct"]}
    if qtype == "short_answer":
        return {"text": next(a["text"] for a in answers if a["fraction"] >= 1)}
    if qtype == "numerical":
        value = next(a["value"] for a in answers if a["value"] is not None and a["fraction"] >= 1)
        return {"value": f"{value:g}"}
    if qtype == "matching":
        choices = matching_choices(content)
        return {
            "matches": {
                str(i): choices.index(content["pairs"][i]["answer"])
                for i in matching_stems(content)
            }
        }
    return None


def _demo_response(question: AttemptQuestion, username: str) -> dict[str, Any] | None:
    """What the student sends for one slot, as the attempt page would (display ids)."""
    content, idnumber = question.version.content, question.question.idnumber
    if content["type"] == "essay":
        return {"text": DEMO_ESSAY} if username in DEMO_ESSAY_WRITERS else None
    if idnumber not in DEMO_RIGHT_ANSWERS[username]:
        return None
    canonical = _right_response(content)
    return presentation.response_to_display(content, question.order, canonical)


def demo_attempts_load(*, quiz: Quiz, now: datetime | None = None) -> int:
    """One finished attempt each for the students of DEMO_RIGHT_ANSWERS, through the same
    services as the attempt page, acting as each student. A student who already has an
    attempt is left alone (so a re-run adds none), and so is a quiz no longer open.
    Returns how many attempts were added."""
    now = now or timezone.now()
    if quiz.closes_at is not None and quiz.closes_at <= now:
        return 0
    users = get_user_model().objects.filter(username__in=DEMO_RIGHT_ANSWERS).order_by("pk")
    added = 0
    for user in users:
        if Attempt.objects.filter(quiz=quiz, user=user).exists():
            continue
        attempt = attempt_start(actor=user, quiz=quiz, now=now, seed=user.pk)
        slots = attempt.questions.select_related("version", "question").order_by("position")
        for question in slots:
            response = _demo_response(question, user.username)
            if response is not None:
                attempt_answer_save(
                    actor=user, attempt=attempt, slot=question.position, response=response, now=now
                )
        attempt_submit(actor=user, attempt=attempt, now=now)
        added += 1
    return added
