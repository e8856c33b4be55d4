import hashlib

import pytest
import torch
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from labs.grading import engine
from labs.grading.datasets import load_dataset, split_public_private
from labs.grading.engine import GRADER_VERSION, GradeResult, GradingLimits, grade
from labs.grading.errors import ErrorCode, GradingError
from tests.labs.grading.tiny import SAMPLE_ROWS, build_tiny_model, make_archive, write_dataset

LABELS = ["negative", "neutral", "positive"]
ROWS = [
    (f"{text} {suffix}", label)
    for suffix in ("", "indeed", "really")
    for text, label in SAMPLE_ROWS
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("engine")
    model = build_tiny_model(root / "model", seed=0)
    return {
        "model": model,
        "zip": make_archive(model, root / "model.zip", "zip"),
        "tgz": make_archive(model, root / "model.tar.gz", "tar.gz"),
        "csv": write_dataset(root / "held.csv", ROWS),
        "jsonl": write_dataset(root / "held.jsonl", ROWS),
    }


def _reference_predictions(model_dir, texts, id2lab=None):
    """Independent predictions: plain transformers, one text at a time, mapped by label name."""
    tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, local_files_only=True)
    model.eval()
    preds = []
    with torch.no_grad():
        for text in texts:
            index = int(model(**tokenizer(text, return_tensors="pt")).logits[0].argmax())
            preds.append(LABELS.index(model.config.id2label[index]))
    return preds


def _sklearn(y_true, y_pred):
    idx = [0, 1, 2]
    return {
        "accuracy": accuracy_score(y_true, y_pred),
        "macro_f1": f1_score(y_true, y_pred, labels=idx, average="macro", zero_division=0),
        "weighted_f1": f1_score(y_true, y_pred, labels=idx, average="weighted", zero_division=0),
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=idx).tolist(),
    }


def _assert_matches(metrics, expected):
    for key in ("accuracy", "macro_f1", "weighted_f1"):
        assert metrics[key] == pytest.approx(expected[key]), key
    assert metrics["confusion_matrix"] == expected["confusion_matrix"]


def test_a_zip_and_a_csv_grade_end_to_end_like_an_independent_computation(tiny):
    result = grade(tiny["zip"], tiny["csv"], lab_labels=LABELS, salt="lab-7")

    assert isinstance(result, GradeResult)
    texts = [text for text, _ in ROWS]
    y_true = [LABELS.index(label) for _, label in ROWS]
    y_pred = _reference_predictions(tiny["model"], texts)
    _assert_matches(result.metrics_all, _sklearn(y_true, y_pred))

    public = split_public_private(texts, salt="lab-7", public_fraction=0.5)
    pick = lambda ys, side: [y for y, p in zip(ys, public, strict=True) if p == side]  # noqa: E731
    _assert_matches(result.metrics_public, _sklearn(pick(y_true, True), pick(y_pred, True)))
    _assert_matches(result.metrics_private, _sklearn(pick(y_true, False), pick(y_pred, False)))
    assert result.metrics_public["n"] == sum(public)
    assert result.metrics_public["n"] + result.metrics_private["n"] == len(ROWS)
    assert 0 < result.metrics_public["n"] < len(ROWS)

    assert result.grader_version == GRADER_VERSION == "1.0.0"
    assert result.dataset_checksum == hashlib.sha256(tiny["csv"].read_bytes()).hexdigest()
    assert result.model_labels == LABELS
    assert result.timings["n_examples"] == len(ROWS)
    assert {"prepare_s", "load_s", "inference_s", "total_s", "examples_per_s"} <= set(
        result.timings
    )


def test_a_tar_gz_and_an_already_loaded_held_out_set_grade_the_same(tiny):
    held = load_dataset(tiny["jsonl"], lab_labels=LABELS)

    from_zip = grade(tiny["zip"], tiny["csv"], lab_labels=LABELS, salt="s")
    from_tgz = grade(tiny["tgz"], held, lab_labels=LABELS, salt="s")

    assert from_tgz.metrics_all == from_zip.metrics_all
    assert from_tgz.metrics_public == from_zip.metrics_public


def test_a_model_with_its_labels_in_another_order_is_mapped_by_name(tmp_path, tiny):
    shuffled = build_tiny_model(
        tmp_path / "shuffled", id2label=["positive", "negative", "neutral"], seed=1
    )
    texts = [text for text, _ in ROWS]
    y_true = [LABELS.index(label) for _, label in ROWS]

    result = grade(shuffled, tiny["csv"], lab_labels=LABELS)

    assert result.model_labels == ["positive", "negative", "neutral"]
    _assert_matches(result.metrics_all, _sklearn(y_true, _reference_predictions(shuffled, texts)))


