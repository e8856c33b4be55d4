"""Fast batched inference for a validated sequence-classification model directory.

Tokenise everything once (no padding), sort by length, then run batches padded only to their own
longest text (dynamic padding) under torch.inference_mode(). Sorting keeps padding waste near zero,
which matters more on CPU than the batch size itself.

Batch size (CPU). Measured on the 2-core dev box (torch 2.13 CPU, fp32, random weights, 240-1000
texts of 5-120 words, ~70 tokens on average; best of 2-3 interleaved runs, as the box is shared):

    BERT-mini-like (4 x 256), 1 thread, examples/s:
        bs 1: 81   bs 8: 122   bs 16: 123   bs 32: 105   bs 64: 118   bs 128: 95
        bs 32 without length sorting: 64
    DistilBERT-base-like (6 x 768), 2 threads, examples/s:
        bs 8: 17.4   bs 16: 19.9   bs 32: 19.7   bs 64: 17.7
        bs 32 without length sorting: 10.2

Length sorting is the big win (1.7-1.9x). Past that, 16 was the best or tied-best size in every
run: smaller batches pay per-call overhead, larger ones pad more at batch edges, fall out of CPU
caches and raise peak activation memory (which counts against the sandbox's memory cap). So 16 on
CPU; on a GPU bigger batches keep the device busy, so 128 there.

Threads: one torch intra-op thread per CPU the process may run on (sched_getaffinity honours
taskset / cpusets, unlike os.cpu_count(); 2 threads ran DistilBERT ~2x faster than 1 here).
`num_threads` overrides it (the GRADING_THREADS setting on workers): set it to cores / Celery
concurrency when several gradings share a machine, as oversubscribed threads are slower.

Backend (`backend=`): "torch" runs the loop above; "onnx" exports the model to ONNX and runs the
same batches with ONNX Runtime on CPU (fp32, verified against torch on a probe batch, falling back
to torch with a note); "auto" (default) picks ONNX on CPU when the job is big enough to repay the
conversion. See labs/grading/onnx_backend.py for the rule and the measurements.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labs.grading import onnx_backend
from labs.grading.errors import ErrorCode, GradingError, first_line, is_memory_error

onnx_backend.preload()  # onnx + onnxruntime: imported in the warm worker, not in each child

DEFAULT_CPU_BATCH_SIZE = 16
DEFAULT_GPU_BATCH_SIZE = 128
_ROBERTA_LIKE = {"roberta", "xlm-roberta", "camembert", "longformer", "bertweet", "phobert"}


@dataclass(frozen=True)
class Predictions:
    pred: list[int]  # lab label index per input text, in input order
    max_logit: list[float]  # the winning logit per text
    logits: list[list[float]]  # per text, columns in lab label order
    timings: dict = field(default_factory=dict)  # load_s, tokenize_s, inference_s
    device: str = "cpu"
    batch_size: int = 0
    max_length: int = 0
    num_threads: int = 0
    n_truncated: int = 0  # texts that reached max_length tokens (possibly truncated)
    truncated: list[int] = field(default_factory=list)  # their indexes, in input order
    notes: list[str] = field(default_factory=list)
    backend: str = "torch"  # what computed the logits: "torch" or "onnx"
    # {"key", "graph"}: a weightless ONNX graph this call exported, for the parent's cache
    onnx_graph: dict | None = None

    def as_dict(self) -> dict:
        return {
            "pred": self.pred,
            "max_logit": self.max_logit,
            "logits": self.logits,
            "timings": dict(self.timings),
            "device": self.device,
            "batch_size": self.batch_size,
            "max_length": self.max_length,
            "num_threads": self.num_threads,
            "n_truncated": self.n_truncated,
            "truncated": list(self.truncated),
            "notes": list(self.notes),
            "backend": self.backend,
            "onnx_graph": self.onnx_graph,
        }


def default_num_threads() -> int:
    """One per CPU this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def pick_device(device: str | None = None) -> str:
    """'cuda' when a GPU is usable in this process, else 'cpu'. Call it in the grading child: in
    the parent it would initialise CUDA, which a forked child then cannot use."""
    if device:
        return device
    import torch

    if torch.cuda.is_available() and not torch.cuda._is_in_bad_fork():
        return "cuda"
    return "cpu"


