import threading

import numpy as np
import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from labs.grading import onnx_backend
from labs.grading.engine import GradingLimits, grade
from labs.grading.inference import predict
from tests.labs.grading.tiny import (
    SAMPLE_ROWS,
    argmax,
    build_tiny_model,
    mixed_length_texts,
    one_at_a_time_logits,
    write_dataset,
)

LABELS = ["negative", "neutral", "positive"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny-onnx") / "model", seed=3)


@pytest.fixture(autouse=True)
def _empty_graph_cache():
    onnx_backend.clear_graph_cache()
    yield
    onnx_backend.clear_graph_cache()


def _texts(n: int = 40) -> list[str]:
    return mixed_length_texts(n, seed=11)


def _max_diff(a, b) -> float:
    return max(abs(x - y) for ra, rb in zip(a, b, strict=True) for x, y in zip(ra, rb, strict=True))


def test_onnx_predictions_are_identical_to_torch_on_padded_batches(model_dir):
    texts = _texts()
    reference = one_at_a_time_logits(model_dir, texts)

    on_torch = predict(model_dir, texts, label_order=[0, 1, 2], batch_size=8, backend="torch")
    on_onnx = predict(model_dir, texts, label_order=[0, 1, 2], batch_size=8, backend="onnx")

    assert on_torch.backend == "torch" and on_onnx.backend == "onnx"
    assert on_onnx.notes == []
    assert on_onnx.pred == on_torch.pred == [argmax(row) for row in reference]
    assert len(set(on_onnx.pred)) > 1  # not a constant classifier
    assert _max_diff(on_onnx.logits, on_torch.logits) < 1e-4
    assert _max_diff(on_onnx.logits, reference) < 1e-4
    assert on_onnx.timings["convert_s"] > 0 and on_torch.timings["convert_s"] == 0
    assert on_onnx.onnx_graph and isinstance(on_onnx.onnx_graph["graph"], bytes)


def test_one_padded_batch_and_a_permuted_label_order(model_dir):
    texts = _texts(20)
    order = [2, 0, 1]
    reference = one_at_a_time_logits(model_dir, texts)

    result = predict(model_dir, texts, label_order=order, batch_size=64, backend="onnx")

    assert result.backend == "onnx"
    assert result.pred == [order[argmax(row)] for row in reference]
    for ours, ref in zip(result.logits, reference, strict=True):
        for model_index, lab_index in enumerate(order):
            assert ours[lab_index] == pytest.approx(ref[model_index], abs=1e-4)


def test_a_cached_graph_is_reused_without_exporting_again(model_dir, monkeypatch):
    texts = _texts(10)
    first = predict(model_dir, texts, label_order=[0, 1, 2], backend="onnx")
    onnx_backend.remember_graph(first.onnx_graph)

    def no_export(*_args, **_kwargs):
        raise AssertionError("the cached graph should have been used")

    monkeypatch.setattr(onnx_backend, "export_graph", no_export)
    second = predict(model_dir, texts, label_order=[0, 1, 2], backend="onnx")

    assert second.backend == "onnx" and second.onnx_graph is None and second.notes == []
    assert second.pred == first.pred
    assert _max_diff(second.logits, first.logits) < 1e-6


def test_a_failed_export_falls_back_to_torch_with_a_note(model_dir, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("Exporting the operator 'aten::frobnicate' is not supported")

    monkeypatch.setattr(onnx_backend, "export_graph", broken)
    texts = _texts(10)

    result = predict(model_dir, texts, label_order=[0, 1, 2], backend="onnx")

    assert result.backend == "torch" and result.onnx_graph is None
    assert any("ONNX export failed" in note and "frobnicate" in note for note in result.notes)
    assert result.pred == [argmax(row) for row in one_at_a_time_logits(model_dir, texts)]


def test_logits_that_differ_from_torch_fall_back_to_torch_with_a_note(model_dir, monkeypatch):
    real_call = onnx_backend.OnnxRunner.__call__
    monkeypatch.setattr(
        onnx_backend.OnnxRunner, "__call__", lambda self, batch: real_call(self, batch) + 1e-3
    )
    texts = _texts(10)

    result = predict(model_dir, texts, label_order=[0, 1, 2], backend="onnx")

    assert result.backend == "torch" and result.onnx_graph is None
    assert any("differed from PyTorch" in note for note in result.notes)
    reference = one_at_a_time_logits(model_dir, texts)
    assert _max_diff(result.logits, reference) < 1e-4


def test_a_graph_wrong_only_on_padded_rows_is_caught_by_the_probe(model_dir, monkeypatch):
    real_call = onnx_backend.OnnxRunner.__call__

    def wrong_where_padded(self, batch):
        logits = real_call(self, batch)
        padded = (np.asarray(batch["attention_mask"]) == 0).any(axis=1)
        return logits + 1e-3 * padded[:, None]

    monkeypatch.setattr(onnx_backend.OnnxRunner, "__call__", wrong_where_padded)

    result = predict(model_dir, _texts(10), label_order=[0, 1, 2], backend="onnx")

    assert result.backend == "torch"
    assert any("differed from PyTorch" in note for note in result.notes)


def test_auto_picks_torch_for_a_tiny_job_without_a_note(model_dir):
    result = predict(model_dir, _texts(10), label_order=[0, 1, 2])  # backend="auto"

    assert result.backend == "torch"
    assert result.notes == [] and result.timings["convert_s"] == 0


def test_the_auto_rule_weighs_the_estimated_saving_against_the_conversion(model_dir):
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, local_files_only=True)
    names = ["input_ids", "token_type_ids", "attention_mask"]

    def plan(lengths, requested="auto", device="cpu"):
        return onnx_backend.choose_backend(
            requested, model=model, input_names=names, lengths=lengths, device=device, threads=2
        )

    small, huge = plan([30] * 1000), plan([30] * 4_000_000)
    assert small.backend == "torch" and small.note is None
    assert huge.backend == "onnx" and huge.est_torch_s > small.est_torch_s
    # the export is only paid once: with a cached graph, conversion is estimated cheaper
    key = onnx_backend.graph_key(model, names)
    onnx_backend.remember_graph({"key": key, "graph": b"cached"})
    assert plan([30] * 1000).est_convert_s < small.est_convert_s

    assert plan([30], requested="torch").backend == "torch"
    assert plan([30], requested="onnx").backend == "onnx"  # forced, however small
    on_gpu = plan([30] * 4_000_000, requested="onnx", device="cuda")
    assert on_gpu.backend == "torch" and "CPU only" in on_gpu.note
    assert plan([30] * 4_000_000, device="cuda").note is None  # auto: no note
    with pytest.raises(ValueError):
        plan([30], requested="tensorrt")


def test_same_predictions_needs_both_the_tolerance_and_theargmax():
    torch_logits = np.array([[0.0, 1.0, 0.5], [2.0, 1.0, 0.0]], dtype=np.float32)
    assert onnx_backend.same_predictions(torch_logits + 5e-5, torch_logits)
    assert not onnx_backend.same_predictions(torch_logits + 2e-4, torch_logits)
    assert not onnx_backend.same_predictions(torch_logits[:1], torch_logits)
    tied = np.array([[1.0, 1.0, 0.0]], dtype=np.float32)
    assert not onnx_backend.same_predictions(tied + np.float32([0.0, 1e-5, 0.0]), tied)
    assert not onnx_backend.same_predictions(np.full((1, 3), np.nan), tied)


def test_the_engine_grades_with_onnx_and_keeps_the_graph_for_the_next_job(model_dir, tmp_path):
    rows = [(f"{text} {suffix}", label) for suffix in ("", "indeed") for text, label in SAMPLE_ROWS]
    dataset = write_dataset(tmp_path / "held.csv", rows)

    on_torch = grade(model_dir, dataset, lab_labels=LABELS, limits=GradingLimits(backend="torch"))
    on_onnx = grade(model_dir, dataset, lab_labels=LABELS, limits=GradingLimits(backend="onnx"))

    assert on_torch.backend == "torch" and on_onnx.backend == "onnx"
    assert on_onnx.metrics_all == on_torch.metrics_all
    assert on_onnx.timings["convert_s"] > 0
    key = onnx_backend.graph_key(
        AutoModelForSequenceClassification.from_pretrained(model_dir, local_files_only=True),
        ["input_ids", "token_type_ids", "attention_mask"],
    )
    assert onnx_backend.cached_graph(key)  # the child's export came back to this process
    with pytest.raises(ValueError):
        GradingLimits(backend="tensorrt")


def test_the_export_traces_eager_attention_and_leaves_the_model_as_it_was(model_dir, tmp_path):
    tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, local_files_only=True)
    model.eval()
    before = model.config._attn_implementation
    names = ["input_ids", "token_type_ids", "attention_mask"]

    runner = onnx_backend.OnnxRunner.build(model, tokenizer, names, threads=1, workdir=tmp_path)

    assert model.config._attn_implementation == before
    assert list(tmp_path.iterdir()) == []  # the export's scratch folder is gone
    batch = tokenizer(_texts(6), padding=True, return_tensors="pt")
    with torch.no_grad():
        expected = model(**batch).logits.numpy()
    assert onnx_backend.same_predictions(runner({k: v.numpy() for k, v in batch.items()}), expected)


