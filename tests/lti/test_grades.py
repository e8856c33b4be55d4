"""AGS grade passback to a real LMS (lti1p3platform on loopback: token endpoint, line items,
scores): what is sent, when, and that retries never overwrite a later score."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.test import Client
from django.utils import timezone

from config.celery import app as celery_app
from core.actors import SYSTEM
from core.exceptions import PermissionDeniedError
from courseware.models import Membership
from gradebook.models import GradeItem
from gradebook.services import cell_override_set, gradebook_items_sync
from labs.models import Lab
from labs.services.grading import submission_claim, submission_finish
from lti.models import CourseLink, ScoreSync
from lti.services import grades
from lti.tasks import score_send as score_send_task
from lti.tasks import scores_refresh_linked
from quizzes.models import Quiz
from quizzes.services import attempt_start, attempt_submit, question_create, quiz_question_add
from tests.factories import (
    CourseFactory,
    LabFactory,
    MembershipFactory,
    SessionFactory,
    SubmissionFactory,
)
from tests.lti.platform import INSTRUCTOR, LEARNER, platform_reads_deep_link_reply
from tests.quizzes.conftest import NOW, QuizFactory, true_false

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


def _place(lms, login_url, teacher_client, resources):
    lms.launch(
        teacher_client, login_url=login_url, user_id="t-1", roles=[INSTRUCTOR], deep_link=True
    )
    reply = teacher_client.post("/lti/deep-link/pick/", {"resource": resources}).content.decode()
    jwt_value = re.search(r'name="JWT" value="([^"]+)"', reply).group(1)
    lms.tool_jwks = teacher_client.get("/lti/jwks/").json()
    lms.add_line_items_from(platform_reads_deep_link_reply(jwt_value, lms.tool_jwks))


@pytest.fixture
def linked(lms, login_url, eager_celery):
    teacher = Client()
    lms.launch(teacher, login_url=login_url, user_id="t-1", roles=[INSTRUCTOR])
    student_client = Client()
    lms.launch(student_client, login_url=login_url, user_id="s-1", roles=[LEARNER])
    course = CourseLink.objects.get().course
    student = course.memberships.get(role="student").user
    return course, teacher, student


def test_a_submitted_quiz_attempt_reaches_the_lms(
    lms, login_url, linked, django_capture_on_commit_callbacks
):
    course, teacher, student = linked
    session = SessionFactory(course=course, number=2)
    quiz = QuizFactory(session=session, opens_at=NOW - timedelta(hours=1))
    question = question_create(course=course, content=true_false())
    quiz_question_add(actor=SYSTEM, quiz=quiz, question=question, mark=2)
    _place(lms, login_url, teacher, [f"quiz:{quiz.pk}"])
    with django_capture_on_commit_callbacks(execute=True):
        attempt = attempt_start(actor=student, quiz=quiz, now=NOW)
        attempt_submit(
            actor=student,
            attempt=attempt,
            responses={1: {"value": False}},
            now=NOW + timedelta(minutes=2),
        )
    [score] = lms.scores_for("s-1")
    assert (score["scoreGiven"], score["scoreMaximum"]) == (2.0, 2.0)
    assert score["gradingProgress"] == "FullyGraded"


def _score_lab(lab, student, django_capture_on_commit_callbacks, *, public, private):
    submission = SubmissionFactory(lab=lab, student=student)
    token = submission_claim(submission_id=submission.pk, worker_host="test")
    result = SimpleNamespace(
        metrics_public={"macro_f1": public},
        metrics_private={"macro_f1": private},
        notes=[],
        grader_version="test",
        timings={},
    )
    with django_capture_on_commit_callbacks(execute=True):
        submission_finish(submission_id=submission.pk, token=token, result=result)


def test_a_scored_lab_submission_reaches_the_lms_with_the_private_score_once_closed(
    lms, login_url, linked, django_capture_on_commit_callbacks
):
    course, teacher, student = linked
    session = SessionFactory(course=course, number=3)
    lab = LabFactory(session=session, closes_at=timezone.now() + timedelta(hours=1))
    _place(lms, login_url, teacher, [f"lab:{lab.pk}"])

    def scored(public: float, private: float):
        _score_lab(lab, student, django_capture_on_commit_callbacks, public=public, private=private)

    # Open: the public score is provisional, and this course does not send provisional scores.
    scored(0.5, 0.4)
    assert lms.scores_for("s-1") == []
    # Closed: the periodic refresh sends the private score (10 points: the lab's gradebook max).
    Lab.objects.filter(pk=lab.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        scores_refresh_linked.delay()
    [score] = lms.scores_for("s-1")
    assert (score["scoreGiven"], score["scoreMaximum"]) == (4.0, 10.0)
    # A better submission scored after the close (e.g. a re-grade) is sent at once (its event).
    scored(0.9, 0.8)
    assert [s["scoreGiven"] for s in lms.scores_for("s-1")] == [4.0, 8.0]


def test_the_instructor_sees_whether_the_lms_has_each_score_and_resends(
    lms, placed, django_capture_on_commit_callbacks
):
    course, teacher, student, quiz, item = placed
    _override(teacher, item, student, 20, django_capture_on_commit_callbacks)
    client = Client()
    client.force_login(teacher)
    page = client.get(f"/courses/{course.slug}/lti/")
    html = page.content.decode()
    assert "Attention quiz" in html and "The LMS has the current score" in html
    sync = ScoreSync.objects.get(resource=f"quiz:{quiz.pk}")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/courses/{course.slug}/lti/scores/{sync.pk}/resend/")
    assert response.status_code == 302
    assert [s["scoreGiven"] for s in lms.scores_for("s-1")] == [20.0, 20.0]
    student_client = Client()
    student_client.force_login(student)
    assert student_client.get(f"/courses/{course.slug}/lti/").status_code == 403
    assert (
        student_client.post(f"/courses/{course.slug}/lti/scores/{sync.pk}/resend/").status_code
        == 403
    )


def test_an_instructor_who_allows_provisional_scores_sends_the_open_labs_public_score(
    lms, login_url, linked, django_capture_on_commit_callbacks
):
    course, teacher, student = linked
    lab = LabFactory(
        session=SessionFactory(course=course, number=4),
        closes_at=timezone.now() + timedelta(hours=1),
    )
    _place(lms, login_url, teacher, [f"lab:{lab.pk}"])
    _score_lab(lab, student, django_capture_on_commit_callbacks, public=0.5, private=0.4)
    assert lms.scores_for("s-1") == []  # provisional scores are off by default

    link = CourseLink.objects.get(course=course)
    url = f"/courses/{course.slug}/lti/links/{link.pk}/provisional/"
    with django_capture_on_commit_callbacks(execute=True):
        response = teacher.post(url, {"send_provisional": "1"}, follow=True)
    assert b"Provisional lab scores now go to the LMS" in response.content
    [score] = lms.scores_for("s-1")
    # The public score (5 of the lab's 10 points), marked as not final.
    assert (score["scoreGiven"], score["scoreMaximum"]) == (5.0, 10.0)
    assert score["gradingProgress"] != "FullyGraded"

    with django_capture_on_commit_callbacks(execute=True):
        teacher.post(url, {"send_provisional": "0"})
    link.refresh_from_db()
    assert link.send_provisional is False
    _score_lab(lab, student, django_capture_on_commit_callbacks, public=0.9, private=0.8)
    assert len(lms.scores_for("s-1")) == 1  # nothing new sent while it is off


def test_only_the_courses_instructor_may_switch_provisional_scores(lms, linked):
    course, teacher, _student = linked
    link = CourseLink.objects.get(course=course)
    url = f"/courses/{course.slug}/lti/links/{link.pk}/provisional/"
    ta = MembershipFactory(course=course, role=Membership.Role.TEACHING_ASSISTANT).user
    student = MembershipFactory(course=course).user
    other_student = MembershipFactory(course=CourseFactory()).user
    assert Client().post(url, {"send_provisional": "1"}).status_code == 302  # to the login
    for user, status in ((other_student, 404), (student, 403), (ta, 403)):
        client = Client()
        client.force_login(user)
        assert client.post(url, {"send_provisional": "1"}).status_code == status
        assert client.get(f"/courses/{course.slug}/lti/").status_code == status
    link.refresh_from_db()
    assert link.send_provisional is False
    with pytest.raises(PermissionDeniedError):
        grades.course_link_provisional_set(actor=ta, link=link, send=True)
    assert teacher.post(url, {"send_provisional": "1"}).status_code == 302
    link.refresh_from_db()
    assert link.send_provisional is True
