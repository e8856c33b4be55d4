"""The claim / finish / sweep rules that make grading exactly-once (no worker needed)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from courseware.models import Membership
from labs import services
from labs.grading.errors import ErrorCode, GradingError
from labs.models import Submission
from labs.selectors import quota_status
from tests.factories import MembershipFactory, SubmissionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(private_storage):
    return SubmissionFactory()


def test_only_one_claim_can_win(queued):
    first = services.submission_claim(submission_id=queued.pk, worker_host="a")
    second = services.submission_claim(submission_id=queued.pk, worker_host="b")

    queued.refresh_from_db()
    assert first and second is None
    assert (queued.status, queued.worker_host, queued.attempts) == ("running", "a", 1)


def test_a_stale_claim_cannot_write_a_result(queued):
    token = services.submission_claim(submission_id=queued.pk, worker_host="a")
    services.submissions_sweep(now=timezone.now() + timedelta(hours=1))  # presumed dead
    services.submission_claim(submission_id=queued.pk, worker_host="b")

    written = services.submission_finish(
        submission_id=queued.pk, token=token, error=GradingError(ErrorCode.TIMEOUT, "late")
    )

    queued.refresh_from_db()
    assert written is False
    assert (queued.status, queued.worker_host, queued.error_code) == ("running", "b", "")


def test_the_sweeper_requeues_an_orphaned_submission_and_sends_a_new_task(
    queued, task_queue, django_capture_on_commit_callbacks
):
    services.submission_claim(submission_id=queued.pk, worker_host="dead")
    with django_capture_on_commit_callbacks(execute=True):
        report = services.submissions_sweep(now=timezone.now() + timedelta(minutes=5))

    queued.refresh_from_db()
    assert report.requeued == [queued.pk]
    assert queued.status == "queued" and queued.enqueue_count == 2
    assert task_queue == [("labs.tasks.grade_submission", queued.pk)]


def test_the_sweeper_leaves_a_live_worker_alone(queued):
    services.submission_claim(submission_id=queued.pk, worker_host="alive")

    report = services.submissions_sweep(now=timezone.now() + timedelta(seconds=5))

    queued.refresh_from_db()
    assert report.requeued == [] and queued.status == "running"


def test_the_sweeper_resends_a_submission_that_sat_queued_without_a_task(
    queued, task_queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        report = services.submissions_sweep(now=timezone.now() + timedelta(hours=1))

    assert report.requeued == [queued.pk]
    assert task_queue == [("labs.tasks.grade_submission", queued.pk)]


def test_after_three_interrupted_attempts_it_fails_as_internal_and_is_not_charged(queued):
    Submission.objects.filter(pk=queued.pk).update(attempts=2)
    services.submission_claim(submission_id=queued.pk, worker_host="dies-again")

    report = services.submissions_sweep(now=timezone.now() + timedelta(minutes=5))

    queued.refresh_from_db()
    assert report.failed == [queued.pk]
    assert (queued.status, queued.error_code, queued.charged) == ("failed", "internal", False)
    assert "does not count towards your quota" in queued.error_message
    assert quota_status(lab=queued.lab, student=queued.student).used_today == 0


def test_cancelling_a_running_submission_discards_its_result(queued):
    course = queued.lab.session.course
    instructor = MembershipFactory(course=course, role=Membership.Role.INSTRUCTOR).user
    token = services.submission_claim(submission_id=queued.pk, worker_host="a")
    services.submission_cancel(submission=queued, actor=instructor)

    written = services.submission_finish(
        submission_id=queued.pk, token=token, error=GradingError(ErrorCode.TIMEOUT, "x")
    )

    queued.refresh_from_db()
    assert written is False
    assert (queued.status, queued.charged) == ("cancelled", False)
