"""The Session 12 demo lab `make run` loads: lab, real data, a baseline trained once and submitted.

The baseline here is trained from a tiny BERT on a few dozen examples (the base model and the
training size are parameters), so no MiniLM is fine-tuned in the suite; everything else is the
real code path, including grading the submitted baseline."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from courseware.models import Membership
from labs import data, demo
from labs.models import HeldOutDataset, Lab, Submission
from labs.services import submission_grade
from tests.factories import MembershipFactory, UserFactory
from tests.labs.grading.tiny import build_tiny_model

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_storage")]


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    settings.VAR_DIR.mkdir()
    return settings.VAR_DIR


@pytest.fixture
def demo_students(course):
    students = []
    for username in ("alex.chen", "sam.patel", "riley.nguyen"):
        user = UserFactory(username=username)
        MembershipFactory(course=course, user=user, role=Membership.Role.STUDENT)
        students.append(user)
    return students


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("base") / "tiny")


def load(course, session12, students, base, messages):
    return demo.demo_lab_load(
        course=course,
        session=session12,
        students=students,
        base_model=base,
        baseline_examples=40,
        baseline_max_length=32,
        log=messages.append,
    )


def _texts(rows) -> set[str]:
    return {data.normalise_text(text) for text in rows}


def test_demo_lab_load_is_idempotent_and_submits_a_baseline_once(
    course, session12, demo_students, tiny_base, var_dir, django_capture_on_commit_callbacks
):
    first: list[str] = []
    with django_capture_on_commit_callbacks() as callbacks:
        lab = load(course, session12, demo_students, tiny_base, first)
    assert len(callbacks) == 1  # the grading task of the baseline submission
    assert any("Training the demo baseline model once" in m for m in first), first
    baseline = demo.baseline_model_dir()
    weights_mtime = (baseline / "model.safetensors").stat().st_mtime_ns

    lab.refresh_from_db()
    opens, closes = lab.opens_at, lab.closes_at
    second: list[str] = []
    with django_capture_on_commit_callbacks() as callbacks:
        again = load(course, session12, demo_students, tiny_base, second)
    assert callbacks == []
    assert again.pk == lab.pk
    assert not any("Training" in m for m in second), second
    assert (baseline / "model.safetensors").stat().st_mtime_ns == weights_mtime

    assert Lab.objects.filter(session=session12).count() == 1
    lab.refresh_from_db()
    assert (lab.opens_at, lab.closes_at) == (opens, closes)
    datasets = HeldOutDataset.objects.filter(lab=lab)
    assert [d.version for d in datasets] == [1]
    submissions = Submission.objects.filter(lab=lab)
    assert [(s.student.username, s.status) for s in submissions] == [("alex.chen", "queued")]


def test_lab_settings_and_instructions(course, session12, demo_students, tiny_base, var_dir):
    lab = load(course, session12, demo_students, tiny_base, [])
    assert lab.title == "Fine-tune a pre-trained transformer for sentiment analysis"
    assert lab.labels == ["negative", "neutral", "positive"]
    assert lab.primary_metric == Lab.Metric.MACRO_F1
    now = timezone.now()
    assert lab.opens_at <= now
    assert timedelta(days=13) < lab.closes_at - now <= timedelta(days=15)
    text = lab.instructions
    for needle in (
        "train_sentiment.py --train sentiment-train.csv",
        f"coursebench_submit.py my-model --lab {lab.pk}",
        "5 submissions a day",
        "public part (50%)",
        "private part decides the final ranking",
        "macro-F1",
        "Deadline",
    ):
        assert needle in text, needle


def test_data_is_split_without_overlap(course, session12, demo_students, tiny_base, var_dir):
    lab = load(course, session12, demo_students, tiny_base, [])
    dataset = HeldOutDataset.objects.get(lab=lab)
    assert dataset.row_count == 2000
    assert sum(dataset.label_counts.values()) == 2000
    with dataset.file.open("rb") as fh:
        heldout = list(csv.DictReader(io.TextIOWrapper(fh, encoding="utf-8")))
    path = demo.training_csv_path(lab)
    assert path is not None and path.is_relative_to(var_dir / "demo")
    train = data.read_csv(path)
    assert len(train) + len(heldout) == data.load_split().stats.kept
    assert not _texts(ex.text for ex in train) & _texts(row["text"] for row in heldout)
    assert {ex.label for ex in train} == set(lab.labels)


def test_the_baseline_submission_is_graded(course, session12, demo_students, tiny_base, var_dir):
    lab = load(course, session12, demo_students, tiny_base, [])
    submission = Submission.objects.get(lab=lab)
    assert submission_grade(submission_id=submission.pk) == "scored"
    submission.refresh_from_db()
    assert submission.status == Submission.Status.SCORED, submission.error_message
    total = submission.metrics_public["n"] + submission.metrics_private["n"]
    assert total == 2000
    assert 0.0 <= submission.metrics_public["macro_f1"] <= 1.0


def test_failed_training_does_not_stop_the_demo(
    course, session12, demo_students, var_dir, tmp_path
):
    not_a_model = tmp_path / "not-a-model"
    not_a_model.mkdir()
    messages: list[str] = []
    lab = load(course, session12, demo_students, not_a_model, messages)
    assert any("Could not train the demo baseline model" in m for m in messages), messages
    assert HeldOutDataset.objects.filter(lab=lab).count() == 1
    assert demo.training_csv_path(lab) is not None
    assert not Submission.objects.filter(lab=lab).exists()
    assert not demo.baseline_model_dir().exists()


def test_no_training_file_for_other_labs(lab, var_dir):
    assert demo.training_csv_path(lab) is None


def test_starter_script_path():
    path = demo.starter_script_path()
    assert path.name == "train_sentiment.py" and path.is_file()