def _load_failed(what: str, exc: BaseException) -> GradingError:
    return GradingError(
        ErrorCode.LOAD_FAILED,
        f"transformers could not load the {what}: {first_line(exc)}. Check that the upload is "
        "the output of save_pretrained() for both the model and its tokenizer, from a recent "
        "transformers version, and that it loads locally with AutoTokenizer.from_pretrained(dir) "
        "and AutoModelForSequenceClassification.from_pretrained(dir).",
    )


def _effective_max_length(max_length: int, tokenizer, config) -> int:
    limit = int(max_length)
    model_max = getattr(tokenizer, "model_max_length", None)
    if isinstance(model_max, int) and 0 < model_max < 1_000_000:
        limit = min(limit, model_max)
    positions = getattr(config, "max_position_embeddings", None)
    if isinstance(positions, int) and positions > 0:
        if getattr(config, "model_type", "") in _ROBERTA_LIKE:
            positions -= 2  # position ids start after the padding index
        limit = min(limit, positions)
    return max(limit, 2)


def _check_label_order(label_order: Sequence[int], num_labels: int) -> list[int]:
    order = [int(i) for i in label_order]
    if len(order) != num_labels or sorted(order) != list(range(num_labels)):
        raise GradingError(
            ErrorCode.LABEL_MISMATCH,
            f"the model has {num_labels} outputs but the label mapping is {order}; "
            "the model's id2label must name each lab label exactly once.",
        )
    return order


