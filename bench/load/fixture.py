"""The load benchmark's data, written into its own fresh database (bench/load/run.py): the
demo course, the students, a 20-question timed quiz and a small model archive to upload.

Runs inside run.py's process after `django.setup()`; it writes through the services where one
exists, and with `bulk_create` for the hundreds of students (one password hash, reused: every
student has the same known password, and hashing 430 times would only slow the set-up)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from core.actors import SYSTEM
from courseware.models import Course, HomeworkTask, Membership, Session
from demo.composer import COURSE_CODE, demo_load
from labs.demo import LAB_TITLE
from labs.models import Lab
from quizzes.models import Quiz
from quizzes.services import question_bank_import, quiz_create, quiz_question_add, quiz_update

PASSWORD = "load-bench-Password-1"
QUIZ_TITLE = "Load benchmark: 20-question timed quiz"
QUESTIONS = 20


def _gift() -> str:
    """20 short-answer questions: any typed text is a valid answer to autosave."""
    blocks = [
        f"// [id:load-q{n}]\n::Load question {n}::Type the word for question {n}.{{=answer{n}}}\n"
        for n in range(1, QUESTIONS + 1)
    ]
    return "$CATEGORY: $course$/top/Load benchmark\n\n" + "\n".join(blocks)


def usernames(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{i:03d}" for i in range(1, count + 1)]


@transaction.atomic
def _students(course: Course, names: list[str]) -> None:
    User = get_user_model()
    password = make_password(PASSWORD)  # once: Argon2id, as for any other login
    users = User.objects.bulk_create(
        [
            User(
                username=name,
                first_name=name.title(),
                last_name="Student",
                email=f"{name}@students.example.edu",
                password=password,
            )
            for name in names
        ]
    )
    Membership.objects.bulk_create(
        [Membership(course=course, user=user, role=Membership.Role.STUDENT) for user in users]
    )


@transaction.atomic
def _quiz(course: Course, session: Session) -> Quiz:
    bank = question_bank_import(actor=SYSTEM, course=course, source=_gift(), session=session)
    now = timezone.now()
    quiz = quiz_create(
        actor=SYSTEM,
        session=session,
        title=QUIZ_TITLE,
        intro="Twenty questions, one attempt.",
        opens_at=now - timedelta(minutes=5),
        closes_at=now + timedelta(hours=2),  # moved to the run's deadline by set_deadline
        time_limit=timedelta(hours=1),  # longer than the run: the close date is the deadline
        attempts_allowed=1,
        shuffle_answers=False,
    )
    for question in bank.questions:
        quiz_question_add(actor=SYSTEM, quiz=quiz, question=question)
    return quiz


def build(*, quiz_takers: int, browsers: int, uploaders: int) -> dict[str, Any]:
    """Write everything; returns the ids and names the Locust users need."""
    demo_load()
    course = Course.objects.get(code=COURSE_CODE)
    lab = Lab.objects.select_related("session").get(session__course=course, title=LAB_TITLE)
    session = lab.session
    groups = {
        "quiz": usernames("quiz", quiz_takers),
        "browse": usernames("browse", browsers),
        "upload": usernames("upload", uploaders),
    }
    _students(course, [name for names in groups.values() for name in names])
    quiz = _quiz(course, session)
    tasks = list(
        HomeworkTask.objects.filter(session=session)
        .order_by("position")
        .values_list("pk", flat=True)
    )
    return {
        "password": PASSWORD,
        "users": groups,
        "course_slug": course.slug,
        "session_number": session.number,
        "homework_task_ids": tasks,
        "lab_id": lab.pk,
        "quiz_id": quiz.pk,
    }


def set_deadline(quiz_id: int, deadline) -> None:
    """The quiz closes at the run's deadline (everyone submits in the minute before it)."""
    quiz_update(actor=SYSTEM, quiz=Quiz.objects.get(pk=quiz_id), data={"closes_at": deadline})
