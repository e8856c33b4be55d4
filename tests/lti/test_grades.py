"""AGS grade passback to a real LMS (lti1p3platform on loopback: token endpoint, line items,
scores): what is sent, when, and that retries never overwrite a later score."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from config.celery import app as celery_app
from core.exceptions import PermissionDeniedError
from gradebook.models import GradeItem
from gradebook.services import cell_override_set, gradebook_items_sync
from lti.models import CourseLink, ScoreSync
from lti.services import grades
from lti.tasks import score_send as score_send_task
from quizzes.models import Quiz
from tests.factories import LabFactory, SessionFactory
from tests.lti.platform import INSTRUCTOR, LEARNER, platform_reads_deep_link_reply

pytestmark = [pytest.mark.lti, pytest.mark.django_db]


@pytest.fixture
def eager_celery():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def placed(lms, login_url, eager_celery):
    """A linked course whose quiz (25 points) and lab were placed in the LMS by deep linking
    (the LMS made their columns), and a student who launched from it."""
    teacher = Client()
    lms.launch(teacher, login_url=login_url, user_id="t-1", roles=[INSTRUCTOR])
    course = CourseLink.objects.get().course
    session = SessionFactory(course=course, number=1)
    quiz = Quiz.objects.create(session=session, title="Attention quiz")
    lab = LabFactory(session=session, title="Sentiment lab")
    gradebook_items_sync(course=course)
    GradeItem.objects.filter(kind="quiz", source_id=quiz.pk).update(
        points_possible=25, points_set=True
    )
    lms.launch(teacher, login_url=login_url, user_id="t-1", roles=[INSTRUCTOR], deep_link=True)
    reply = teacher.post(
        "/lti/deep-link/pick/", {"resource": [f"quiz:{quiz.pk}", f"lab:{lab.pk}"]}
    ).content.decode()
    jwt_value = re.search(r'name="JWT" value="([^"]+)"', reply).group(1)
    lms.tool_jwks = teacher.get("/lti/jwks/").json()
    lms.add_line_items_from(platform_reads_deep_link_reply(jwt_value, lms.tool_jwks))
    # The LMS's links carry the items' custom parameters; a student opens the quiz.
    lms.launch(
        Client(),
        login_url=login_url,
        user_id="s-1",
        roles=[LEARNER],
        resource_link_id="placed-quiz",
        custom={"resource": f"quiz:{quiz.pk}"},
    )
    lms.launch(
        Client(),
        login_url=login_url,
        user_id="t-1",
        roles=[INSTRUCTOR],
        resource_link_id="placed-lab",
        custom={"resource": f"lab:{lab.pk}"},
    )
    teacher_user = course.memberships.get(role="instructor").user
    student = course.memberships.get(role="student").user
    quiz_item = GradeItem.objects.get(kind="quiz", source_id=quiz.pk)
    return course, teacher_user, student, quiz, quiz_item


def _override(teacher, item, student, points, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        cell_override_set(
            actor=teacher, item=item, student=student, override=points, reason="re-marked"
        )


def test_a_gradebook_override_reaches_the_lms_line_item(
    lms, placed, django_capture_on_commit_callbacks
):
    _course, teacher, student, quiz, item = placed
    _override(teacher, item, student, 20, django_capture_on_commit_callbacks)
    [score] = lms.scores_for("s-1")
    quiz_column = next(li for li in lms.line_items if li["resourceId"] == f"quiz:{quiz.pk}")
    assert score["lineitem"] == quiz_column["id"]
    assert (score["scoreGiven"], score["scoreMaximum"]) == (20.0, 25.0)
    assert (score["activityProgress"], score["gradingProgress"]) == ("Completed", "FullyGraded")
    assert score["timestamp"]
    sync = ScoreSync.objects.get(resource=f"quiz:{quiz.pk}")
    assert (sync.state, sync.sent_version, sync.version) == ("sent", 1, 1)
    # The LMS gave a token only for the tool's signed client assertion.
    assert "POST /token" in lms.requests_seen


def test_an_unchanged_score_is_not_sent_again(lms, placed, django_capture_on_commit_callbacks):
    course, teacher, student, _quiz, item = placed
    _override(teacher, item, student, 20, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        grades.scores_refresh(course=course, student_ids=[student.pk])
    assert len(lms.scores_for("s-1")) == 1


def test_a_late_retry_of_an_older_score_never_replaces_a_newer_one(
    lms, placed, django_capture_on_commit_callbacks
):
    _course, teacher, student, quiz, item = placed
    _override(teacher, item, student, 20, django_capture_on_commit_callbacks)
    _override(teacher, item, student, 22, django_capture_on_commit_callbacks)
    sync = ScoreSync.objects.get(resource=f"quiz:{quiz.pk}")
    assert (sync.version, sync.sent_version, sync.score_given) == (2, 2, 22.0)
    # Version 1's task delivered again (a broker redelivery or a late retry): nothing sent.
    assert grades.score_send(sync_id=sync.pk, version=1) == "stale"
    # Version 2's delivered twice: already sent, nothing sent.
    assert grades.score_send(sync_id=sync.pk, version=2) == "stale"
    assert [s["scoreGiven"] for s in lms.scores_for("s-1")] == [20.0, 22.0]
    first, second = lms.scores_for("s-1")
    assert first["timestamp"] < second["timestamp"]


def test_the_task_retries_when_the_lms_fails_and_then_sends(
    lms, placed, django_capture_on_commit_callbacks
):
    _course, teacher, student, quiz, item = placed
    lms.fail_next = 2
    _override(teacher, item, student, 18, django_capture_on_commit_callbacks)
    # Celery's autoretry ran the task again (eagerly here: no backoff wait) until it got through.
    sync = ScoreSync.objects.get(resource=f"quiz:{quiz.pk}")
    assert (sync.state, sync.attempts) == ("sent", 3)
    assert [s["scoreGiven"] for s in lms.scores_for("s-1")] == [18.0]


def test_a_send_that_keeps_failing_gives_up_after_its_retries_and_says_why(
    lms, placed, django_capture_on_commit_callbacks
):
    _course, teacher, student, quiz, item = placed
    lms.fail_next = 100
    _override(teacher, item, student, 18, django_capture_on_commit_callbacks)
    sync = ScoreSync.objects.get(resource=f"quiz:{quiz.pk}")
    # The first try and max_retries (8) retries, then the task stops.
    assert (sync.state, sync.attempts) == ("failed", 1 + score_send_task.max_retries)
    assert "503" in sync.last_error
    assert lms.scores_for("s-1") == []
    # The LMS is back: the same version goes through (the instructor's resend does this).
    lms.fail_next = 0
    assert grades.score_send(sync_id=sync.pk, version=sync.version) == "sent"
    assert [s["scoreGiven"] for s in lms.scores_for("s-1")] == [18.0]


def test_an_item_without_an_lms_column_is_marked_so(
    lms, placed, django_capture_on_commit_callbacks
):
    _course, teacher, student, quiz, item = placed
    lms.line_items.clear()
    _override(teacher, item, student, 20, django_capture_on_commit_callbacks)
    sync = ScoreSync.objects.get(resource=f"quiz:{quiz.pk}")
    assert sync.state == "no_line_item" and "deep linking" in sync.last_error
    assert lms.scores_for("s-1") == []


def test_only_the_courses_instructor_can_resend(lms, placed, django_capture_on_commit_callbacks):
    _course, teacher, student, quiz, item = placed
    _override(teacher, item, student, 20, django_capture_on_commit_callbacks)
    sync = ScoreSync.objects.get(resource=f"quiz:{quiz.pk}")
    with pytest.raises(PermissionDeniedError):
        grades.score_resend(actor=student, sync=sync)
    with django_capture_on_commit_callbacks(execute=True):
        grades.score_resend(actor=teacher, sync=sync)
    sync.refresh_from_db()
    assert (sync.version, sync.sent_version) == (2, 2)
    assert [s["scoreGiven"] for s in lms.scores_for("s-1")] == [20.0, 20.0]
