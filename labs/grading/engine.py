"""The grading engine's entry point: artifact + held-out set in, GradeResult or GradingError out.

    grade(artifact, dataset, lab_labels=[...]) -> GradeResult

1. the held-out set is loaded and validated (INVALID_DATASET: the instructor's problem);
2. the upload is checked statically by prepare_artifact (size, archive safety, safetensors only,
   no remote code, a sequence-classification architecture, labels matching the lab) before any
   model code path runs;
3. the model is loaded and run in an isolated child process (sandbox.run_isolated) with the
   wall-clock and memory limits;
4. metrics are computed in the parent on the public part, the private part and everything.

Plain Python: no database, no Django.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from labs.grading import onnx_backend
from labs.grading.archive import ArchiveLimits
from labs.grading.artifact import prepare_artifact
from labs.grading.datasets import HeldOut, load_dataset, split_public_private
from labs.grading.errors import ErrorCode, GradingError
from labs.grading.metrics import compute_metrics
from labs.grading.sandbox import SandboxLimits, run_isolated, warm_up

GRADER_VERSION = "1.0.0"


@dataclass(frozen=True)
class GradingLimits:
    timeout_s: float = 600
    memory_bytes: int = 4 * 1024**3
    archive: ArchiveLimits = field(default_factory=ArchiveLimits)
    max_length: int = 512  # tokens per text; the model's own limit applies when lower
    batch_size: int | None = None  # None: the inference default for the device
    # "auto" (ONNX Runtime on CPU when the job repays the conversion), "torch" or "onnx";
    # see labs/grading/onnx_backend.py. Predictions agree to 1e-4 whichever runs.
    backend: str = "auto"
    threads: int | None = None  # CPU threads for inference; None: one per usable CPU
    nice: int = 0  # added to the grading child's nice value (SandboxLimits.nice)

    def __post_init__(self) -> None:
        if self.threads is not None and self.threads < 1:
            raise ValueError(
                f"threads must be at least 1 (or None for one per CPU), got {self.threads}"
            )
        if self.backend not in onnx_backend.BACKENDS:
            raise ValueError(
                f"unknown inference backend {self.backend!r}; expected one of "
                f"{', '.join(onnx_backend.BACKENDS)}"
            )


@dataclass(frozen=True)
class GradeResult:
    metrics_public: dict
    metrics_private: dict
    metrics_all: dict
    notes: list[str]
    # prepare_s, load_s, tokenize_s, convert_s, inference_s, isolation_s, total_s, n_examples,
    # examples_per_s
    timings: dict
    grader_version: str
    dataset_checksum: str
    model_labels: list[str]
    backend: str = "torch"  # what computed the logits: "torch" or "onnx"

    def as_dict(self) -> dict:
        return asdict(self)


def _predict_in_child(
    model_dir: str,
    texts: list[str],
    label_order: list[int],
    max_length: int,
    batch_size: int | None,
    backend: str = "auto",
    threads: int | None = None,
) -> dict:
    from labs.grading.inference import predict

    return predict(
        Path(model_dir),
        texts,
        label_order=label_order,
        max_length=max_length,
        batch_size=batch_size,
        backend=backend,
        num_threads=threads,
    ).as_dict()


def truncation_note(count: int, total: int, limit: int, part: str = "") -> str:
    """``1 of the 947 texts in the public part reached the 512-token limit and was truncated.``

    The caller counts the texts its reader is shown (a student sees the public part's scores),
    so the figures match the "Texts" column next to them."""
    where = f" in the {part}" if part else ""
    texts = "text" if total == 1 else "texts"
    was = "was" if count == 1 else "were"
    return (
        f"{count:,} of the {total:,} {texts}{where} reached the {limit}-token limit and {was} "
        "truncated."
    )


def _held_out(dataset: Path | HeldOut, lab_labels: Sequence[str]) -> HeldOut:
    if isinstance(dataset, HeldOut):
        if [s.strip().lower() for s in dataset.lab_labels] != [
            s.strip().lower() for s in lab_labels
        ]:
            raise GradingError(
                ErrorCode.INVALID_DATASET,
                f"the held-out set was loaded for the labels {dataset.lab_labels}, but the lab's "
                f"labels are {list(lab_labels)}.",
            )
        return dataset
    return load_dataset(Path(dataset), lab_labels=list(lab_labels))


def grade(
    artifact: Path,
    dataset: Path | HeldOut,
    *,
    lab_labels: Sequence[str],
    salt: str = "",
    public_fraction: float = 0.5,
    limits: GradingLimits | None = None,
    workdir: Path | None = None,
) -> GradeResult:
    """Grade one submission. Raises GradingError with a fix-it message.

    `workdir`: where the archive is extracted; a private folder is created inside it (or in the
    system temp dir) and always removed before returning.
    """
    limits = limits or GradingLimits()
    lab_labels = list(lab_labels)
    # Imports torch + transformers here once (a no-op when the worker warmed up at start), so
    # children are forked warm and the time limit measures the model, not library imports.
    warm_up()
    started = time.perf_counter()
    held = _held_out(dataset, lab_labels)

    scratch = Path(
        tempfile.mkdtemp(prefix="coursebench-artifact-", dir=str(workdir) if workdir else None)
    )
    try:
        check = prepare_artifact(
            Path(artifact), scratch, lab_labels=lab_labels, limits=limits.archive
        )
        prepare_s = time.perf_counter() - started

        isolated_start = time.perf_counter()
        result = run_isolated(
            _predict_in_child,
            str(check.model_dir),
            held.texts,
            list(check.label_order),
            limits.max_length,
            limits.batch_size,
            limits.backend,
            limits.threads,
            limits=SandboxLimits(
                timeout_s=limits.timeout_s, memory_bytes=limits.memory_bytes, nice=limits.nice
            ),
        )
        isolated_s = time.perf_counter() - isolated_start
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    # A weightless ONNX graph the child exported: kept in this (warm) process, so the next
    # submission of the same architecture skips the export.
    onnx_backend.remember_graph(result.pop("onnx_graph", None))
    pred = [int(p) for p in result["pred"]]
    if len(pred) != held.n_rows:
        raise GradingError(
            ErrorCode.INTERNAL,
            f"the grader got {len(pred)} predictions for {held.n_rows} texts.",
        )
    notes = [*check.notes, *result.get("notes", [])]

    public = split_public_private(held.texts, salt=salt, public_fraction=public_fraction)
    pub_true = [y for y, p in zip(held.labels, public, strict=True) if p]
    pub_pred = [y for y, p in zip(pred, public, strict=True) if p]
    priv_true = [y for y, p in zip(held.labels, public, strict=True) if not p]
    priv_pred = [y for y, p in zip(pred, public, strict=True) if not p]
    for name, part in (("public", pub_true), ("private", priv_true)):
        if not part:
            notes.append(f"The {name} part of the held-out set is empty; its scores are blank.")
    # Notes are shown to students next to the public part's scores: count that part only.
    pub_truncated = sum(1 for i in result.get("truncated", []) if public[i])
    if pub_truncated:
        notes.append(
            truncation_note(pub_truncated, len(pub_true), result["max_length"], "public part")
        )

    metrics_public = compute_metrics(pub_true, pub_pred, lab_labels)
    metrics_private = compute_metrics(priv_true, priv_pred, lab_labels)
    metrics_all = compute_metrics(held.labels, pred, lab_labels)

    child = result.get("timings", {})
    inference_s = float(child.get("inference_s", 0.0))
    load_s = float(child.get("load_s", 0.0))
    convert_s = float(child.get("convert_s", 0.0))
    timings = {
        "prepare_s": prepare_s,
        "load_s": load_s,
        "tokenize_s": float(child.get("tokenize_s", 0.0)),
        "convert_s": convert_s,  # ONNX export + session + verification (0 with torch)
        "inference_s": inference_s,
        # process start + result transfer: what isolation costs on top of the child's own work
        "isolation_s": max(0.0, isolated_s - load_s - convert_s - inference_s),
        "total_s": time.perf_counter() - started,
        "n_examples": held.n_rows,
        "examples_per_s": held.n_rows / inference_s if inference_s > 0 else 0.0,
    }
    return GradeResult(
        metrics_public=metrics_public,
        metrics_private=metrics_private,
        metrics_all=metrics_all,
        notes=notes,
        timings=timings,
        grader_version=GRADER_VERSION,
        dataset_checksum=held.checksum,
        model_labels=list(check.model_labels),
        backend=str(result.get("backend", "torch")),
    )
