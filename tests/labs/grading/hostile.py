"""Builders for model folders and hostile archives used by the grading tests.

Everything is built for real with zipfile/tarfile (plus a few byte patches for what those
modules refuse to write), so the tests exercise the same bytes an attacker could upload.
"""

from __future__ import annotations

import gzip
import io
import json
import pathlib
import pickle
import struct
import tarfile
import zipfile
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

LABELS = ["negative", "neutral", "positive"]


# --- valid save_pretrained-like folders ----------------------------------------------------------


def write_model_dir(
    folder: Path,
    *,
    labels: list[str] | None = None,
    id2label: dict[str, str] | None = None,
    architecture: str | None = "BertForSequenceClassification",
    model_type: str = "bert",
    config_extra: dict | None = None,
    tokenizer: str = "json",
    weights: str = "single",
) -> Path:
    """A minimal folder shaped like `model.save_pretrained` + `tokenizer.save_pretrained`.

    tokenizer: "json" (tokenizer.json + tokenizer_config.json), "vocab" (tokenizer_config.json +
    vocab.txt), "config-only" (tokenizer_config.json alone) or "none".
    weights: "single" (model.safetensors), "sharded" (index + 2 shards) or "none".
    """
    folder.mkdir(parents=True, exist_ok=True)
    labels = LABELS if labels is None else labels
    if id2label is None:
        id2label = {str(i): name for i, name in enumerate(labels)}
    config = {
        "model_type": model_type,
        "id2label": id2label,
        "label2id": {name: int(i) for i, name in id2label.items()},
        "hidden_size": 4,
    }
    if architecture is not None:
        config["architectures"] = [architecture]
    config.update(config_extra or {})
    (folder / "config.json").write_text(json.dumps(config, indent=2))

    tensors = {
        "classifier.weight": np.ones((len(id2label), 4), dtype=np.float32),
        "classifier.bias": np.zeros((len(id2label),), dtype=np.float32),
        "embeddings.weight": np.arange(40, dtype=np.float32).reshape(10, 4),
    }
    if weights == "single":
        save_file(tensors, str(folder / "model.safetensors"))
    elif weights == "sharded":
        names = sorted(tensors)
        shard_of = {}
        for n, part in enumerate([names[:1], names[1:]], start=1):
            shard = f"model-0000{n}-of-00002.safetensors"
            save_file({k: tensors[k] for k in part}, str(folder / shard))
            shard_of.update(dict.fromkeys(part, shard))
        index = {"metadata": {"total_size": 0}, "weight_map": shard_of}
        (folder / "model.safetensors.index.json").write_text(json.dumps(index))

    if tokenizer in ("json", "vocab", "config-only"):
        (folder / "tokenizer_config.json").write_text(
            json.dumps({"tokenizer_class": "BertTokenizer", "do_lower_case": True})
        )
    if tokenizer == "json":
        (folder / "tokenizer.json").write_text(
            json.dumps({"version": "1.0", "model": {"type": "WordPiece", "vocab": {"[UNK]": 0}}})
        )
    if tokenizer == "vocab":
        (folder / "vocab.txt").write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n")
    return folder


def zip_dir(folder: Path, out: Path, *, prefix: str = "", extra: dict[str, bytes] | None = None):
    """Zip `folder` (names under `prefix`), plus `extra` members written verbatim."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, prefix + path.relative_to(folder).as_posix())
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return out


def tar_dir(folder: Path, out: Path, *, prefix: str = "") -> Path:
    with tarfile.open(out, "w:gz") as tf:
        for path in sorted(folder.rglob("*")):
            tf.add(path, prefix + path.relative_to(folder).as_posix(), recursive=False)
    return out


# --- hostile zips --------------------------------------------------------------------------------


def zip_entries(out: Path, entries: list[tuple[str | zipfile.ZipInfo, bytes]]) -> Path:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return out


def zip_symlink(out: Path, name: str, target: str) -> Path:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # unix
    info.external_attr = (0o120777) << 16  # S_IFLNK | 0777
    return zip_entries(out, [("config.json", b"{}"), (info, target.encode())])


def patch_bytes(path: Path, old: bytes, new: bytes, *, count: int = -1) -> None:
    data = path.read_bytes()
    assert old in data, f"{old!r} not in {path.name}"
    assert len(old) == len(new), "patches must keep offsets"
    path.write_bytes(data.replace(old, new, count))


def zip_with_nul_name(out: Path) -> Path:
    """zipfile truncates names at NUL when writing, so write a placeholder and patch it."""
    zip_entries(out, [("evil.pyX.txt", b"print('pwned')")])
    patch_bytes(out, b"evil.pyX.txt", b"evil.py\x00.txt")
    return out


def _patch_u32(data: bytearray, offset: int, value: int) -> None:
    data[offset : offset + 4] = struct.pack("<I", value)


def zip_with_lying_size(out: Path, name: str, real_size: int, claimed: int) -> Path:
    """A deflated member of `real_size` zero bytes whose headers claim `claimed` bytes."""
    zip_entries(out, [(name, bytes(real_size))])
    data = bytearray(out.read_bytes())
    local = data.index(b"PK\x03\x04")
    _patch_u32(data, local + 22, claimed)  # local header: uncompressed size
    central = data.index(b"PK\x01\x02")
    _patch_u32(data, central + 24, claimed)  # central directory: uncompressed size
    out.write_bytes(bytes(data))
    return out


def zip_marked_encrypted(out: Path) -> Path:
    zip_entries(out, [("config.json", b"{}")])
    data = bytearray(out.read_bytes())
    for sig, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.index(sig) + flag_at
        data[at] |= 0x1
    out.write_bytes(bytes(data))
    return out


def truncate(path: Path, keep: float = 0.5) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


# --- hostile tars --------------------------------------------------------------------------------


def tar_entries(out: Path, members: list[tuple[tarfile.TarInfo, bytes | None]], **kw) -> Path:
    with tarfile.open(out, "w:gz", **kw) as tf:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return out


def tar_file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), data


def tar_special(name: str, kind: bytes, linkname: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        info.devmajor, info.devminor = 1, 3  # /dev/null
    return info, None


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data)


# --- a pickle that runs code ---------------------------------------------------------------------


class RunsCodeWhenUnpickled:
    """Unpickling this calls `pathlib.Path(marker).touch()`: proof that something was loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def hostile_pickle(marker: Path) -> bytes:
    return pickle.dumps({"state_dict": RunsCodeWhenUnpickled(marker)})
