"""The Session 12 demo lab `make run` loads: lab, real data, and a background job that trains a
baseline once and submits it as the instructor's reference.

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
from labs import data, demo, tasks
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
def demo_people(course):
    """The demo course's instructor (the baseline is submitted in their name) and students."""
    instructor = UserFactory(username="jordan.hill")
    MembershipFactory(course=course, user=instructor, role=Membership.Role.INSTRUCTOR)
    students = []
    for username in ("alex.chen", "sam.patel", "riley.nguyen"):
        user = UserFactory(username=username)
        MembershipFactory(course=course, user=user, role=Membership.Role.STUDENT)
        students.append(user)
    return instructor, students


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("base") / "tiny")


def load(course, session12, messages):
    return demo.demo_lab_load(course=course, session=session12, log=messages.append)


def build(lab, base, messages, **options):
    """The baseline job, as the maintenance worker runs it, on a tiny base and 40 examples."""
    return demo.demo_baseline_build(
        lab_id=lab.pk,
        base_model=base,
        max_examples=40,
        max_length=32,
        log=messages.append,
        **options,
    )


def _texts(rows) -> set[str]:
    return {data.normalise_text(text) for text in rows}


def test_loading_queues_the_baseline_job_instead_of_training(
    course, session12, demo_people, var_dir, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(
        tasks.demo_baseline_train, "apply_async", lambda args, queue: sent.append((args, queue))
    )
    messages: list[str] = []
    with django_capture_on_commit_callbacks(execute=True):
        lab = load(course, session12, messages)

    assert sent == [([lab.pk], "demo_baseline")]
    assert not any("Training the demo baseline model once" in m for m in messages), messages
    assert not Submission.objects.filter(lab=lab).exists()
    progress = demo.baseline_progress(lab)
    assert progress.state == "queued" and progress.is_active


def test_the_baseline_job_reports_training_steps_then_submits_the_instructors_reference(
    course, session12, demo_people, tiny_base, var_dir, monkeypatch
):
    instructor, students = demo_people
    lab = load(course, session12, [])
    seen: list[demo.BaselineProgress] = []
    real_set = demo._progress_set
    monkeypatch.setattr(
        demo,
        "_progress_set",
        lambda lab, progress: seen.append(progress) or real_set(lab, progress),
    )

    assert build(lab, tiny_base, []) == "submitted"

    training = [p for p in seen if p.state == "training" and p.total_steps]
    assert training, seen
    assert [p.step for p in training] == list(range(1, training[-1].total_steps + 1))
    assert training[-1].percent == 100
    reference = Submission.objects.get(lab=lab)
    assert (reference.student, reference.is_reference, reference.charged) == (
        instructor,
        True,
        False,
    )
    final = demo.baseline_progress(lab)
    assert (final.state, final.submission_id, final.is_active) == (
        "submitted",
        reference.pk,
        False,
    )
    assert reference.status == Submission.Status.QUEUED  # for the grading worker
    for student in students:
        assert not Submission.objects.filter(student=student).exists()


def test_the_baseline_job_and_loading_again_are_idempotent(
    course, session12, demo_people, tiny_base, var_dir
):
    lab = load(course, session12, [])
    build(lab, tiny_base, [])
    weights = demo.baseline_model_dir() / "model.safetensors"
    mtime = weights.stat().st_mtime_ns
    lab.refresh_from_db()
    opens, closes = lab.opens_at, lab.closes_at

    again: list[str] = []
    assert load(course, session12, again).pk == lab.pk
    assert build(lab, tiny_base, again) == "submitted"

    assert not any("Training" in m for m in again), again
    assert weights.stat().st_mtime_ns == mtime
    assert Lab.objects.filter(session=session12).count() == 1
    lab.refresh_from_db()
    assert (lab.opens_at, lab.closes_at) == (opens, closes)
    assert [d.version for d in HeldOutDataset.objects.filter(lab=lab)] == [1]
    assert Submission.objects.filter(lab=lab).count() == 1
    assert demo.baseline_progress(lab).state == "submitted"


def test_a_cached_model_is_submitted_without_training_again(
    course, session12, demo_people, tiny_base, var_dir
):
    lab = load(course, session12, [])
    build_tiny_model(demo.baseline_model_dir())
    messages: list[str] = []

    assert build(lab, tiny_base, messages) == "submitted"

    assert not any("Training" in m for m in messages), messages
    assert Submission.objects.get(lab=lab).is_reference


def test_lab_settings_and_instructions(course, session12, demo_people, var_dir):
    lab = load(course, session12, [])
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


def test_data_is_split_without_overlap(course, session12, demo_people, var_dir):
    lab = load(course, session12, [])
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


def test_the_baseline_reference_is_graded(course, session12, demo_people, tiny_base, var_dir):
    lab = load(course, session12, [])
    build(lab, tiny_base, [])
    submission = Submission.objects.get(lab=lab)
    assert submission_grade(submission_id=submission.pk) == "scored"
    submission.refresh_from_db()
    assert submission.status == Submission.Status.SCORED, submission.error_message
    total = submission.metrics_public["n"] + submission.metrics_private["n"]
    assert total == 2000
    assert 0.0 <= submission.metrics_public["macro_f1"] <= 1.0


def test_failed_training_is_reported_as_failed_and_submits_nothing(
    course, session12, demo_people, var_dir, tmp_path
):
    not_a_model = tmp_path / "not-a-model"
    not_a_model.mkdir()
    lab = load(course, session12, [])
    messages: list[str] = []

    assert build(lab, not_a_model, messages) == "failed"

    assert any("Could not train the demo baseline model" in m for m in messages), messages
    assert demo.baseline_progress(lab).state == "failed"
    assert HeldOutDataset.objects.filter(lab=lab).count() == 1
    assert demo.training_csv_path(lab) is not None
    assert not Submission.objects.filter(lab=lab).exists()
    assert not demo.baseline_model_dir().exists()


def test_progress_belongs_to_the_demo_lab_only(course, session12, demo_people, lab, var_dir):
    demo_lab = load(course, session12, [])
    assert demo.baseline_progress(demo_lab).state == "queued"
    assert demo.baseline_progress(lab) is None


def test_no_training_file_for_other_labs(lab, var_dir):
    assert demo.training_csv_path(lab) is None


def test_starter_script_path():
    path = demo.starter_script_path()
    assert path.name == "train_sentiment.py" and path.is_file()
