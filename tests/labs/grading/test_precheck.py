"""precheck_archive: what the upload form can refuse from an archive's listing and config.json
alone. Every refusal must be the one the worker would give (same code, same message), so a
student learns the same fix whether the door or the grader catches it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from labs.grading.archive import ArchiveLimits, extract_archive, list_archive
from labs.grading.artifact import precheck_archive, prepare_artifact
from labs.grading.errors import ErrorCode, GradingError
from tests.labs.grading.hostile import (
    LABELS,
    hostile_pickle,
    tar_dir,
    write_model_dir,
    zip_dir,
    zip_entries,
)


def _precheck(upload: Path, labels: list[str] = LABELS, **kw) -> None:
    with upload.open("rb") as fh:
        precheck_archive(fh, lab_labels=labels, **kw)


def _worker_error(upload: Path, workdir: Path, labels: list[str] = LABELS) -> GradingError:
    with pytest.raises(GradingError) as info:
        prepare_artifact(upload, workdir, lab_labels=labels)
    return info.value


def _door_error(upload: Path, labels: list[str] = LABELS) -> GradingError:
    with pytest.raises(GradingError) as info:
        _precheck(upload, labels)
    return info.value


def _no_tokenizer(m: Path) -> None:
    (m / "tokenizer.json").unlink()
    (m / "tokenizer_config.json").unlink()


def _pickle_weights(m: Path) -> None:
    (m / "model.safetensors").unlink()
    (m / "pytorch_model.bin").write_bytes(hostile_pickle(m.parent / "pwned"))


def _config(**changes) -> Callable[[Path], None]:
    def change(m: Path) -> None:
        config = json.loads((m / "config.json").read_text())
        config.update(changes)
        (m / "config.json").write_text(json.dumps(config))

    return change


BROKEN: dict[str, tuple[ErrorCode, Callable[[Path], None]]] = {
    "label mismatch": (
        ErrorCode.LABEL_MISMATCH,
        _config(id2label={"0": "neg", "1": "neu", "2": "pos"}),
    ),
    "wrong label count": (ErrorCode.LABEL_MISMATCH, _config(id2label={"0": "a", "1": "b"})),
    "no config": (ErrorCode.MISSING_FILES, lambda m: (m / "config.json").unlink()),
    "no weights": (ErrorCode.MISSING_FILES, lambda m: (m / "model.safetensors").unlink()),
    "no tokenizer": (ErrorCode.MISSING_FILES, _no_tokenizer),
    "pickle weights": (ErrorCode.UNSAFE_WEIGHTS, _pickle_weights),
    "renamed pickle": (
        ErrorCode.UNSAFE_WEIGHTS,
        lambda m: (m / "model.safetensors").write_bytes(hostile_pickle(m.parent / "pwned")),
    ),
    "auto_map": (ErrorCode.REMOTE_CODE, _config(auto_map={"AutoModel": "x.Y"})),
    "auto_map in tokenizer_config": (
        ErrorCode.REMOTE_CODE,
        lambda m: (m / "tokenizer_config.json").write_text('{"auto_map": {"AutoTokenizer": 1}}'),
    ),
    "python file": (ErrorCode.REMOTE_CODE, lambda m: (m / "modeling_x.py").write_text("")),
    "not a classifier": (ErrorCode.UNSUPPORTED_MODEL, _config(architectures=["BertModel"])),
    "config not json": (ErrorCode.LOAD_FAILED, lambda m: (m / "config.json").write_text("{")),
}


@pytest.mark.parametrize("fmt", ["zip", "tar.gz"])
@pytest.mark.parametrize("case", sorted(BROKEN))
def test_it_refuses_at_the_door_what_the_worker_refuses_with_the_same_message(tmp_path, case, fmt):
    code, breakage = BROKEN[case]
    model = write_model_dir(tmp_path / "my-model")
    breakage(model)
    pack = zip_dir if fmt == "zip" else tar_dir
    upload = pack(model, tmp_path / f"up.{fmt}", prefix="my-model/")

    door = _door_error(upload)
    worker = _worker_error(upload, tmp_path / "work")

    assert door.code == code
    assert (door.code, door.message) == (worker.code, worker.message)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("prefix", ["", "my-model/", "outer/my-model/"])
@pytest.mark.parametrize("fmt", ["zip", "tar.gz"])
def test_a_good_archive_passes_the_precheck(tmp_path, prefix, fmt):
    model = write_model_dir(tmp_path / "my-model", weights="sharded")
    pack = zip_dir if fmt == "zip" else tar_dir
    _precheck(pack(model, tmp_path / f"up.{fmt}", prefix=prefix))


def test_reordered_labels_pass_the_precheck_because_labels_match_by_name(tmp_path):
    model = write_model_dir(tmp_path / "m", labels=["positive", "negative", "neutral"])
    _precheck(zip_dir(model, tmp_path / "up.zip"))


def test_it_refuses_unsafe_paths_like_the_extractor(tmp_path):
    model = write_model_dir(tmp_path / "m")
    upload = zip_dir(model, tmp_path / "up.zip", extra={"../evil.txt": b"x"})
    door = _door_error(upload)
    assert door.code == ErrorCode.UNSAFE_ARCHIVE
    assert door.message == _worker_error(upload, tmp_path / "work").message


def test_it_refuses_a_file_beside_the_model_folder_like_the_worker(tmp_path):
    model = write_model_dir(tmp_path / "m")
    upload = zip_dir(model, tmp_path / "up.zip", prefix="m/", extra={"notes/run.pkl": b"\x80"})
    door = _door_error(upload)
    assert door.code == ErrorCode.UNSAFE_WEIGHTS
    assert door.message == _worker_error(upload, tmp_path / "work").message


def test_it_checks_the_upload_size_limit(tmp_path):
    upload = zip_dir(write_model_dir(tmp_path / "m"), tmp_path / "up.zip")
    with pytest.raises(GradingError) as info:
        _precheck(upload, limits=ArchiveLimits(max_upload_bytes=100))
    assert info.value.code == ErrorCode.TOO_LARGE


def test_a_garbage_upload_is_an_invalid_archive(tmp_path):
    upload = tmp_path / "up.zip"
    upload.write_bytes(b"PK\x03\x04 not really a zip")
    assert _door_error(upload).code == ErrorCode.INVALID_ARCHIVE


@pytest.mark.parametrize(
    "names",
    [
        ["config.json", "x/config.json"],
        ["a/config.json"],
        ["a/b/config.json"],
        ["a/config.json", "b/config.json"],
        ["a/b/c/config.json"],
        ["a/readme.txt", "__MACOSX/a/._readme.txt"],
        ["a/b/readme.txt", "a/other.txt"],
    ],
)
def test_the_listing_picks_the_model_root_the_extractor_picks(tmp_path, names):
    upload = zip_entries(tmp_path / "up.zip", [(name, b"{}") for name in names])
    with upload.open("rb") as fh:
        listed = list_archive(fh).model_root()
    extracted = extract_archive(upload, tmp_path / "out").relative_to(tmp_path / "out")
    assert listed == ("" if extracted == Path() else extracted.as_posix())
