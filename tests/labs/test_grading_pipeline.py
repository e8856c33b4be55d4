"""End to end through a real Celery worker process on Redis and PostgreSQL:
upload → queued → running → scored/failed, exactly once, with typed errors."""

from __future__ import annotations

import pytest
from sklearn.metrics import accuracy_score, f1_score

from core.exceptions import ApplicationError
from labs.grading.datasets import split_public_private
from labs.models import Submission
from labs.services import submissions
from labs.tasks import grade_submission
from tests.labs.grading.hostile import hostile_pickle
from tests.labs.grading.tiny import LABELS, build_tiny_model, make_archive
from tests.labs.pipeline import (
    enrol_student,
    flush_broker,
    heldout_rows,
    make_lab,
    submit,
    wait_until,
    worker_env,
)
from tests.workers import celery_worker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def worker(django_db_setup, tmp_path_factory):
    """One warm worker for the module (starting one imports torch: seconds)."""
    flush_broker()
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    with celery_worker(env=worker_env(), log_path=log) as process:
        yield process


def _predict_one_by_one(model_dir, texts):
    """An independent reference: the plain transformers forward pass, one text at a time."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    predictions = []
    with torch.no_grad():
        for text in texts:
            logits = model(**tokenizer(text, return_tensors="pt", truncation=True)).logits
            predictions.append(model.config.id2label[int(logits.argmax())])
    return [LABELS.index(p) for p in predictions]


def test_a_submitted_model_is_scored_with_metrics_equal_to_scikit_learn(tmp_path, worker):
    rows = heldout_rows()
    lab, _ = make_lab(tmp_path, rows=rows)
    student = enrol_student(lab)
    model_dir = build_tiny_model(tmp_path / "model", seed=3)

    submission = wait_until(submit(lab, student, make_archive(model_dir, tmp_path / "m.zip")))

    assert submission.status == Submission.Status.SCORED, submission.error_message
    public = split_public_private([t for t, _ in rows], salt=lab.salt, public_fraction=0.5)
    public_rows = [row for row, is_public in zip(rows, public, strict=True) if is_public]
    texts = [text for text, _ in public_rows]
    truth = [LABELS.index(label) for _, label in public_rows]
    predicted = _predict_one_by_one(model_dir, texts)
    metrics = submission.metrics_public
    assert metrics["accuracy"] == pytest.approx(accuracy_score(truth, predicted))
    assert metrics["macro_f1"] == pytest.approx(
        f1_score(truth, predicted, average="macro", labels=[0, 1, 2], zero_division=0)
    )
    assert submission.metrics_private["n"] + metrics["n"] == len(rows)
    assert submission.attempts == 1
    assert submission.worker_host
    assert submission.timings["inference_s"] >= 0
    assert submission.dataset.version == 1


def test_a_duplicate_delivery_never_grades_twice(tmp_path, worker):
    lab, _ = make_lab(tmp_path)
    student = enrol_student(lab)
    archive = make_archive(build_tiny_model(tmp_path / "model"), tmp_path / "m.zip")
    submission = wait_until(submit(lab, student, archive))
    first_finish = submission.finished_at

    grade_submission.delay(submission.pk)
    grade_submission.delay(submission.pk)
    wait_for(lambda: False, timeout=3)  # give the worker time to (not) act

    submission.refresh_from_db()
    assert submission.status == Submission.Status.SCORED
    assert submission.attempts == 1
    assert submission.finished_at == first_finish


def test_a_pickle_archive_is_refused_at_upload_and_by_the_worker_if_it_gets_past(
    tmp_path, worker, monkeypatch
):
    lab, _ = make_lab(tmp_path)
    student = enrol_student(lab)
    marker = tmp_path / "pwned"
    model_dir = build_tiny_model(tmp_path / "model")
    (model_dir / "pytorch_model.bin").write_bytes(hostile_pickle(marker))
    archive = make_archive(model_dir, tmp_path / "evil.zip")

    with pytest.raises(ApplicationError) as refused:
        submit(lab, student, archive)
    assert refused.value.code == "unsafe_weights"
    assert not Submission.objects.exists()  # nothing stored, nothing charged

    # The worker never trusts the upload check: it refuses the same archive on its own.
    monkeypatch.setattr(submissions, "_precheck_archive", lambda lab, upload: None)
    submission = wait_until(submit(lab, student, archive))

    assert submission.status == Submission.Status.FAILED
    assert submission.error_code == "unsafe_weights"
    assert submission.error_message == refused.value.message
    assert "`model.save_pretrained(folder)`" in submission.error_message
    assert submission.charged is True
    assert not marker.exists()


def test_a_model_over_the_time_limit_fails_with_timeout_and_the_worker_survives(tmp_path, worker):
    # 28,800 rows: far more than 5 s of work on one core, even on the ONNX backend with a
    # cached graph (with 7,200 rows it once ended without a timeout in a full-suite run).
    many = heldout_rows(copies=2400)
    lab, _ = make_lab(tmp_path, rows=many, grading_timeout_s=5)
    student = enrol_student(lab)
    slow = build_tiny_model(tmp_path / "slow", hidden_size=256, layers=6)

    archive = make_archive(slow, tmp_path / "slow.zip")

    failed = wait_until(submit(lab, student, archive), timeout=120)

    assert failed.error_code == "timeout", failed.error_message
    assert "5" in failed.error_message
    assert worker.poll() is None
    lab.grading_timeout_s = 600
    lab.save()
    fast = make_archive(build_tiny_model(tmp_path / "fast"), tmp_path / "fast.zip")
    assert wait_until(submit(lab, student, fast)).status == Submission.Status.SCORED


def test_a_model_over_the_memory_cap_fails_with_out_of_memory_and_the_worker_survives(
    tmp_path, worker
):
    cap = 16 * 1024 * 1024  # the ~42 MB of weights alone exceed it
    lab, _ = make_lab(tmp_path, grading_memory_bytes=cap)
    student = enrol_student(lab)
    big = build_tiny_model(tmp_path / "big", hidden_size=384, layers=6)

    failed = wait_until(submit(lab, student, make_archive(big, tmp_path / "big.zip")), timeout=120)

    assert failed.error_code == "out_of_memory", failed.error_message
    assert "16 MiB" in failed.error_message
    assert failed.charged is True
    assert worker.poll() is None
    lab.grading_memory_bytes = 4096 * 1024 * 1024
    lab.save()
    small = make_archive(build_tiny_model(tmp_path / "small"), tmp_path / "small.zip")
    assert wait_until(submit(lab, student, small)).status == Submission.Status.SCORED
