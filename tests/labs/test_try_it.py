"""The "Try it" box: a sentence through a scored submission's model, on a worker (the service is
called directly here: no worker process), and the HTMX flow around it; owner and instructors
only."""

from __future__ import annotations

import math
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.exceptions import ApplicationError
from courseware.models import Membership
from labs import services, tasks
from labs.models import Submission, TryItPrediction
from labs.services import tryit
from tests.factories import MembershipFactory, SubmissionFactory
from tests.labs.grading.tiny import LABELS, build_tiny_model, make_archive

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_storage")]

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(scope="module")
def tiny_archive(tmp_path_factory) -> tuple[bytes, object]:
    root = tmp_path_factory.mktemp("tiny")
    model_dir = build_tiny_model(root / "model", seed=5)
    return make_archive(model_dir, root / "model.zip").read_bytes(), model_dir


@pytest.fixture
def sent(monkeypatch) -> list[int]:
    """try_it_predict tasks, recorded instead of sent to the broker."""
    calls: list[int] = []
    monkeypatch.setattr(
        tasks.try_it_predict, "apply_async", lambda args=None, **_kw: calls.append(args[0])
    )
    return calls


@pytest.fixture
def model_submission(lab, student, tiny_archive) -> Submission:
    data, _ = tiny_archive
    return SubmissionFactory(
        lab=lab,
        student=student,
        status=Submission.Status.SCORED,
        artifact__data=data,
        artifact__filename="model.zip",
        metrics_public={"macro_f1": 0.5},
        finished_at=timezone.now(),
    )


