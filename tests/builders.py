"""Class-sized data, fast: a course with N students, homework ticks, a 20-question quiz of
mixed types with finished attempts, and a lab with scored submissions, written with
bulk_create (a 300-student course in a few seconds). Shared by the query-count tests of every
app and by bench/quiz_pages.py, so the benchmark measures the data the tests pin down.

Questions and slots go through the services (versions and marks consistent); attempts are
built as `services.attempt_start` + `attempt_submit` would leave them: every question graded
by `quizzes.grading`, scores summed, essays waiting for a mark."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model

from core.actors import SYSTEM
from courseware.models import Course, HomeworkCompletion, HomeworkTask, Membership, Session
from quizzes import grading, presentation
from quizzes.models import Attempt, AttemptQuestion, Quiz
from quizzes.services import question_create, quiz_question_add

SECTIONS = ("Mon", "Tue", "Wed")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class ClassData:
    course: Course
    session: Session
    instructor: Any
    students: list = field(default_factory=list)


def class_build(n_students: int, *, code: str = "CLASS101", seed: int = 0) -> ClassData:
    """A course with an instructor, `n_students` students in three sections, two sessions
    with three homework tasks each, and about two thirds of the ticks done."""
    rng = random.Random(seed)
    User = get_user_model()
    course = Course.objects.create(code=code, slug=code.lower(), title=f"{code} class")
    instructor = User.objects.create_user(f"{code.lower()}-teacher", f"{code}@example.edu")
    Membership.objects.create(course=course, user=instructor, role=Membership.Role.INSTRUCTOR)
    students = User.objects.bulk_create(
        User(
            username=f"{code.lower()}-s{n:04d}",
            first_name=f"First{n}",
            last_name=f"Last{rng.randint(0, 999):03d}",
            email=f"{code.lower()}-s{n:04d}@example.edu",
            password="!",  # unusable: these accounts only ever use force_login
        )
        for n in range(n_students)
    )
    Membership.objects.bulk_create(
        Membership(
            course=course, user=s, role=Membership.Role.STUDENT, section=SECTIONS[n % len(SECTIONS)]
        )
        for n, s in enumerate(students)
    )
    sessions = [
        Session.objects.create(course=course, number=n, title=f"Session {n}", slide_count=0)
        for n in (1, 2)
    ]
    tasks = HomeworkTask.objects.bulk_create(
        HomeworkTask(session=session, position=p, text=f"Task {p} of {session.number}")
        for session in sessions
        for p in (1, 2, 3)
    )
    HomeworkCompletion.objects.bulk_create(
        HomeworkCompletion(task=task, student=student)
        for student in students
        for task in tasks
        if rng.random() < 0.66
    )
    return ClassData(course=course, session=sessions[0], instructor=instructor, students=students)


# --- Quiz -------------------------------------------------------------------------------------

QTYPES = (
    "single_choice",
    "multiple_choice",
    "true_false",
    "short_answer",
    "numerical",
    "matching",
    "single_choice",
    "true_false",
    "multiple_choice",
    "numerical",
)


def _content(qtype: str, n: int) -> dict[str, Any]:
    name = f"Q{n:02d} {qtype}"
    if qtype == "single_choice":
        answers = [{"text": f"Option {i}", "fraction": float(i == 0)} for i in range(4)]
        return {"type": qtype, "name": name, "text": "Pick one.", "answers": answers}
    if qtype == "multiple_choice":
        fractions = [0.5, 0.5, -1.0, -0.5]
        answers = [{"text": f"Option {i}", "fraction": f} for i, f in enumerate(fractions)]
        return {"type": qtype, "name": name, "text": "Pick all.", "answers": answers}
    if qtype == "true_false":
        return {"type": qtype, "name": name, "text": "True?", "correct": n % 2 == 0}
    if qtype == "short_answer":
        answers = [
            {"text": "transformers", "fraction": 1.0},
            {"text": "hugging*", "fraction": 0.5},
        ]
        return {"type": qtype, "name": name, "text": "Which library?", "answers": answers}
    if qtype == "numerical":
        answers = [
            {"value": 3.14, "tolerance": 0.01, "fraction": 1.0},
            {"value": 3.0, "tolerance": 0.5, "fraction": 0.5},
        ]
        return {"type": qtype, "name": name, "text": "Pi?", "answers": answers}
    if qtype == "matching":
        pairs = [{"question": f"Item {i}", "answer": f"Match {i}"} for i in range(3)]
        return {"type": qtype, "name": name, "text": "Match.", "pairs": pairs}
    if qtype == "essay":
        return {"type": qtype, "name": name, "text": "Explain."}
    return {"type": "description", "name": name, "text": "Read this first."}


def _response(qtype: str, rng: random.Random) -> dict[str, Any] | None:
    if rng.random() < 0.05:
        return None  # left blank
    if qtype == "single_choice":
        return {"choice": rng.choice([0, 0, 1, 2, 3])}
    if qtype == "multiple_choice":
        return {"choices": sorted(rng.sample(range(4), rng.randint(1, 3)))}
    if qtype == "true_false":
        return {"value": rng.random() < 0.6}
    if qtype == "short_answer":
        return {"text": rng.choice(["transformers", "huggingface", "torch"])}
    if qtype == "numerical":
        return {"value": rng.choice(["3.14", "3.1", "2", "3.141"])}
    if qtype == "matching":
        matches = list(range(3))
        if rng.random() < 0.4:
            rng.shuffle(matches)
        return {"matches": {str(i): m for i, m in enumerate(matches)}}
    if qtype == "essay":
        return {"text": "Because attention weighs every token."}
    return None


def quiz_build(klass: ClassData, *, n_questions: int = 20, seed: int = 0) -> Quiz:
    """A quiz of `n_questions` slots: a description first, one essay, the rest the
    auto-graded types in turn (marks 1 to 3). About 90% of students have finished it (a
    fifth of those twice); a few essays are still unmarked."""
    rng = random.Random(seed)
    quiz = Quiz.objects.create(
        session=klass.session,
        title="Class quiz",
        opens_at=NOW - timedelta(days=7),
        closes_at=NOW - timedelta(days=1),
        time_limit=timedelta(minutes=30),
        grading_method=Quiz.GradingMethod.HIGHEST,
        pass_percentage=50.0,
    )
    qtypes = ["description", "essay"] + [QTYPES[i % len(QTYPES)] for i in range(n_questions - 2)]
    slots = []
    for n, qtype in enumerate(qtypes, start=1):
        question = question_create(course=klass.course, content=_content(qtype, n))
        mark = 0.0 if qtype == "description" else float(1 + n % 3)
        slot = quiz_question_add(actor=SYSTEM, quiz=quiz, question=question, mark=mark)
        slots.append((slot, question, question.current_version))
    max_score = round(sum(slot.mark for slot, _, _ in slots), 7)
    attempts, questions = [], []
    for student in klass.students:
        if rng.random() < 0.1:
            continue
        for number in range(1, 3 if rng.random() < 0.2 else 2):
            started = NOW - timedelta(days=6, minutes=rng.randint(0, 600))
            attempt = Attempt(
                quiz=quiz,
                user=student,
                number=number,
                state=Attempt.State.FINISHED,
                started_at=started,
                deadline=started + timedelta(minutes=30),
                submitted_at=started + timedelta(minutes=rng.randint(5, 29)),
                max_score=max_score,
            )
            rows = []
            for position, (slot, question, version) in enumerate(slots, start=1):
                content = version.content
                response = _response(question.qtype, rng)
                graded = grading.grade(content, response)
                if question.qtype == "essay" and graded.fraction is None and rng.random() < 0.9:
                    # Marked by hand already.
                    graded = grading.Grade(rng.choice([0.0, 0.5, 1.0]), "manually_graded")
                mark = None if graded.fraction is None else round(graded.fraction * slot.mark, 7)
                rows.append(
                    AttemptQuestion(
                        position=position,
                        slot_position=slot.position,
                        question=question,
                        version=version,
                        max_mark=slot.mark,
                        order=presentation.make_order(content, shuffle=False, rng=rng),
                        response=response,
                        answered_at=None if response is None else attempt.submitted_at,
                        state=graded.state,
                        fraction=graded.fraction,
                        mark=mark,
                    )
                )
            attempt.needs_grading = any(r.state == grading.NEEDS_GRADING for r in rows)
            attempt.score = (
                None if attempt.needs_grading else round(sum(r.mark or 0 for r in rows), 7)
            )
            attempts.append(attempt)
            questions.append(rows)
    Attempt.objects.bulk_create(attempts, batch_size=2000)
    for attempt, rows in zip(attempts, questions, strict=True):
        for row in rows:
            row.attempt = attempt
    AttemptQuestion.objects.bulk_create(
        [row for rows in questions for row in rows], batch_size=5000
    )
    return quiz


# --- Lab --------------------------------------------------------------------------------------


def lab_build(klass: ClassData, *, seed: int = 0):
    """A sentiment lab, closed, with 1 to 4 submissions from about 80% of the students:
    mostly scored (public and private metrics), some failed, a few queued."""
    from labs.models import Lab, Submission

    rng = random.Random(seed)
    lab = Lab.objects.create(
        session=klass.session,
        title="Class lab",
        labels=["negative", "neutral", "positive"],
        primary_metric=Lab.Metric.MACRO_F1,
        opens_at=NOW - timedelta(days=14),
        closes_at=NOW - timedelta(days=1),
    )
    submissions = []
    for student in klass.students:
        if rng.random() < 0.2:
            continue
        for _ in range(rng.randint(1, 4)):
            roll = rng.random()
            queued = NOW - timedelta(days=rng.randint(2, 13), minutes=rng.randint(0, 900))
            metrics = {
                name: round(rng.uniform(0.3, 0.9), 4)
                for name in ("accuracy", "macro_f1", "weighted_f1")
            }
            if roll < 0.8:
                status, error = Submission.Status.SCORED, ""
            elif roll < 0.95:
                status, error = Submission.Status.FAILED, rng.choice(["bad_archive", "timeout"])
            else:
                status, error = Submission.Status.QUEUED, ""
            scored = status == Submission.Status.SCORED
            submissions.append(
                Submission(
                    lab=lab,
                    student=student,
                    artifact=f"submissions/2026/03/{student.pk}-{len(submissions)}.zip",
                    artifact_name="model.zip",
                    artifact_size=rng.randint(10_000, 90_000_000),
                    status=status,
                    error_code=error,
                    metrics_public=metrics if scored else None,
                    metrics_private=(
                        {k: round(v + rng.uniform(-0.05, 0.05), 4) for k, v in metrics.items()}
                        if scored
                        else None
                    ),
                    queued_at=queued,
                    started_at=None if status == Submission.Status.QUEUED else queued,
                    finished_at=(
                        None
                        if status == Submission.Status.QUEUED
                        else queued + timedelta(seconds=rng.randint(20, 300))
                    ),
                )
            )
    # The newest few wait in the queue, so the first page of every list shows queued ones.
    for submission in submissions[-3:]:
        submission.status, submission.error_code = Submission.Status.QUEUED, ""
        submission.metrics_public = submission.metrics_private = None
        submission.started_at = submission.finished_at = None
    Submission.objects.bulk_create(submissions, batch_size=2000)
    return lab


# --- Gradebook --------------------------------------------------------------------------------


def gradebook_build(klass: ClassData, *, n_items: int = 12, seed: int = 0) -> None:
    """Two more weighted categories (one dropping its lowest) with `n_items` manual items,
    next to the homework items the course already has; a cell for most students on most
    items (some late or excused), totals stored."""
    from gradebook import services
    from gradebook.models import GradeCell, GradeItem

    rng = random.Random(seed)
    course = klass.course
    services.gradebook_settings_update(actor=SYSTEM, course=course, weighted=True)
    categories = [
        services.grade_category_save(
            actor=SYSTEM, course=course, name=name, weight=weight, drop_lowest=drop, position=n
        )
        for n, (name, weight, drop) in enumerate([("Projects", 40.0, 1), ("Midterms", 60.0, 0)])
    ]
    items = GradeItem.objects.bulk_create(
        GradeItem(
            course=course,
            kind=GradeItem.Kind.MANUAL,
            title=f"Item {n + 1}",
            position=n,
            category=categories[n % 2],
            points_possible=10.0,
            points_set=True,
            due_at=NOW - timedelta(days=n),
            released=True,
        )
        for n in range(n_items)
    )
    GradeCell.objects.bulk_create(
        [
            GradeCell(
                item=item,
                student=student,
                score=round(rng.uniform(0, 10), 1),
                submitted_at=item.due_at + timedelta(hours=rng.choice([-1, -1, -1, 5])),
                excused=rng.random() < 0.02,
            )
            for student in klass.students
            for item in items
            if rng.random() < 0.9
        ],
        batch_size=5000,
    )
    services.gradebook_course_refresh(course=course)


# --- Query counts -----------------------------------------------------------------------------


def address(name: str, key: Any) -> str:
    """A URL name reversed with `key`, or a path with a `{}` for it (the API's lists share
    their URL names with the portal's pages, so they are given by path)."""
    from django.urls import reverse

    return name.format(key) if name.startswith("/") else reverse(name, args=[key])


def page_queries(client, user, address: str) -> int:
    """How many queries one GET of `address` costs `user` (the page must answer 200). One
    warm-up request first, so what is counted is the page's own work, not per-process caches
    (content types, the first session read) that any first request pays."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(user)
    assert client.get(address).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        response = client.get(address)
    assert response.status_code == 200, response.status_code
    return len(queries)


#: The two class sizes every list page is measured at: its query count must not change.
SMALL, LARGE = 30, 300


def uneven_query_counts(client, pages: list[tuple[Any, Any, list[str]]]) -> dict[str, tuple]:
    """pages: (small class's user, large class's user, [address at small, address at
    large]) ... -> {address: (queries at small, queries at large)} for every page whose two
    counts differ (so a failure names each page and both counts at once)."""
    uneven = {}
    for small_user, large_user, (small, large) in pages:
        counts = (page_queries(client, small_user, small), page_queries(client, large_user, large))
        if counts[0] != counts[1]:
            uneven[large] = counts
    return uneven
