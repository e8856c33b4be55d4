"""An archived course's labs are read-only: no submission, Try it, re-grade, cancel or lab
change (`course_archived`, 409); the dashboard and the results CSV still open."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from core.exceptions import ApplicationError
from courseware.models import Course
from labs import services
from labs.models import Submission, TryItPrediction
from tests.factories import SubmissionFactory
from tests.labs.conftest import model_zip

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_storage", "task_queue")]


@pytest.fixture
def archived(course):
    course.state = Course.State.ARCHIVED
    course.save(update_fields=["state"])
    return course


def _refused(write) -> None:
    with pytest.raises(ApplicationError) as excinfo:
        write()
    assert excinfo.value.code == "course_archived"
    assert excinfo.value.status_code == 409


def test_a_student_neither_submits_nor_tries_a_model(lab, student, archived):
    scored = SubmissionFactory(lab=lab, student=student, status="scored")
    upload = ContentFile(model_zip(), name="model.zip")

    _refused(
        lambda: services.submission_create(
            lab=lab, actor=student, upload=upload, filename="model.zip"
        )
    )
    _refused(lambda: services.tryit_create(submission=scored, actor=student, text="hello"))
    assert Submission.objects.count() == 1 and not TryItPrediction.objects.exists()


def test_the_staff_neither_regrade_cancel_nor_edit(
    lab, student, instructor, teaching_assistant, archived
):
    queued = SubmissionFactory(lab=lab, student=student, status="queued")

    _refused(lambda: services.lab_regrade(lab=lab, actor=teaching_assistant))
    _refused(lambda: services.submission_cancel(submission=queued, actor=teaching_assistant))
    _refused(lambda: services.lab_update(lab=lab, actor=instructor, title="New"))
    queued.refresh_from_db()
    assert queued.status == "queued"


@pytest.mark.parametrize("who", ["instructor", "teaching_assistant"])
def test_the_dashboard_and_the_results_csv_still_open(request, client, lab, student, archived, who):
    SubmissionFactory(lab=lab, student=student, status="scored")
    client.force_login(request.getfixturevalue(who))

    assert client.get(reverse("labs:dashboard", args=[lab.pk])).status_code == 200
    response = client.get(reverse("labs:results-csv", args=[lab.pk]))
    assert response.status_code == 200
    assert student.username in response.content.decode()
