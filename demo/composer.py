"""The demo course `make run` loads: ICTSS00120 with Session 12 imported from the real deck,
one instructor and three students. Development only: `load_demo` refuses without DEBUG."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from core.actors import SYSTEM
from courseware.models import Course, HomeworkTask, Membership
from courseware.services import (
    course_create,
    homework_completion_set,
    homework_due_set,
    membership_set,
    session_import_deck,
)
from gradebook.demo import demo_gradebook_load, demo_mastery_load
from labs.demo import demo_lab_load
from quizzes.demo import demo_attempts_load, demo_quiz_load

DEMO_DIR = settings.BASE_DIR / "demo"
COURSE_CODE = "ICTSS00120"
COURSE_TITLE = "Artificial Intelligence Skill Set"
DEMO_USERS = [
    ("jordan.hill", "Jordan", "Hill", Membership.Role.INSTRUCTOR),
    ("alex.chen", "Alex", "Chen", Membership.Role.STUDENT),
    ("sam.patel", "Sam", "Patel", Membership.Role.STUDENT),
    ("riley.nguyen", "Riley", "Nguyen", Membership.Role.STUDENT),
]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str


def _passwords_file() -> Path:
    return settings.VAR_DIR / "demo-logins.json"


def _demo_passwords() -> dict[str, str]:
    """Random per installation, kept under var/ so restarts keep the same logins."""
    path = _passwords_file()
    known = json.loads(path.read_text()) if path.exists() else {}
    for username, *_ in DEMO_USERS:
        known.setdefault(username, secrets.token_urlsafe(9))
    path.write_text(json.dumps(known, indent=2))
    path.chmod(0o600)
    return known


@transaction.atomic
def demo_load() -> list[DemoLogin]:
    User = get_user_model()
    passwords = _demo_passwords()
    course = Course.objects.filter(code=COURSE_CODE).first() or course_create(
        actor=SYSTEM, code=COURSE_CODE, title=COURSE_TITLE
    )
    logins = []
    for username, first, last, role in DEMO_USERS:
        user = User.objects.filter(username=username).first() or User(username=username)
        user.first_name, user.last_name = first, last
        user.email = f"{username}@students.example.edu"
        user.set_password(passwords[username])
        user.save()
        membership_set(actor=SYSTEM, course=course, user=user, role=role)
        logins.append(DemoLogin(username=username, password=passwords[username], role=role))

    deck = DEMO_DIR / "decks" / "session-12-transformers.md"
    session = session_import_deck(
        actor=SYSTEM, course=course, source=deck.read_text(encoding="utf-8"), filename=deck.name
    ).session
    due = timezone.now().replace(hour=23, minute=59, second=0, microsecond=0) + timedelta(days=7)
    tasks = list(HomeworkTask.objects.filter(session=session).order_by("position"))
    for task in tasks:
        if task.due_at is None:
            homework_due_set(actor=SYSTEM, task=task, due_at=due)
    quiz = demo_quiz_load(course=course, session=session)
    # A little progress so the instructor's completion grid shows something.
    students = [User.objects.get(username=u) for u, *_, r in DEMO_USERS if r == "student"]
    for student, done_count in zip(students, (2, 1, 0), strict=True):
        for task in tasks[:done_count]:
            homework_completion_set(actor=SYSTEM, task=task, student=student, done=True)
    # After the ticks, so each objective's latest evidence is the quiz (Riley has none).
    demo_attempts_load(quiz=quiz)
    demo_lab_load(course=course, session=session)
    demo_gradebook_load(course=course)
    demo_mastery_load(session=session)
    return logins
