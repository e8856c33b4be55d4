"""The S3 server unreachable during an upload (a real server process, stopped by the test):
the student or instructor gets `storage_unavailable` with what to do, through the web form and
the API, and nothing half-written is left: no row, no quota used, no object in the bucket."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from courseware import services as courseware_services
from labs.models import HeldOutDataset, Submission
from labs.selectors import quota_status
from tests.factories import HeldOutDatasetFactory, LabFactory
from tests.labs.conftest import model_zip

pytestmark = [pytest.mark.s3, pytest.mark.django_db]

HTMX = {"HTTP_HX_REQUEST": "true"}
HELDOUT_CSV = b"text,label\nbad,negative\nok,neutral\ngood,positive\n"


@pytest.fixture
def lab(session12, s3_storage):
    """An open lab whose held-out set is already in the bucket."""
    now = timezone.now()
    lab = LabFactory(
        session=session12,
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=7),
        daily_quota=3,
    )
    HeldOutDatasetFactory(lab=lab, version=1, file__data=HELDOUT_CSV)
    return lab


def _stop_as_the_upload_is_sent(storage, server) -> None:
    """Stop the server the moment the archive's PUT is about to go out: the service has
    already reached the server (it checked the name is free), then it goes away."""

    def stop(**_):
        server.stop()

    storage.connection.meta.client.meta.events.register("before-send.s3.PutObject", stop)


def _assert_nothing_was_kept(lab, student, s3_storage) -> None:
    assert not Submission.objects.exists()
    assert quota_status(lab=lab, student=student).left_today == lab.daily_quota
    s3_storage.server.start()
    assert [key for key in s3_storage.private_keys() if "/submissions/" in key] == []


def test_a_web_upload_while_the_server_is_down_is_refused_and_keeps_nothing(
    lab, student, s3_storage
):
    client = Client()
    client.force_login(student)
    s3_storage.server.stop()

    response = client.post(
        reverse("labs:submission-create", args=[lab.pk]),
        {"archive": SimpleUploadedFile("model.zip", model_zip(), "application/zip")},
        **HTMX,
    )

    assert response.status_code == 503
    html = response.content.decode()
    assert 'data-code="storage_unavailable"' in html
    assert "your upload was not saved and nothing was counted against your quota" in html
    _assert_nothing_was_kept(lab, student, s3_storage)


def test_the_form_without_js_shows_the_error_on_the_lab_page(lab, student, s3_storage):
    client = Client()
    client.force_login(student)
    s3_storage.server.stop()

    response = client.post(
        reverse("labs:submission-create", args=[lab.pk]),
        {"archive": SimpleUploadedFile("model.zip", model_zip(), "application/zip")},
    )

    assert response.status_code == 503
    html = response.content.decode()
    assert "The file store could not be reached" in html
    assert 'id="upload-form"' in html
    assert re.search(rf"<strong>{lab.daily_quota}</strong>\s+submissions left today", html)
    _assert_nothing_was_kept(lab, student, s3_storage)


def test_an_api_upload_when_the_server_goes_away_mid_upload_is_refused_and_keeps_nothing(
    lab, student, s3_storage
):
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {courseware_services.api_token_create(actor=student).key}"
    )
    _stop_as_the_upload_is_sent(s3_storage.private, s3_storage.server)

    response = client.post(
        reverse("labs_api:lab-submissions", kwargs={"lab_id": lab.pk}),
        {"archive": SimpleUploadedFile("model.zip", model_zip(), "application/zip")},
        format="multipart",
    )

    assert not s3_storage.server.running  # the fault really happened during this upload
    assert response.status_code == 503, response.content
    body = response.json()
    assert body["code"] == "storage_unavailable"
    assert "Try again in a few minutes" in body["message"]
    _assert_nothing_was_kept(lab, student, s3_storage)


def test_a_held_out_upload_while_the_server_is_down_is_refused_and_keeps_nothing(
    lab, instructor, s3_storage
):
    client = Client()
    client.force_login(instructor)
    s3_storage.server.stop()

    response = client.post(
        reverse("labs:dataset", args=[lab.pk]),
        {"dataset": SimpleUploadedFile("h.csv", HELDOUT_CSV, "text/csv")},
    )

    assert response.status_code == 503
    assert "The file store could not be reached" in response.content.decode()
    assert list(HeldOutDataset.objects.values_list("version", flat=True)) == [1]
    s3_storage.server.start()
    assert len([key for key in s3_storage.private_keys() if "/heldout/" in key]) == 1


def test_the_upload_works_again_once_the_server_is_back(lab, student, s3_storage):
    client = Client()
    client.force_login(student)
    s3_storage.server.stop()
    s3_storage.server.start()

    response = client.post(
        reverse("labs:submission-create", args=[lab.pk]),
        {"archive": SimpleUploadedFile("model.zip", model_zip(), "application/zip")},
        **HTMX,
    )

    assert response.status_code == 201
    submission = Submission.objects.get()
    assert s3_storage.private_keys() == sorted(
        [f"{s3_storage.private_prefix}/{submission.artifact.name}"]
        + [f"{s3_storage.private_prefix}/{d.file.name}" for d in HeldOutDataset.objects.all()]
    )
