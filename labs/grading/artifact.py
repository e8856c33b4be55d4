"""Static checks of a submitted model folder, before any model code runs.

Only file names and small JSON files are read (plus the JSON header of each .safetensors file).
Nothing here imports transformers or torch, and nothing is ever unpickled.
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from labs.grading.archive import (
    DEFAULT_LIMITS,
    ArchiveLimits,
    ArchiveListing,
    check_upload_size,
    extract_archive,
    format_mb,
    is_junk,
    list_archive,
)
from labs.grading.errors import ErrorCode, GradingError

PICKLE_SUFFIXES = frozenset(
    {".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib", ".dill", ".npy", ".npz"}
)
CODE_SUFFIXES = frozenset({".py", ".pyc", ".pyo", ".pyw", ".pyx", ".pyd", ".so"})
TRAINER_FILES = frozenset(
    {"training_args.bin", "optimizer.pt", "scheduler.pt", "rng_state.pth", "scaler.pt"}
)
REMOTE_CODE_KEYS = ("auto_map", "trust_remote_code")
#: JSON files transformers' Auto* loaders read: they must parse. Other JSON files (a student's
#: trainer_state.json, results.json, ...) are only scanned for remote-code keys when they parse.
LOADED_JSON = frozenset(
    {
        "tokenizer_config.json",
        "special_tokens_map.json",
        "added_tokens.json",
        "generation_config.json",
        "preprocessor_config.json",
        "processor_config.json",
    }
)

WEIGHTS_FILE = "model.safetensors"
WEIGHTS_INDEX = "model.safetensors.index.json"

#: A folder with more entries than this is not a save_pretrained folder.
MAX_DIR_ENTRIES = 10_000
#: JSON files above this size are not read (config-like files are a few KB).
MAX_JSON_BYTES = 32 * 1024**2
#: safetensors headers are JSON; real ones are well under a few MB even for huge models.
MAX_SAFETENSORS_HEADER = 100 * 1024**2

_ARCH_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*ForSequenceClassification$")
_MODEL_TYPE_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
_GENERIC_RE = re.compile(r"^label_(\d+)$")
_DTYPE_BYTES = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E5M2": 1,
    "F8_E4M3": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "F64": 8,
    "I64": 8,
    "U64": 8,
}

SAVE_HINT = (
    "Save both into the same folder — `model.save_pretrained(folder)` and "
    "`tokenizer.save_pretrained(folder)` must both be called — and upload that folder."
)
#: How a model's labels must match the lab's, said the same way everywhere (_match_labels maps
#: by name, case-insensitively, so any order works).
LABEL_RULE = (
    "Set id2label and label2id to the lab's label names: the same names, in any order "
    "(they are matched by name)."
)
#: transformers 5 (pinned: 5.24) always writes model.safetensors and no longer has the
#: `safe_serialization` parameter (it is silently ignored), so the fix is plain save_pretrained.
RESAVE_HINT = (
    "re-save with `model.save_pretrained(folder)`, which writes the weights as "
    "model.safetensors (transformers 5 always does)"
)
REMOTE_CODE_HINT = (
    "Custom code is never run by the grader. Fine-tune a standard architecture "
    "(e.g. BERT, DistilBERT, RoBERTa) loaded without `trust_remote_code`, and upload only "
    "the files written by `save_pretrained`."
)


@dataclass(frozen=True)
class ModelCheck:
    model_dir: Path
    model_type: str  # config["model_type"], e.g. "bert"
    architecture: str  # e.g. "BertForSequenceClassification"
    model_labels: list[str]  # id2label in index order
    label_order: list[int]  # label_order[model_index] = index in lab_labels
    generic_labels: bool  # True when the model had LABEL_0..LABEL_n and we mapped by index
    notes: list[str]  # human notes to show in the result, e.g. the LABEL_i mapping
    weight_files: list[str] = field(default_factory=list)  # .safetensors files, relative
    num_parameters: int = 0  # from the safetensors headers
    weights_bytes: int = 0  # total size of weight_files


def prepare_artifact(
    path: Path,
    workdir: Path,
    *,
    lab_labels: list[str],
    limits: ArchiveLimits = DEFAULT_LIMITS,
) -> ModelCheck:
    """Validate an upload: an archive (extracted into ``workdir/"model"``) or a model folder.

    A folder is validated in place (an instructor's local ``save_pretrained`` folder).
    """
    path = Path(path)
    if path.is_dir():
        return validate_model_dir(path, lab_labels=lab_labels)
    if not path.is_file():
        raise GradingError(ErrorCode.INTERNAL, f"The submitted file {path} does not exist.")
    check_upload_size(path, limits)
    dest = Path(workdir) / "model"
    root = extract_archive(path, dest, limits=limits)
    if root != dest:
        # Files beside the model folder are never loaded, but they are still part of the upload.
        _reject_forbidden(_list_files(dest))
    return validate_model_dir(root, lab_labels=lab_labels)


def validate_model_dir(model_dir: Path, *, lab_labels: list[str]) -> ModelCheck:
    """Check a ``save_pretrained`` folder: safe files only, complete, and matching the lab."""
    model_dir = Path(model_dir)
    lab = _normalise_lab_labels(lab_labels)
    if not model_dir.is_dir():
        raise GradingError(
            ErrorCode.MISSING_FILES, f"{model_dir.name} is not a folder. {SAVE_HINT}"
        )

    folder = _Folder(_list_files(model_dir), lambda name: _read_json(model_dir / name))
    config, architecture, model_type = _check_folder(folder, lab_labels)
    weight_files, num_parameters, weights_bytes = _check_weights(model_dir, _weight_shards(folder))
    model_labels, label_order, generic, notes = _check_tokenizer_and_labels(
        folder, config, lab_labels, lab
    )
    return ModelCheck(
        model_dir=model_dir,
        model_type=model_type,
        architecture=architecture,
        model_labels=model_labels,
        label_order=label_order,
        generic_labels=generic,
        notes=notes,
        weight_files=weight_files,
        num_parameters=num_parameters,
        weights_bytes=weights_bytes,
    )


def precheck_archive(
    source: IO[bytes], *, lab_labels: list[str], limits: ArchiveLimits = DEFAULT_LIMITS
) -> None:
    """The checks of ``prepare_artifact`` that an archive's listing and its small JSON files
    decide, with nothing extracted and no model code run: so an upload can be refused before it
    is stored or charged, with the same codes and messages. What is not read here (the weights'
    headers, files beyond MAX_LISTING_READ_BYTES) is left to the worker, which checks it all.
    """
    lab = _normalise_lab_labels(lab_labels)
    listing = list_archive(source, limits=limits, read=_listing_wants)
    root = listing.model_root()
    if root:
        _reject_forbidden(sorted(listing.files))  # files beside the model folder count too
    folder = _listed_folder(listing, root)
    config, _architecture, _model_type = _check_folder(folder, lab_labels)
    for name in _weight_shards(folder) or []:
        head = listing.contents.get(_join(root, name))
        if head is not None:
            _reject_pickle_head(name, head)
    _check_tokenizer_and_labels(folder, config, lab_labels, lab)


@dataclass(frozen=True)
class _Folder:
    """A model folder's file list and its JSON files, on disk or in an archive's listing."""

    files: list[str]  # relative POSIX paths below the model root, junk left out
    load: Callable[[str], Any]  # the parsed JSON of a file; None when it was not read


def _join(root: str, name: str) -> str:
    return f"{root}/{name}" if root else name


def _listing_wants(name: str, size: int) -> int:
    """How much of an archive member ``precheck_archive`` reads: the JSON files that can be
    at a model root (at most two folders down) and the first bytes of the weights."""
    parts = name.split("/")
    if len(parts) > 3:
        return 0
    if parts[-1].endswith(".safetensors"):
        return 8
    if parts[-1].endswith(".json") and parts[-1] != "tokenizer.json":
        return size if size <= MAX_JSON_BYTES else 0
    return 0


def _listed_folder(listing: ArchiveListing, root: str) -> _Folder:
    prefix = f"{root}/" if root else ""
    files = sorted(p[len(prefix) :] for p in listing.files if p.startswith(prefix))

    def load(name: str) -> Any:
        path = _join(root, name)
        size = listing.files.get(path, 0)
        data = listing.contents.get(path)
        if data is None and size <= MAX_JSON_BYTES:
            return None  # over the read budget: the worker checks it
        return _parse_json(name, size, data or b"")

    return _Folder(files, load)


def _check_folder(folder: _Folder, lab_labels: list[str]) -> tuple[dict[str, Any], str, str]:
    """Safe files only, all there, a config.json asking for no custom code, a classifier."""
    _reject_forbidden(folder.files)
    _require_files(folder.files)
    config = folder.load("config.json")
    if not isinstance(config, dict):
        raise GradingError(
            ErrorCode.LOAD_FAILED,
            "config.json is not a JSON object. "
            "Re-save the model with `model.save_pretrained(...)`.",
        )
    _reject_remote_code_keys(folder, config)
    architecture, model_type = _check_architecture(config, lab_labels)
    return config, architecture, model_type


def _check_tokenizer_and_labels(
    folder: _Folder, config: dict[str, Any], lab_labels: list[str], lab: list[str]
) -> tuple[list[str], list[int], bool, list[str]]:
    if "tokenizer_config.json" in folder.files:
        folder.load("tokenizer_config.json")  # must at least parse
    return _match_labels(config, lab_labels, lab)


# --- files ---------------------------------------------------------------------------------------


def _list_files(top: Path) -> list[str]:
    """Relative POSIX paths of every non-junk file below ``top`` (symlinked dirs not followed)."""
    found: list[str] = []
    count = 0
    for dirpath, dirnames, filenames in os.walk(top):
        rel_dir = Path(dirpath).relative_to(top)
        dirnames[:] = sorted(d for d in dirnames if not is_junk([d]))
        count += len(dirnames) + len(filenames)
        if count > MAX_DIR_ENTRIES:
            raise GradingError(
                ErrorCode.TOO_LARGE,
                f"The model folder has more than {MAX_DIR_ENTRIES:,} files and folders. "
                "Point at (or upload) only the folder written by `save_pretrained`.",
            )
        for name in sorted(filenames):
            rel = (rel_dir / name).as_posix()
            if not is_junk(rel.split("/")):
                found.append(rel)
    return sorted(found)


def _suffix(rel: str) -> str:
    return PurePosixPath(rel).suffix.lower()


def _listing(names: list[str], limit: int = 8) -> str:
    shown = ", ".join(f"`{n}`" for n in names[:limit])
    if len(names) > limit:
        shown += f" and {len(names) - limit} more"
    return shown


def _reject_forbidden(files: list[str]) -> None:
    pickles = [f for f in files if _suffix(f) in PICKLE_SUFFIXES]
    if pickles:
        message = (
            f"The upload contains pickle-based files: {_listing(pickles)}. The grader never "
            f"opens them: pickle-based weights can run code when loaded; {RESAVE_HINT}, and "
            "leave .bin/.pt/.pth/.pkl/.ckpt/.npy files out of the upload."
        )
        trainer = sorted({PurePosixPath(f).name for f in pickles} & TRAINER_FILES)
        if trainer:
            message += (
                f" ({', '.join(trainer)}: Trainer bookkeeping, not needed for grading — "
                "delete it or upload only the `save_pretrained` folder.)"
            )
        raise GradingError(ErrorCode.UNSAFE_WEIGHTS, message)
    code = [f for f in files if _suffix(f) in CODE_SUFFIXES]
    if code:
        raise GradingError(
            ErrorCode.REMOTE_CODE,
            f"The upload contains code files: {_listing(code)}. {REMOTE_CODE_HINT} "
            "Remove the code files before uploading.",
        )


def _has_tokenizer(root_files: set[str]) -> tuple[bool, str]:
    if "tokenizer.json" in root_files:
        return True, ""
    has_vocab = (
        "vocab.txt" in root_files
        or {"vocab.json", "merges.txt"} <= root_files
        or any(f.endswith(".model") for f in root_files)
    )
    if "tokenizer_config.json" in root_files and has_vocab:
        return True, ""
    if "tokenizer_config.json" in root_files:
        return False, (
            "the tokenizer vocabulary (tokenizer.json, vocab.txt, vocab.json + merges.txt or a "
            "SentencePiece .model file; tokenizer_config.json alone is not enough)"
        )
    return False, (
        "the tokenizer (tokenizer.json, or tokenizer_config.json plus vocab.txt / "
        "vocab.json + merges.txt / a SentencePiece .model file)"
    )


def _require_files(files: list[str]) -> None:
    root_files = {f for f in files if "/" not in f}
    missing: list[str] = []
    hints: list[str] = []
    if "config.json" not in root_files:
        missing.append("config.json")
        deeper = [f for f in files if PurePosixPath(f).name == "config.json"]
        if deeper:
            hints.append(
                f"Found {_listing(deeper, 4)}: upload exactly one model folder, with "
                "config.json at its top level."
            )
    if WEIGHTS_FILE not in root_files and WEIGHTS_INDEX not in root_files:
        missing.append(
            "the weights (model.safetensors, or model.safetensors.index.json with its shards)"
        )
        if "adapter_model.safetensors" in root_files or "adapter_config.json" in root_files:
            hints.append(
                "This looks like a PEFT/LoRA adapter only: merge it into the base model with "
                "`model = model.merge_and_unload()` and save the full model."
            )
        else:
            other = sorted(f for f in root_files if f.endswith(".safetensors"))
            if other:
                hints.append(
                    f"Found {_listing(other, 4)}, but the weights must be named model.safetensors "
                    "as `save_pretrained` writes them."
                )
    ok, what = _has_tokenizer(root_files)
    if not ok:
        missing.append(what)
    if not missing:
        return
    top = sorted({f.split("/")[0] + ("/" if "/" in f else "") for f in files})
    present = _listing(top, 12) if top else "nothing"
    message = (
        f"The model folder is missing {'; '.join(missing)}. {SAVE_HINT} "
        f"The uploaded folder contains: {present}."
    )
    if hints:
        message += " " + " ".join(hints)
    raise GradingError(ErrorCode.MISSING_FILES, message)


# --- JSON ----------------------------------------------------------------------------------------


def _read_json(path: Path) -> Any:
    size = path.stat().st_size
    return _parse_json(path.name, size, path.read_bytes() if size <= MAX_JSON_BYTES else b"")


def _parse_json(name: str, size: int, data: bytes) -> Any:
    if size > MAX_JSON_BYTES:
        raise GradingError(
            ErrorCode.LOAD_FAILED,
            f"{PurePosixPath(name).name} is {format_mb(size)}; files like this are a few KB. "
            "Re-save the model with `save_pretrained(...)`.",
        )
    try:
        return json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise GradingError(
            ErrorCode.LOAD_FAILED,
            f"{PurePosixPath(name).name} is not valid JSON: {exc}. Re-save the folder with "
            "`model.save_pretrained(...)` / `tokenizer.save_pretrained(...)` instead of "
            "editing it by hand.",
        ) from exc


def _reject_remote_code_keys(folder: _Folder, config: dict[str, Any]) -> None:
    """``auto_map`` / ``trust_remote_code`` in config.json or any other top-level JSON file."""
    found: list[str] = [f"config.json: `{k}`" for k in REMOTE_CODE_KEYS if k in config]
    for name in folder.files:
        if "/" in name or not name.endswith(".json"):
            continue
        if name in ("config.json", "tokenizer.json", WEIGHTS_INDEX):
            continue
        try:
            data = folder.load(name)
        except GradingError:
            if name in LOADED_JSON:
                raise
            continue  # a stray notes/results file transformers never reads
        if isinstance(data, dict):
            found += [f"{name}: `{k}`" for k in REMOTE_CODE_KEYS if k in data]
    if found:
        raise GradingError(
            ErrorCode.REMOTE_CODE,
            f"The model asks for custom code ({', '.join(found)}). {REMOTE_CODE_HINT}",
        )


def _load_hint(lab_labels: list[str]) -> str:
    n = len(lab_labels)
    labels = lab_labels if n <= 12 else [*lab_labels[:12]]
    id2label = ", ".join(f"{i}: {json.dumps(lbl)}" for i, lbl in enumerate(labels))
    label2id = ", ".join(f"{json.dumps(lbl)}: {i}" for i, lbl in enumerate(labels))
    if n > 12:
        id2label += ", …"
        label2id += ", …"
    return (
        "Load the model with AutoModelForSequenceClassification.from_pretrained(..., "
        f"num_labels={n}, id2label={{{id2label}}}, label2id={{{label2id}}}) before fine-tuning."
    )


def _check_architecture(config: dict[str, Any], lab_labels: list[str]) -> tuple[str, str]:
    architectures = config.get("architectures")
    if (
        not isinstance(architectures, list)
        or not architectures
        or not all(isinstance(a, str) for a in architectures)
    ):
        raise GradingError(
            ErrorCode.UNSUPPORTED_MODEL,
            "config.json has no `architectures`, so this is not a saved classification model. "
            + _load_hint(lab_labels),
        )
    bad = [a for a in architectures if not _ARCH_RE.match(a)]
    if bad:
        raise GradingError(
            ErrorCode.UNSUPPORTED_MODEL,
            f"The model is a {bad[0]}, but this lab grades sequence classifiers "
            "(an architecture ending in ForSequenceClassification). " + _load_hint(lab_labels),
        )
    model_type = config.get("model_type")
    if not isinstance(model_type, str) or not _MODEL_TYPE_RE.match(model_type):
        raise GradingError(
            ErrorCode.UNSUPPORTED_MODEL,
            "config.json has no valid `model_type`. Re-save the model with "
            "`model.save_pretrained(...)`; " + _load_hint(lab_labels),
        )
    return architectures[0], model_type


# --- weights -------------------------------------------------------------------------------------


def _weight_shards(folder: _Folder) -> list[str] | None:
    """The .safetensors files the model loads (None when the index was not read)."""
    if WEIGHTS_FILE in folder.files:
        return [WEIGHTS_FILE]
    index = folder.load(WEIGHTS_INDEX)
    return None if index is None else _shards_from_index(index, set(folder.files))


def _check_weights(model_dir: Path, shards: list[str] | None) -> tuple[list[str], int, int]:
    shards = shards or []
    params = 0
    size = 0
    for name in shards:
        path = model_dir / name
        params += _safetensors_parameters(path, name)
        size += path.stat().st_size
    return shards, params, size


def _shards_from_index(index: Any, present: set[str]) -> list[str]:
    weight_map = index.get("weight_map") if isinstance(index, dict) else None
    if not isinstance(weight_map, dict) or not weight_map:
        raise GradingError(
            ErrorCode.LOAD_FAILED,
            f"{WEIGHTS_INDEX} has no `weight_map`. Re-save the model with "
            "`model.save_pretrained(...)` and upload every file it writes.",
        )
    shards: list[str] = []
    for value in weight_map.values():
        if not isinstance(value, str) or not value.endswith(".safetensors"):
            raise GradingError(
                ErrorCode.LOAD_FAILED,
                f"{WEIGHTS_INDEX} lists {value!r}, which is not a .safetensors file. "
                f"{RESAVE_HINT.capitalize()}.",
            )
        pure = PurePosixPath(value)
        if (
            "\\" in value
            or "\x00" in value
            or pure.is_absolute()
            or ".." in pure.parts
            or len(pure.parts) != 1
        ):
            raise GradingError(
                ErrorCode.UNSAFE_ARCHIVE,
                f"{WEIGHTS_INDEX} points outside the model folder ({value!r}). Shards must sit "
                "next to the index, as `save_pretrained` writes them.",
            )
        if value not in shards:
            shards.append(value)
    missing = [s for s in shards if s not in present]
    if missing:
        raise GradingError(
            ErrorCode.MISSING_FILES,
            f"{WEIGHTS_INDEX} lists weight shards that are not in the upload: "
            f"{_listing(missing)}. Upload every file `model.save_pretrained(folder)` wrote "
            f"(all {len(shards)} shards), in the same folder as the index.",
        )
    return shards


def _safetensors_parameters(path: Path, name: str) -> int:
    """Parse the JSON header and check it describes the file exactly; return the element count."""

    def corrupt(reason: str) -> GradingError:
        return GradingError(
            ErrorCode.LOAD_FAILED,
            f"{name} is not a valid safetensors file ({reason}); the upload may be truncated. "
            f"{RESAVE_HINT.capitalize()} and upload again.",
        )

    file_size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(8)
        _reject_pickle_head(name, head)
        if len(head) < 8:
            raise corrupt("the file is too short")
        (header_len,) = struct.unpack("<Q", head)
        if header_len > MAX_SAFETENSORS_HEADER or 8 + header_len > file_size:
            raise corrupt("the header length is impossible")
        raw = fh.read(header_len)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise corrupt("the header is not JSON") from exc
    if not isinstance(header, dict):
        raise corrupt("the header is not a JSON object")
    buffer_len = file_size - 8 - header_len
    spans: list[tuple[int, int]] = []
    params = 0
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        try:
            dtype = entry["dtype"]
            shape = [int(d) for d in entry["shape"]]
            begin, end = (int(x) for x in entry["data_offsets"])
        except (TypeError, KeyError, ValueError) as exc:
            raise corrupt(f"tensor {key!r} has a malformed entry") from exc
        if any(d < 0 for d in shape) or not 0 <= begin <= end <= buffer_len:
            raise corrupt(f"tensor {key!r} lies outside the file")
        count = math.prod(shape)
        width = _DTYPE_BYTES.get(str(dtype))
        if width is not None and count * width != end - begin:
            raise corrupt(f"tensor {key!r} has the wrong size for its shape")
        params += count
        spans.append((begin, end))
    position = 0
    for begin, end in sorted(spans):
        if begin != position:
            raise corrupt("tensor data overlaps or has gaps")
        position = end
    if position != buffer_len:
        raise corrupt(
            f"expected {buffer_len:,} bytes of tensor data, the header covers {position:,}"
        )
    return params


def _reject_pickle_head(name: str, head: bytes) -> None:
    if head.startswith(b"PK\x03\x04") or head[:1] == b"\x80":
        raise GradingError(
            ErrorCode.UNSAFE_WEIGHTS,
            f"{name} is a pickle/torch.save file renamed to .safetensors. Pickle-based "
            f"weights can run code when loaded; {RESAVE_HINT}.",
        )


# --- labels --------------------------------------------------------------------------------------


def _norm(label: str) -> str:
    return " ".join(label.split()).casefold()


def _normalise_lab_labels(lab_labels: list[str]) -> list[str]:
    lab = [_norm(str(lbl)) for lbl in lab_labels]
    if not lab or any(not lbl for lbl in lab) or len(set(lab)) != len(lab):
        raise GradingError(
            ErrorCode.INVALID_DATASET,
            f"The lab's labels {lab_labels!r} are empty or repeat a name (compared "
            "case-insensitively). Fix the lab's label list.",
        )
    return lab


def _mismatch(details: str, model_labels: list[str], lab_labels: list[str]) -> GradingError:
    return GradingError(
        ErrorCode.LABEL_MISMATCH,
        f"{details} The model's labels (id2label, in index order) are {model_labels!r}; this "
        f"lab's labels are {list(lab_labels)!r}. {LABEL_RULE} " + _load_hint(list(lab_labels)),
    )


def _match_labels(
    config: dict[str, Any], lab_labels: list[str], lab: list[str]
) -> tuple[list[str], list[int], bool, list[str]]:
    id2label = config.get("id2label")
    if id2label is None:
        # transformers leaves id2label out of config.json when it is the default for 2 labels
        # (LABEL_0, LABEL_1), and reads it back as num_labels (default 2) generic labels.
        count = config.get("num_labels", 2)
        if isinstance(count, int) and not isinstance(count, bool) and 0 < count <= 10_000:
            id2label = {str(i): f"LABEL_{i}" for i in range(count)}
    if not isinstance(id2label, dict) or not id2label:
        raise _mismatch("config.json has no usable id2label.", [], lab_labels)
    try:
        by_index = {int(k): v for k, v in id2label.items()}
    except (TypeError, ValueError):
        raise _mismatch(
            "config.json's id2label keys must be 0, 1, 2, ….", list(map(str, id2label)), lab_labels
        ) from None
    if sorted(by_index) != list(range(len(by_index))) or not all(
        isinstance(v, str) for v in by_index.values()
    ):
        raise _mismatch(
            "config.json's id2label must map 0…n-1 to label names.",
            [str(by_index[k]) for k in sorted(by_index)],
            lab_labels,
        )
    model_labels = [by_index[i] for i in range(len(by_index))]
    model = [_norm(lbl) for lbl in model_labels]

    if len(set(model)) == len(model) and sorted(model) == sorted(lab):
        order = [lab.index(m) for m in model]
        notes: list[str] = []
        if order != list(range(len(order))):
            pairs = ", ".join(f"{i} → {lab_labels[j]}" for i, j in enumerate(order))
            notes.append(
                f"The model orders its labels differently from the lab; mapped by name "
                f"(model index → lab label): {pairs}."
            )
        return model_labels, order, False, notes

    generic = all(
        (m := _GENERIC_RE.match(name)) is not None and int(m.group(1)) == i
        for i, name in enumerate(model)
    )
    if generic and len(model) == len(lab):
        last = len(model) - 1
        pairs = ", ".join(f"{model_labels[i]} → {lab_labels[i]}" for i in range(len(model)))
        note = (
            f"The model's labels are generic ({model_labels[0]}…{model_labels[last]}); mapped by "
            f"index: {pairs}. Pass id2label/label2id to from_pretrained to name them."
        )
        return model_labels, list(range(len(model))), True, [note]

    problems: list[str] = []
    if len(model) != len(lab):
        problems.append(f"The model has {len(model)} labels but the lab has {len(lab)}.")
    if generic:
        problems.append("The model's labels are generic LABEL_i names.")
    else:
        dups = sorted(
            {lbl for lbl, m in zip(model_labels, model, strict=True) if model.count(m) > 1}
        )
        if dups:
            problems.append(f"The model repeats labels: {', '.join(dups)}.")
        unknown = [lbl for lbl, m in zip(model_labels, model, strict=True) if m not in lab]
        if unknown:
            problems.append(f"Not lab labels: {', '.join(unknown)}.")
        absent = [lbl for lbl, n in zip(lab_labels, lab, strict=True) if n not in model]
        if absent:
            problems.append(f"Missing lab labels: {', '.join(absent)}.")
    raise _mismatch(" ".join(problems) or "The labels do not match.", model_labels, lab_labels)
