"""validate_model_dir / prepare_artifact: safe, complete, a classifier, with the lab's labels."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from labs.grading.archive import ArchiveLimits
from labs.grading.artifact import ModelCheck, prepare_artifact, validate_model_dir
from labs.grading.errors import ErrorCode, GradingError
from tests.labs.grading.hostile import (
    LABELS,
    hostile_pickle,
    tar_dir,
    truncate,
    write_model_dir,
    zip_dir,
)


def reject(model_dir: Path, labels: list[str] = LABELS) -> GradingError:
    with pytest.raises(GradingError) as info:
        validate_model_dir(model_dir, lab_labels=labels)
    return info.value


def reject_upload(upload: Path, workdir: Path, **kw) -> GradingError:
    with pytest.raises(GradingError) as info:
        prepare_artifact(upload, workdir, lab_labels=LABELS, **kw)
    return info.value


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return write_model_dir(tmp_path / "my-model")


# --- what passes ---------------------------------------------------------------------------------


def test_a_plain_save_pretrained_directory_passes_validation(model):
    check = validate_model_dir(model, lab_labels=LABELS)
    assert check == ModelCheck(
        model_dir=model,
        model_type="bert",
        architecture="BertForSequenceClassification",
        model_labels=LABELS,
        label_order=[0, 1, 2],
        generic_labels=False,
        notes=[],
        weight_files=["model.safetensors"],
        num_parameters=3 * 4 + 3 + 10 * 4,
        weights_bytes=(model / "model.safetensors").stat().st_size,
    )


def test_prepare_artifact_validates_a_folder_in_place(model, tmp_path):
    check = prepare_artifact(model, tmp_path / "work", lab_labels=LABELS)
    assert check.model_dir == model
    assert not (tmp_path / "work").exists()


def test_prepare_artifact_extracts_a_tar_gz_with_a_top_level_folder_into_workdir(model, tmp_path):
    upload = tar_dir(model, tmp_path / "upload.tgz", prefix="my-model/")
    check = prepare_artifact(upload, tmp_path / "work", lab_labels=LABELS)
    assert check.model_dir == tmp_path / "work" / "model" / "my-model"
    assert check.architecture == "BertForSequenceClassification"


def test_a_vocab_txt_tokenizer_is_enough(tmp_path):
    check = validate_model_dir(
        write_model_dir(tmp_path / "m", tokenizer="vocab"), lab_labels=LABELS
    )
    assert check.model_labels == LABELS


def test_sharded_safetensors_with_every_shard_pass(tmp_path):
    model = write_model_dir(tmp_path / "m", weights="sharded")
    check = validate_model_dir(model, lab_labels=LABELS)
    assert check.weight_files == [
        "model-00001-of-00002.safetensors",
        "model-00002-of-00002.safetensors",
    ]
    assert check.num_parameters == 3 * 4 + 3 + 10 * 4


# --- unsafe_weights ------------------------------------------------------------------------------


def test_the_hostile_pickle_really_runs_code_when_unpickled(tmp_path):
    marker = tmp_path / "ran"
    pickle.loads(hostile_pickle(marker))  # the fixture is live ammunition...
    assert marker.exists()


def test_it_rejects_pickle_weights_without_unpickling_them(model, tmp_path):
    marker = tmp_path / "pwned"
    (model / "model.safetensors").unlink()
    (model / "pytorch_model.bin").write_bytes(hostile_pickle(marker))
    error = reject_upload(zip_dir(model, tmp_path / "up.zip"), tmp_path / "work")
    assert error.code == ErrorCode.UNSAFE_WEIGHTS
    assert "`pytorch_model.bin`" in error.message
    assert "pickle-based weights can run code when loaded; re-save with " in error.message
    assert "re-save with `model.save_pretrained(folder)`, which writes the weights as " in (
        error.message
    )
    assert "safe_serialization" not in error.message  # transformers 5 has no such parameter
    assert not marker.exists()


@pytest.mark.parametrize(
    "name",
    [
        "pytorch_model.bin",
        "model.PT",
        "head.pth",
        "clf.pkl",
        "clf.pickle",
        "last.ckpt",
        "vec.joblib",
        "emb.npy",
        "arrays.npz",
        "checkpoint-500/optimizer.pt",
    ],
)
def test_it_rejects_every_pickle_based_format(model, name):
    (model / name).parent.mkdir(exist_ok=True)
    (model / name).write_bytes(b"\x80\x04K\x01.")
    error = reject(model)
    assert error.code == ErrorCode.UNSAFE_WEIGHTS
    assert f"`{name}`" in error.message
    assert "`model.save_pretrained(folder)`" in error.message


def test_it_explains_that_trainer_files_are_not_needed(model):
    (model / "training_args.bin").write_bytes(b"\x80\x04K\x01.")
    error = reject(model)
    assert error.code == ErrorCode.UNSAFE_WEIGHTS
    assert "training_args.bin: Trainer bookkeeping, not needed for grading" in error.message


def test_it_rejects_a_pickle_renamed_to_safetensors(model, tmp_path):
    (model / "model.safetensors").write_bytes(hostile_pickle(tmp_path / "pwned"))
    error = reject(model)
    assert error.code == ErrorCode.UNSAFE_WEIGHTS
    assert "renamed to .safetensors" in error.message
    assert not (tmp_path / "pwned").exists()


def test_it_rejects_truncated_safetensors(model):
    truncate(model / "model.safetensors", keep=0.8)
    error = reject(model)
    assert error.code == ErrorCode.LOAD_FAILED
    assert "model.safetensors is not a valid safetensors file" in error.message


# --- missing_files -------------------------------------------------------------------------------


def test_it_rejects_a_folder_without_config_json(model):
    (model / "config.json").unlink()
    error = reject(model)
    assert error.code == ErrorCode.MISSING_FILES
    assert "missing config.json" in error.message
    assert "`tokenizer.save_pretrained(folder)` must both be called" in error.message


def test_it_rejects_a_folder_without_safetensors_weights(tmp_path):
    error = reject(write_model_dir(tmp_path / "m", weights="none"))
    assert error.code == ErrorCode.MISSING_FILES
    assert "the weights (model.safetensors, or model.safetensors.index.json" in error.message


def test_it_rejects_a_folder_without_a_tokenizer(tmp_path):
    error = reject(write_model_dir(tmp_path / "m", tokenizer="none"))
    assert error.code == ErrorCode.MISSING_FILES
    assert "missing the tokenizer (tokenizer.json, or tokenizer_config.json plus" in error.message
    assert "`tokenizer.save_pretrained(folder)`" in error.message
    assert "contains: `config.json`, `model.safetensors`" in error.message


def test_tokenizer_config_without_a_vocabulary_is_not_a_tokenizer(tmp_path):
    error = reject(write_model_dir(tmp_path / "m", tokenizer="config-only"))
    assert error.code == ErrorCode.MISSING_FILES
    assert "tokenizer_config.json alone is not enough" in error.message


def test_it_lists_everything_missing_at_once(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    error = reject(folder)
    assert error.code == ErrorCode.MISSING_FILES
    assert "config.json; the weights" in error.message
    assert "; the tokenizer" in error.message


def test_it_recognises_a_lora_adapter(tmp_path):
    model = write_model_dir(tmp_path / "m", weights="none")
    (model / "adapter_config.json").write_text("{}")
    (model / "adapter_model.safetensors").write_bytes(b"")
    error = reject(model)
    assert error.code == ErrorCode.MISSING_FILES
    assert "merge_and_unload()" in error.message


def test_it_rejects_sharded_weights_with_a_missing_shard(tmp_path):
    model = write_model_dir(tmp_path / "m", weights="sharded")
    (model / "model-00002-of-00002.safetensors").unlink()
    error = reject(model)
    assert error.code == ErrorCode.MISSING_FILES
    assert "lists weight shards that are not in the upload: `model-00002-of-00002" in error.message


def test_a_shard_index_may_not_point_outside_the_model_folder(tmp_path):
    model = write_model_dir(tmp_path / "m", weights="sharded")
    index = {"weight_map": {"classifier.bias": "../../secret.safetensors"}}
    (model / "model.safetensors.index.json").write_text(json.dumps(index))
    error = reject(model)
    assert error.code == ErrorCode.UNSAFE_ARCHIVE
    assert "points outside the model folder" in error.message


def test_an_archive_with_two_model_folders_is_ambiguous(model, tmp_path):
    other = write_model_dir(tmp_path / "bundle" / "run2")
    write_model_dir(tmp_path / "bundle" / "run1")
    assert other.exists()
    upload = zip_dir(tmp_path / "bundle", tmp_path / "up.zip")
    error = reject_upload(upload, tmp_path / "work")
    assert error.code == ErrorCode.MISSING_FILES
    assert "The uploaded folder contains: `run1/`, `run2/`." in error.message
    assert "Found `run1/config.json`, `run2/config.json`: upload exactly one model" in error.message


# --- remote_code ---------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["config.json", "tokenizer_config.json"])
def test_it_rejects_auto_map(model, where):
    data = json.loads((model / where).read_text())
    data["auto_map"] = {"AutoModelForSequenceClassification": "modeling_evil.EvilModel"}
    (model / where).write_text(json.dumps(data))
    error = reject(model)
    assert error.code == ErrorCode.REMOTE_CODE
    assert f"{where}: `auto_map`" in error.message
    assert "Custom code is never run by the grader" in error.message
    assert "standard architecture" in error.message


def test_a_stray_unparseable_json_file_is_ignored_but_a_loaded_one_is_not(model):
    (model / "results.json").write_text("{accuracy: 0.9")
    assert validate_model_dir(model, lab_labels=LABELS).model_labels == LABELS
    (model / "special_tokens_map.json").write_text("{")
    error = reject(model)
    assert error.code == ErrorCode.LOAD_FAILED
    assert "special_tokens_map.json is not valid JSON" in error.message


def test_it_rejects_trust_remote_code_keys(tmp_path):
    error = reject(write_model_dir(tmp_path / "m", config_extra={"trust_remote_code": True}))
    assert error.code == ErrorCode.REMOTE_CODE
    assert "config.json: `trust_remote_code`" in error.message


def test_it_rejects_a_python_file(model):
    (model / "modeling_custom.py").write_text("import os\n")
    error = reject(model)
    assert error.code == ErrorCode.REMOTE_CODE
    assert "`modeling_custom.py`" in error.message
    assert "Custom code is never run by the grader" in error.message


def test_it_rejects_a_python_file_beside_the_model_folder_in_an_archive(model, tmp_path):
    upload = zip_dir(model, tmp_path / "up.zip", prefix="my-model/", extra={"train.py": b"1"})
    error = reject_upload(upload, tmp_path / "work")
    assert error.code == ErrorCode.REMOTE_CODE
    assert "`train.py`" in error.message


# --- load_failed / unsupported_model -------------------------------------------------------------


def test_it_rejects_a_config_that_is_not_json(model):
    (model / "config.json").write_text('{"model_type": "bert",')
    error = reject(model)
    assert error.code == ErrorCode.LOAD_FAILED
    assert "config.json is not valid JSON: " in error.message


def test_it_rejects_a_base_model_without_a_classification_head(tmp_path):
    error = reject(write_model_dir(tmp_path / "m", architecture="BertModel"))
    assert error.code == ErrorCode.UNSUPPORTED_MODEL
    assert "The model is a BertModel" in error.message
    assert (
        "Load the model with AutoModelForSequenceClassification.from_pretrained(..., num_labels=3, "
        'id2label={0: "negative", 1: "neutral", 2: "positive"}, '
        'label2id={"negative": 0, "neutral": 1, "positive": 2}) before fine-tuning.'
    ) in error.message


def test_it_rejects_a_config_without_architectures(tmp_path):
    error = reject(write_model_dir(tmp_path / "m", architecture=None))
    assert error.code == ErrorCode.UNSUPPORTED_MODEL
    assert "config.json has no `architectures`" in error.message
    assert "AutoModelForSequenceClassification.from_pretrained(" in error.message


# --- labels --------------------------------------------------------------------------------------


def test_it_rejects_labels_that_are_not_the_labs(tmp_path):
    error = reject(write_model_dir(tmp_path / "m", labels=["neg", "pos"]))
    assert error.code == ErrorCode.LABEL_MISMATCH
    assert "The model has 2 labels but the lab has 3." in error.message
    assert "are ['neg', 'pos']; this lab's labels are ['negative', 'neutral', 'positive']" in (
        error.message
    )
    assert "Set id2label and label2id to the lab's label names: the same names, in any order" in (
        error.message
    )


def test_it_maps_generic_label_names_by_index_and_says_so(tmp_path):
    model = write_model_dir(tmp_path / "m", labels=["LABEL_0", "LABEL_1", "LABEL_2"])
    check = validate_model_dir(model, lab_labels=LABELS)
    assert check.generic_labels is True
    assert check.label_order == [0, 1, 2]
    assert check.model_labels == ["LABEL_0", "LABEL_1", "LABEL_2"]
    assert check.notes[0].startswith(
        "The model's labels are generic (LABEL_0…LABEL_2); mapped by index: "
        "LABEL_0 → negative, LABEL_1 → neutral, LABEL_2 → positive."
    )


def test_a_config_without_id2label_has_two_generic_labels_like_transformers_reads_it(tmp_path):
    # transformers does not write id2label for the default 2 labels.
    model = write_model_dir(tmp_path / "m", labels=["LABEL_0", "LABEL_1"])
    config = json.loads((model / "config.json").read_text())
    del config["id2label"], config["label2id"]
    (model / "config.json").write_text(json.dumps(config))
    check = validate_model_dir(model, lab_labels=["negative", "positive"])
    assert check.generic_labels is True
    assert check.model_labels == ["LABEL_0", "LABEL_1"]
    assert "LABEL_0 → negative, LABEL_1 → positive" in check.notes[0]
    error = reject(model, LABELS)
    assert error.code == ErrorCode.LABEL_MISMATCH
    assert "The model has 2 labels but the lab has 3." in error.message


def test_generic_labels_with_the_wrong_count_are_rejected(tmp_path):
    error = reject(write_model_dir(tmp_path / "m", labels=["LABEL_0", "LABEL_1"]))
    assert error.code == ErrorCode.LABEL_MISMATCH
    assert "The model has 2 labels but the lab has 3. The model's labels are generic" in (
        error.message
    )


def test_reordered_labels_are_mapped_by_name(tmp_path):
    model = write_model_dir(tmp_path / "m", labels=["positive", "negative", "neutral"])
    check = validate_model_dir(model, lab_labels=LABELS)
    assert check.label_order == [2, 0, 1]
    assert check.generic_labels is False
    assert "mapped by name (model index → lab label): 0 → positive, 1 → negative" in check.notes[0]


def test_labels_are_compared_case_insensitively_ignoring_spaces(tmp_path):
    model = write_model_dir(tmp_path / "m", labels=[" Negative", "NEUTRAL ", "Positive"])
    check = validate_model_dir(model, lab_labels=LABELS)
    assert check.label_order == [0, 1, 2]
    assert check.model_labels == [" Negative", "NEUTRAL ", "Positive"]
    assert check.notes == []


def test_duplicate_model_labels_are_rejected(tmp_path):
    error = reject(write_model_dir(tmp_path / "m", labels=["negative", "Negative", "positive"]))
    assert error.code == ErrorCode.LABEL_MISMATCH
    assert "The model repeats labels: Negative, negative." in error.message
    assert "Missing lab labels: neutral." in error.message


def test_id2label_with_holes_is_rejected(tmp_path):
    model = write_model_dir(tmp_path / "m", id2label={"0": "negative", "2": "positive"})
    error = reject(model)
    assert error.code == ErrorCode.LABEL_MISMATCH
    assert "id2label must map 0…n-1 to label names" in error.message


# --- order and limits ----------------------------------------------------------------------------


def test_the_upload_size_is_checked_before_anything_else(tmp_path):
    upload = tmp_path / "up.zip"
    upload.write_bytes(b"not even an archive" * 100_000)
    error = reject_upload(upload, tmp_path / "work", limits=ArchiveLimits(max_upload_bytes=1024**2))
    assert error.code == ErrorCode.TOO_LARGE
    assert "The upload is 1.8 MB; the limit for this lab is 1.0 MB" in error.message
    assert not (tmp_path / "work").exists()


def test_a_garbage_upload_is_an_invalid_archive(tmp_path):
    upload = tmp_path / "up.zip"
    upload.write_text("hello")
    error = reject_upload(upload, tmp_path / "work")
    assert error.code == ErrorCode.INVALID_ARCHIVE
    assert "Upload a .zip or .tar.gz of the folder written by" in error.message
