"""The lab pipeline with private files in S3 (a real S3 server process, tests/s3.py) and a real
Celery worker that reads them from the bucket with its own credentials: its local private
directory is empty and stays empty. Upload → scored, held-out upload, re-grade, Try it and the
results CSV all go through the portal."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from courseware.models import Membership
from labs import services
from labs.models import HeldOutDataset, Submission, TryItPrediction
from tests.factories import MembershipFactory, SessionFactory
from tests.labs.grading.tiny import LABELS, build_tiny_model, make_archive, write_dataset
from tests.labs.pipeline import enrol_student, flush_broker, heldout_rows, wait_until, worker_env
from tests.s3 import S3TestStorage
from tests.workers import celery_worker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.s3, pytest.mark.django_db(transaction=True)]

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(scope="module")
def s3_prefix() -> str:
    """One prefix for the module: the warm worker below is started with it."""
    return f"pipeline-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def worker_private_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("worker-private")


@pytest.fixture(scope="module")
def worker(django_db_setup, s3_server_process, s3_prefix, worker_private_dir, tmp_path_factory):
    """One warm worker for the module, pointed at the bucket (and at an empty local private
    directory, so a file it could only have found on the web host's disk fails the job)."""
    flush_broker()
    storage = S3TestStorage(server=s3_server_process, prefix=s3_prefix, private=None)
    env = worker_env(**storage.env(), PRIVATE_STORAGE_ROOT=str(worker_private_dir))
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    with celery_worker(env=env, log_path=log) as process:
        yield process


@pytest.fixture(scope="module")
def model_archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("s3-model")
    return make_archive(build_tiny_model(root / "model", seed=3), root / "model.zip").read_bytes()


def _heldout_csv(tmp_path, copies: int = 4) -> bytes:
    return write_dataset(tmp_path / f"heldout-{copies}.csv", heldout_rows(copies)).read_bytes()


def _lab_with_heldout_uploaded_in_the_portal(tmp_path):
    session = SessionFactory()
    instructor = MembershipFactory(course=session.course, role=Membership.Role.INSTRUCTOR).user
    lab = services.lab_create(
        actor=instructor, session=session, title="Sentiment lab", labels=list(LABELS)
    )
    client = Client()
    client.force_login(instructor)
    response = client.post(
        reverse("labs:dataset", args=[lab.pk]),
        {"dataset": SimpleUploadedFile("heldout.csv", _heldout_csv(tmp_path), "text/csv")},
    )
    assert response.status_code == 302, response.content
    return lab, client


def _scored_upload(lab, model_archive) -> tuple[Submission, Client]:
    student = enrol_student(lab)
    client = Client()
    client.force_login(student)
    response = client.post(
        reverse("labs:submission-create", args=[lab.pk]),
        {"archive": SimpleUploadedFile("model.zip", model_archive, "application/zip")},
        **HTMX,
    )
    assert response.status_code == 201, response.content
    submission = wait_until(Submission.objects.get(lab=lab, student=student))
    assert submission.status == Submission.Status.SCORED, submission.error_message
    return submission, client


def test_an_upload_is_scored_by_a_worker_reading_the_bucket_and_is_in_the_results_csv(
    tmp_path, worker, worker_private_dir, s3_storage, model_archive
):
    lab, instructor_client = _lab_with_heldout_uploaded_in_the_portal(tmp_path)

    submission, _ = _scored_upload(lab, model_archive)

    dataset = HeldOutDataset.objects.get(lab=lab)
    assert s3_storage.private_keys() == sorted(
        [
            f"{s3_storage.private_prefix}/{dataset.file.name}",
            f"{s3_storage.private_prefix}/{submission.artifact.name}",
        ]
    )
    assert list(worker_private_dir.iterdir()) == []
    assert submission.dataset_id == dataset.pk
    response = instructor_client.get(reverse("labs:results-csv", args=[lab.pk]))
    assert response.status_code == 200
    (row,) = csv.DictReader(io.StringIO(response.content.decode()))
    assert row["submission_id"] == str(submission.pk)
    assert row["status"] == "scored"
    assert float(row["public_accuracy"]) == pytest.approx(submission.metrics_public["accuracy"])
    assert row["dataset_version"] == "1"


def test_a_new_held_out_version_re_grades_from_the_bucket(
    tmp_path, worker, s3_storage, model_archive
):
    lab, instructor_client = _lab_with_heldout_uploaded_in_the_portal(tmp_path)
    submission, _ = _scored_upload(lab, model_archive)

    response = instructor_client.post(
        reverse("labs:dataset", args=[lab.pk]),
        {
            "dataset": SimpleUploadedFile("v2.csv", _heldout_csv(tmp_path, copies=2), "text/csv"),
            "regrade": "on",
        },
    )

    assert response.status_code == 302, response.content
    v2 = HeldOutDataset.objects.get(lab=lab, version=2)

    def regraded() -> bool:
        submission.refresh_from_db()
        return submission.dataset_id == v2.pk and submission.regrade_requested_at is None

    assert wait_for(regraded, timeout=90), submission.regrade_error
    assert submission.regrade_error == ""
    assert submission.metrics_public["n"] + submission.metrics_private["n"] == v2.row_count


def test_try_it_runs_the_model_read_from_the_bucket(tmp_path, worker, s3_storage, model_archive):
    lab, _ = _lab_with_heldout_uploaded_in_the_portal(tmp_path)
    submission, student_client = _scored_upload(lab, model_archive)

    response = student_client.post(
        reverse("labs:try-it", args=[submission.pk]), {"text": "what a lovely day"}, **HTMX
    )

    assert response.status_code in (200, 201, 202), response.content
    prediction = TryItPrediction.objects.get(submission=submission)

    def answered() -> bool:
        prediction.refresh_from_db()
        return prediction.status in (TryItPrediction.Status.DONE, TryItPrediction.Status.FAILED)

    assert wait_for(answered, timeout=90)
    assert prediction.status == TryItPrediction.Status.DONE, prediction.error_message
    assert prediction.label in LABELS