def load_model(model_dir: Path, *, device: str):
    """AutoTokenizer + AutoModelForSequenceClassification, local files and safetensors only."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(
            str(model_dir), local_files_only=True, trust_remote_code=False
        )
    except Exception as exc:
        if is_memory_error(exc):
            raise
        raise _load_failed("tokenizer", exc) from exc
    try:
        model, info = AutoModelForSequenceClassification.from_pretrained(
            str(model_dir),
            local_files_only=True,
            trust_remote_code=False,
            use_safetensors=True,
            dtype=torch.float32,  # grade in fp32 everywhere: same predictions on CPU and GPU
            output_loading_info=True,
        )
    except Exception as exc:
        if is_memory_error(exc):
            raise
        raise _load_failed("model", exc) from exc
    model.to(device)
    model.eval()
    notes = []
    missing = list((info or {}).get("missing_keys") or [])
    if missing:
        shown = ", ".join(sorted(missing)[:5]) + (" ..." if len(missing) > 5 else "")
        notes.append(
            f"{len(missing)} weight(s) were missing from the checkpoint and were randomly "
            f"initialised ({shown}): did you save the fine-tuned model after training?"
        )
    return tokenizer, model, notes


def predict(
    model_dir: Path,
    texts: Sequence[str],
    *,
    label_order: Sequence[int],
    batch_size: int | None = None,
    max_length: int = 512,
    device: str | None = None,
    num_threads: int | None = None,
    backend: str = "auto",
) -> Predictions:
    """Predict lab label indexes for `texts` (input order). `label_order[model_index]` is the lab
    label index of the model's output `model_index`. `backend`: "auto", "torch" or "onnx"."""
    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    device, threads, batch_size = _prepare_device(device, num_threads, batch_size)

    t0 = time.perf_counter()
    tokenizer, model, notes = load_model(Path(model_dir), device=device)
    order = _check_label_order(label_order, int(model.config.num_labels))
    load_s = time.perf_counter() - t0

    t1 = time.perf_counter()
    limit = _effective_max_length(max_length, tokenizer, model.config)
    encoded, keys = _tokenize(tokenizer, texts, limit)
    lengths = [len(ids) for ids in encoded["input_ids"]]
    truncated = [i for i, n in enumerate(lengths) if n >= limit]
    n_truncated = len(truncated)
    tokenize_s = time.perf_counter() - t1

    # Longest first: the peak-memory batch runs first, so an over-budget model fails fast.
    by_length = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    n_model = len(order)
    model_logits: list[list[float] | None] = [None] * len(lengths)
    pad_multiple = 8 if device.startswith("cuda") else None
    starts = list(range(0, len(by_length), batch_size))

    def padded(start: int, tensors: str):
        idx = by_length[start : start + batch_size]
        return idx, tokenizer.pad(
            {k: [encoded[k][i] for i in idx] for k in keys},
            padding=True,
            pad_to_multiple_of=pad_multiple,
            return_tensors=tensors,
        )

    def torch_logits(batch) -> torch.Tensor:
        with torch.inference_mode():
            batch = {k: v.to(device) for k, v in batch.items()}
            return model(**batch).logits.float().cpu()

    def store(idx, logits) -> None:
        if logits.shape[-1] != n_model:
            raise GradingError(
                ErrorCode.LOAD_FAILED,
                f"the model returned {logits.shape[-1]} scores per text, but its config "
                f"declares {n_model} labels.",
            )
        for row, i in enumerate(idx):
            model_logits[i] = logits[row].tolist()

    plan = onnx_backend.choose_backend(
        backend, model=model, input_names=keys, lengths=lengths, device=device, threads=threads
    )
    if plan.note:
        notes.append(plan.note)
    runner, onnx_graph, convert = None, None, {}
    try:
        if plan.backend == "onnx" and starts:
            runner, onnx_graph, convert = _start_onnx(
                _probe_batches(batch_size, tokenizer, keys, encoded, by_length),
                torch_logits,
                keys,
                tokenizer,
                model,
                threads,
                notes,
            )
        if runner is not None:
            for idx, logits in runner.map_batches(lambda start: padded(start, "np"), starts):
                store(idx, logits)
        else:
            for start in starts:
                idx, batch = padded(start, "pt")
                store(idx, torch_logits(batch))
    except GradingError:
        raise
    except Exception as exc:
        if is_memory_error(exc):
            raise
        raise GradingError(
            ErrorCode.LOAD_FAILED,
            f"the model loaded but failed while predicting: {first_line(exc)}. This usually "
            "means the tokenizer does not match the model (vocabulary size, max length).",
        ) from exc
    convert_s = float(convert.get("convert_s", 0.0))
    inference_s = time.perf_counter() - t1 - convert_s

    pred, max_logit, lab_logits = _in_lab_order(model_logits, order)
    return Predictions(
        pred=pred,
        max_logit=max_logit,
        logits=lab_logits,
        timings={
            "load_s": load_s,
            "tokenize_s": tokenize_s,
            "convert_s": convert_s,  # ONNX: export + session + verification
            "inference_s": inference_s,
            **{k: v for k, v in convert.items() if k != "convert_s"},
        },
        device=device,
        batch_size=batch_size,
        max_length=limit,
        num_threads=threads if device == "cpu" else torch.get_num_threads(),
        n_truncated=n_truncated,
        truncated=truncated,
        notes=notes,
        backend="onnx" if runner is not None else "torch",
        onnx_graph=onnx_graph,
    )


def _probe_batches(batch_size, tokenizer, keys, encoded, by_length):
    """What runs through both backends before ONNX is trusted: one batch of the longest text,
    the shortest of the first batch and the shortest of all, padded to the longest (the
    maximal length, padded rows, and a batch size that is neither the trace's 2 nor the
    loop's). One small batch keeps verification cheap: each torch probe batch costs ~0.06 s
    on the 2-core box, even a small one (measured)."""
    candidates = [by_length[0], by_length[min(batch_size, len(by_length)) - 1], by_length[-1]]
    rows = list(dict.fromkeys(candidates))  # distinct, in that order
    probe = tokenizer.pad(
        {k: [encoded[k][i] for i in rows] for k in keys}, padding=True, return_tensors="pt"
    )
    return [probe]


