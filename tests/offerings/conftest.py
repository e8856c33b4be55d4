"""An offering with one of everything copying must carry (sessions, objectives, homework,
a nested question bank, a quiz with fixed and random slots, a lab with two held-out
versions) and the student data it must leave behind (members, ticks, an override, an
attempt, a submission)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission

from core.actors import SYSTEM
from courseware.models import HomeworkCompletion, Membership
from quizzes.models import QuizOverride
from quizzes.services import (
    question_category_get_or_create,
    question_create,
    quiz_create,
    quiz_question_add,
    quiz_random_questions_add,
)
from tests.factories import (
    HeldOutDatasetFactory,
    HomeworkTaskFactory,
    LabFactory,
    LearningObjectiveFactory,
    MembershipFactory,
    SessionFactory,
    SubmissionFactory,
)
from tests.labs.conftest import private_storage  # noqa: F401  (a fixture, used by name)
from tests.quizzes.conftest import single_choice, true_false

OPENS = datetime(2027, 2, 8, 9, 0, tzinfo=UTC)
DUE = datetime(2027, 2, 15, 23, 59, tzinfo=UTC)
NEW_START = date(2027, 7, 5)  # the source starts on 2027-02-01: 154 days later
OFFSET = timedelta(days=154)


def make_course_creator(user):
    user.user_permissions.add(Permission.objects.get(codename="create_course"))
    # has_perm caches the user's permissions on the instance.
    for cache in ("_perm_cache", "_user_perm_cache"):
        user.__dict__.pop(cache, None)
    return user


@pytest.fixture
def source(course, private_storage):  # noqa: F811
    course.term = "2027 S1"
    course.slug = "ICTSS00120-2027-S1"
    course.starts_on = date(2027, 2, 1)
    course.ends_on = date(2027, 6, 30)
    course.save()
    session = SessionFactory(course=course, number=1, title="Transformers", date=date(2027, 2, 8))
    objective = LearningObjectiveFactory(session=session, position=1, text="Use pipeline().")
    HomeworkTaskFactory(session=session, position=1, text="Read ch. 1", due_at=DUE)
    HomeworkTaskFactory(session=session, position=2, text="Explore the Hub.")
    parent = question_category_get_or_create(course=course, path="Week 1")
    child = question_category_get_or_create(course=course, path="Week 1/Attention")
    fixed = question_create(course=course, content=single_choice(), category=parent)
    fixed.objectives.add(objective)
    question_create(course=course, content=true_false(), category=child)
    quiz = quiz_create(
        actor=SYSTEM,
        session=session,
        title="Week 1 check",
        opens_at=OPENS,
        closes_at=OPENS + timedelta(days=7),
        time_limit=timedelta(minutes=20),
        attempts_allowed=2,
        shuffle_questions=True,
        pass_percentage=60,
    )
    quiz_question_add(actor=SYSTEM, quiz=quiz, question=fixed, mark=2)
    quiz_random_questions_add(
        actor=SYSTEM, quiz=quiz, category=parent, count=1, include_subcategories=True
    )
    lab = LabFactory(
        session=session,
        title="Sentiment lab",
        opens_at=OPENS,
        closes_at=OPENS + timedelta(days=14),
        daily_quota=3,
        leaderboard_pseudonyms=True,
    )
    HeldOutDatasetFactory(lab=lab, version=1, file__data=b"text,label\nold,negative\n")
    HeldOutDatasetFactory(lab=lab, version=2, file__data=b"text,label\nnew,positive\n")
    return course


@pytest.fixture
def student_data(source):
    """What a term of teaching leaves in the source: none of it may be copied."""
    student = MembershipFactory(course=source, role=Membership.Role.STUDENT).user
    MembershipFactory(course=source, role=Membership.Role.TEACHING_ASSISTANT)
    task = source.sessions.get().homework.first()
    HomeworkCompletion.objects.create(task=task, student=student)
    quiz = source.sessions.get().quizzes.get()
    QuizOverride.objects.create(quiz=quiz, user=student, extra_attempts=1)
    quiz.attempts.create(user=student, number=1, started_at=OPENS, state="finished", score=1)
    lab = source.sessions.get().labs.get()
    SubmissionFactory(lab=lab, student=student, status="scored", metrics_public={"macro_f1": 1})
    return student


@pytest.fixture
def copier(source):
    """An instructor of the source who may create courses."""
    user = MembershipFactory(course=source, role=Membership.Role.INSTRUCTOR).user
    return make_course_creator(user)