def test_the_public_fraction_decides_the_split(tiny):
    result = grade(tiny["zip"], tiny["csv"], lab_labels=LABELS, public_fraction=1.0)

    assert result.metrics_public == result.metrics_all
    assert result.metrics_private["n"] == 0 and result.metrics_private["accuracy"] is None
    assert any("private part" in note for note in result.notes)


def test_a_tiny_timeout_is_a_timeout_error(tiny):
    with pytest.raises(GradingError) as info:
        grade(tiny["zip"], tiny["csv"], lab_labels=LABELS, limits=GradingLimits(timeout_s=0.01))

    assert info.value.code == ErrorCode.TIMEOUT
    assert "0.01 s" in info.value.message


def _never(*args, **kwargs):
    raise AssertionError("model code ran for a submission that should have been rejected")


def test_an_unsafe_upload_is_rejected_before_any_model_code_runs(tmp_path, tiny, monkeypatch):
    monkeypatch.setattr(engine, "run_isolated", _never)
    unsafe = build_tiny_model(tmp_path / "unsafe")
    (unsafe / "pytorch_model.bin").write_bytes(b"\x80\x04pickle")
    archive = make_archive(unsafe, tmp_path / "unsafe.zip")

    with pytest.raises(GradingError) as info:
        grade(archive, tiny["csv"], lab_labels=LABELS)

    assert info.value.code == ErrorCode.UNSAFE_WEIGHTS


def test_a_too_large_upload_is_rejected_on_size_alone(tiny, monkeypatch):
    monkeypatch.setattr(engine, "run_isolated", _never)
    small = engine.ArchiveLimits(max_upload_bytes=1024)

    with pytest.raises(GradingError) as info:
        grade(tiny["zip"], tiny["csv"], lab_labels=LABELS, limits=GradingLimits(archive=small))

    assert info.value.code == ErrorCode.TOO_LARGE


def test_an_invalid_dataset_is_rejected_before_the_upload_is_opened(tmp_path, tiny, monkeypatch):
    monkeypatch.setattr(engine, "prepare_artifact", _never)
    monkeypatch.setattr(engine, "run_isolated", _never)
    bad = write_dataset(tmp_path / "bad.csv", [("good", "positive"), ("", "negative")])

    with pytest.raises(GradingError) as info:
        grade(tiny["zip"], bad, lab_labels=LABELS)

    assert info.value.code == ErrorCode.INVALID_DATASET


def test_the_workdir_is_left_clean_after_success_and_after_a_rejection(tmp_path, tiny):
    workdir = tmp_path / "work"
    workdir.mkdir()

    grade(tiny["zip"], tiny["csv"], lab_labels=LABELS, workdir=workdir)
    assert list(workdir.iterdir()) == []

    with pytest.raises(GradingError):
        grade(
            tiny["zip"],
            tiny["csv"],
            lab_labels=LABELS,
            workdir=workdir,
            limits=GradingLimits(timeout_s=0.01),
        )
    assert list(workdir.iterdir()) == []


def test_the_truncation_note_counts_the_public_part_the_student_is_shown(tmp_path, tiny):
    from tests.labs.grading.tiny import VOCAB_TEXTS

    long_text = " ".join(VOCAB_TEXTS * 3)
    rows = [*ROWS, *((f"{long_text} {i}", "neutral") for i in range(6))]
    held = write_dataset(tmp_path / "held.csv", rows)
    public = split_public_private([t for t, _ in rows], salt="s", public_fraction=0.5)
    long_public = sum(p for (t, _), p in zip(rows, public, strict=True) if t.startswith(long_text))
    assert 0 < long_public < 6  # both parts have long texts: only the public ones count

    result = grade(
        tiny["zip"], held, lab_labels=LABELS, salt="s", limits=GradingLimits(max_length=16)
    )

    notes = [n for n in result.notes if "truncated" in n]
    n_public = result.metrics_public["n"]
    was = "was" if long_public == 1 else "were"
    assert notes == [
        f"{long_public} of the {n_public} texts in the public part reached the 16-token limit "
        f"and {was} truncated."
    ]


def test_the_truncation_note_is_singular_for_one_text():
    assert engine.truncation_note(1, 947, 512, "public part") == (
        "1 of the 947 texts in the public part reached the 512-token limit and was truncated."
    )
    assert engine.truncation_note(2, 1000, 512) == (
        "2 of the 1,000 texts reached the 512-token limit and were truncated."
    )