def reference_label(model_dir, text: str) -> str:
    """An independent reference: the plain transformers forward pass."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    with torch.no_grad():
        logits = model(**tokenizer(text, return_tensors="pt", truncation=True)).logits
    return model.config.id2label[int(logits.argmax())]


# --- The service end to end ----------------------------------------------------------------------


def test_a_prediction_runs_in_the_sandbox_and_matches_the_model(
    model_submission, student, tiny_archive, sent, django_capture_on_commit_callbacks
):
    _, model_dir = tiny_archive
    text = "the acting was wonderful"
    with django_capture_on_commit_callbacks(execute=True):
        prediction = services.tryit_create(submission=model_submission, actor=student, text=text)
    assert prediction.status == TryItPrediction.Status.QUEUED
    assert sent == [prediction.pk]

    outcome = services.tryit_run(prediction_id=prediction.pk)

    prediction.refresh_from_db()
    assert outcome == "done", prediction.error_message
    assert prediction.status == TryItPrediction.Status.DONE
    assert prediction.label == reference_label(model_dir, text)
    assert sorted(prediction.scores) == sorted(LABELS)  # jsonb does not keep key order
    assert math.isclose(sum(prediction.scores.values()), 1.0, rel_tol=1e-6)
    assert prediction.scores[prediction.label] == max(prediction.scores.values())
    assert prediction.started_at and prediction.finished_at
    # A second run of the same request is a no-op (exactly once).
    assert services.tryit_run(prediction_id=prediction.pk) == "skipped: not queued"


def test_the_task_calls_the_service(model_submission, student, sent):
    prediction = services.tryit_create(submission=model_submission, actor=student, text="bad food")
    assert tasks.try_it_predict.run(prediction.pk) == "done"
    prediction.refresh_from_db()
    assert prediction.label in LABELS


def test_a_broken_artifact_fails_with_its_grading_error(lab, student, sent):
    submission = SubmissionFactory(
        lab=lab, student=student, status="scored", artifact__data=b"not a zip at all"
    )
    prediction = services.tryit_create(submission=submission, actor=student, text="hello")

    assert services.tryit_run(prediction_id=prediction.pk) == "failed"

    prediction.refresh_from_db()
    assert prediction.error_code == "invalid_archive"
    assert prediction.error_message
    assert prediction.label == ""


def test_the_short_time_limit_applies(model_submission, student, sent, monkeypatch):
    monkeypatch.setattr(tryit, "TRY_IT_TIMEOUT_S", 0.001)
    prediction = services.tryit_create(submission=model_submission, actor=student, text="hello")

    services.tryit_run(prediction_id=prediction.pk)

    prediction.refresh_from_db()
    assert prediction.status == TryItPrediction.Status.FAILED
    assert prediction.error_code == "timeout"


# --- Who may try a submission ---------------------------------------------------------------------


def test_owner_and_instructors_only(
    model_submission, student, instructor, other_student, course, sent
):
    classmate = MembershipFactory(course=course, role=Membership.Role.STUDENT).user
    assert services.tryit_create(submission=model_submission, actor=instructor, text="ok")
    for outsider in (classmate, other_student):
        with pytest.raises(ApplicationError) as info:
            services.tryit_create(submission=model_submission, actor=outsider, text="ok")
        assert info.value.code == "not_found"
    assert TryItPrediction.objects.count() == 1


@pytest.mark.parametrize(
    ("status", "text", "code"),
    [
        ("queued", "hello", "not_scored"),
        ("failed", "hello", "not_scored"),
        ("scored", "   ", "invalid_input"),
        ("scored", "x" * 1001, "invalid_input"),
    ],
)
def test_only_a_scored_submission_and_a_real_sentence(lab, student, sent, status, text, code):
    submission = SubmissionFactory(lab=lab, student=student, status=status)
    with pytest.raises(ApplicationError) as info:
        services.tryit_create(submission=submission, actor=student, text=text)
    assert info.value.code == code
    assert not TryItPrediction.objects.exists()


def test_too_many_pending_predictions_are_refused(model_submission, student, sent):
    for i in range(services.TRY_IT_MAX_PENDING):
        services.tryit_create(submission=model_submission, actor=student, text=f"text {i}")
    with pytest.raises(ApplicationError) as info:
        services.tryit_create(submission=model_submission, actor=student, text="one more")
    assert info.value.code == "too_many_requests"


# --- The page flow (HTMX) -------------------------------------------------------------------------


def test_the_try_it_flow_polls_until_the_prediction_is_in(
    model_submission, student, sent, django_capture_on_commit_callbacks
):
    client = Client()
    client.force_login(student)
    page = client.get(
        reverse("labs:submission-detail", args=[model_submission.pk])
    ).content.decode()
    assert 'id="try-it"' in page
    assert f'hx-post="{reverse("labs:try-it", args=[model_submission.pk])}"' in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("labs:try-it", args=[model_submission.pk]),
            {"text": "terrible plot and bad acting"},
            **HTMX,
        )
    assert response.status_code == 200
    html = response.content.decode()
    prediction = TryItPrediction.objects.get()
    item_url = reverse("labs:try-it-item", args=[prediction.pk])
    assert f'hx-get="{item_url}" hx-trigger="every 1s"' in html
    assert "Running on a worker" in html
    assert 'id="try-it-errors" hx-swap-oob="true"' in html
    assert sent == [prediction.pk]

    services.tryit_run(prediction_id=prediction.pk)  # what the worker does

    html = client.get(item_url, **HTMX).content.decode()
    prediction.refresh_from_db()
    assert "hx-trigger" not in html
    assert f"<strong data-label>{prediction.label}</strong>" in html
    assert len(re.findall(r'class="tryit-score-label"', html)) == len(LABELS)
    # The detail page lists it afterwards.
    page = client.get(
        reverse("labs:submission-detail", args=[model_submission.pk])
    ).content.decode()
    assert "terrible plot and bad acting" in page


def test_form_errors_go_to_the_try_it_error_box(model_submission, student, sent):
    client = Client()
    client.force_login(student)
    response = client.post(reverse("labs:try-it", args=[model_submission.pk]), {"text": ""}, **HTMX)
    assert response.status_code == 400
    assert response["HX-Retarget"] == "#try-it-errors"
    assert "Type a sentence" in response.content.decode()


def test_without_js_the_form_redirects_back(model_submission, student, sent):
    client = Client()
    client.force_login(student)
    response = client.post(
        reverse("labs:try-it", args=[model_submission.pk]), {"text": "nice"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse(
        "labs:submission-detail", args=[model_submission.pk]
    )
    assert "Sent: the prediction appears below" in response.content.decode()


def test_other_users_cannot_post_or_poll(model_submission, student, course, other_student, sent):
    prediction = services.tryit_create(submission=model_submission, actor=student, text="mine")
    classmate = MembershipFactory(course=course, role=Membership.Role.STUDENT).user
    for user in (classmate, other_student):
        client = Client()
        client.force_login(user)
        post = client.post(reverse("labs:try-it", args=[model_submission.pk]), {"text": "x"})
        assert post.status_code == 404
        assert client.get(reverse("labs:try-it-item", args=[prediction.pk])).status_code == 404
    assert TryItPrediction.objects.count() == 1


def test_an_instructor_may_try_a_students_model(model_submission, instructor, sent):
    client = Client()
    client.force_login(instructor)
    response = client.post(
        reverse("labs:try-it", args=[model_submission.pk]), {"text": "fine"}, **HTMX
    )
    assert response.status_code == 200
    assert TryItPrediction.objects.get().requested_by == instructor


def test_a_prediction_lost_by_its_worker_stops_polling(model_submission, student, sent):
    prediction = services.tryit_create(submission=model_submission, actor=student, text="lost")
    TryItPrediction.objects.filter(pk=prediction.pk).update(
        created_at=timezone.now() - timedelta(minutes=10)
    )
    client = Client()
    client.force_login(student)
    html = client.get(reverse("labs:try-it-item", args=[prediction.pk]), **HTMX).content.decode()
    assert "hx-trigger" not in html
    assert "No answer from a worker" in html