def _start_onnx(probes, torch_logits, keys, tokenizer, model, threads, notes):
    """Build the ONNX runner and check it against torch on the probe batches.

    Returns (runner or None, the graph this call exported or None, timings with convert_s)."""
    started = time.perf_counter()
    timings: dict[str, float] = {}

    def fallback(reason: str):
        notes.append(f"Graded with PyTorch instead of ONNX Runtime: {reason}.")
        timings["convert_s"] = time.perf_counter() - started
        return None, None, timings

    try:
        runner = onnx_backend.OnnxRunner.build(model, tokenizer, keys, threads=threads)
    except onnx_backend.OnnxUnavailable as exc:
        return fallback(str(exc))
    timings.update(runner.timings)
    verify_start = time.perf_counter()
    for batch in probes:
        reference = torch_logits(batch).numpy()
        try:
            ours = runner({k: v.numpy() for k, v in batch.items()})
        except Exception as exc:
            if is_memory_error(exc):
                raise
            return fallback(f"the ONNX session failed ({first_line(exc)})")
        if not onnx_backend.same_predictions(ours, reference):
            diff = onnx_backend.max_abs_diff(ours, reference)
            return fallback(
                f"the exported model's logits differed from PyTorch's by {diff:.2g} "
                f"(tolerance {onnx_backend.VERIFY_TOLERANCE:g})"
            )
    timings["verify_s"] = time.perf_counter() - verify_start
    timings["convert_s"] = time.perf_counter() - started
    return runner, runner.exported, timings


def _prepare_device(
    device: str | None, num_threads: int | None, batch_size: int | None
) -> tuple[str, int, int]:
    """The device, CPU thread count and batch size a prediction runs with (torch configured)."""
    import torch

    device = pick_device(device)
    threads = num_threads or default_num_threads()
    if device == "cpu" and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    if batch_size is None:
        batch_size = DEFAULT_GPU_BATCH_SIZE if device.startswith("cuda") else DEFAULT_CPU_BATCH_SIZE
    return device, threads, max(1, int(batch_size))


def _tokenize(tokenizer, texts: Sequence[str], limit: int) -> tuple[Any, list[str]]:
    """Encode the texts unpadded (batches are padded later, by length); returns the encoding
    and the model inputs it has. A tokenizer that fails is the submission's `load_failed`."""
    wanted = ("input_ids", "attention_mask", "token_type_ids")
    keys = [k for k in tokenizer.model_input_names if k in wanted]
    try:
        encoded = tokenizer(
            list(texts),
            truncation=True,
            max_length=limit,
            padding=False,
            return_attention_mask=True,
        )
    except Exception as exc:
        if is_memory_error(exc):
            raise
        raise GradingError(
            ErrorCode.LOAD_FAILED,
            f"the tokenizer failed on the held-out texts: {first_line(exc)}. "
            "Check that the tokenizer saved with the model is the one it was trained with.",
        ) from exc
    return encoded, [k for k in keys if k in encoded]


def _in_lab_order(
    model_logits: list[list[float] | None], order: Sequence[int]
) -> tuple[list[int], list[float], list[list[float]]]:
    """Each text's predicted lab label, its top logit and its logits in lab-label order."""
    n_model = len(order)
    pred: list[int] = []
    max_logit: list[float] = []
    lab_logits: list[list[float]] = []
    for row in model_logits:
        assert row is not None
        best = max(range(n_model), key=row.__getitem__)  # first max, as torch.argmax
        pred.append(order[best])
        max_logit.append(row[best])
        reordered = [0.0] * n_model
        for model_index, lab_index in enumerate(order):
            reordered[lab_index] = row[model_index]
        lab_logits.append(reordered)
    return pred, max_logit, lab_logits