def _record_length(lengths: list):
    return lambda _module, _inputs, output: lengths.append(int(output.shape[1]))


def test_the_graph_is_traced_with_the_last_layer_on_the_first_token_only(model_dir, tmp_path):
    tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, local_files_only=True)
    model.eval()
    names = ["input_ids", "token_type_ids", "attention_mask"]
    last = model.bert.encoder.layer[-1]
    traced_lengths = []  # positions the last layer returned while the exporter traced it
    handle = last.register_forward_hook(_record_length(traced_lengths))

    runner = onnx_backend.OnnxRunner.build(model, tokenizer, names, threads=1, workdir=tmp_path)

    handle.remove()
    assert traced_lengths and set(traced_lengths) == {1}  # the trace saw one position
    assert "forward" not in vars(last)  # and the model is whole again
    batch = tokenizer(_texts(8), padding=True, return_tensors="pt")
    with torch.no_grad():
        expected = model(**batch).logits.numpy()
    assert onnx_backend.same_predictions(runner({k: v.numpy() for k, v in batch.items()}), expected)


class _FakeSession:
    """Returns each batch's first input id as its 'logits'; optionally waits for a partner run."""

    def __init__(self, barrier=None, fail_on=None):
        self.barrier, self.fail_on = barrier, fail_on

    def run(self, _outputs, feed):
        value = int(feed["input_ids"][0, 0])
        if self.barrier is not None:
            self.barrier.wait()
        if value == self.fail_on:
            raise RuntimeError(f"batch {value} failed")
        return [np.full((1, 3), value, dtype=np.float32)]


def _numbered_batch(item):
    return [item], {"input_ids": np.array([[item]])}


def test_batches_run_in_parallel_and_come_back_in_order():
    barrier = threading.Barrier(2, timeout=10)  # breaks unless two runs overlap
    runner = onnx_backend.OnnxRunner(
        session=_FakeSession(barrier), input_names=["input_ids"], workers=2
    )

    results = list(runner.map_batches(_numbered_batch, list(range(8))))

    assert [rows for rows, _ in results] == [[i] for i in range(8)]
    assert [float(logits[0, 0]) for _, logits in results] == [float(i) for i in range(8)]


def test_a_failing_batch_raises_and_one_worker_runs_sequentially():
    runner = onnx_backend.OnnxRunner(
        session=_FakeSession(fail_on=3), input_names=["input_ids"], workers=2
    )
    with pytest.raises(RuntimeError, match="batch 3 failed"):
        list(runner.map_batches(_numbered_batch, list(range(8))))

    sequential = onnx_backend.OnnxRunner(
        session=_FakeSession(), input_names=["input_ids"], workers=1
    )
    assert [rows for rows, _ in sequential.map_batches(_numbered_batch, [5, 6])] == [[5], [6]]
