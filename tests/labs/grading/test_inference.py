import pytest

from labs.grading.errors import ErrorCode, GradingError
from labs.grading.inference import predict
from tests.labs.grading.tiny import (
    VOCAB_TEXTS,
    argmax,
    build_tiny_model,
    mixed_length_texts,
    one_at_a_time_logits,
)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model", seed=0)


def _texts(n: int = 40) -> list[str]:
    return mixed_length_texts(n, seed=5)


def test_batched_predictions_equal_a_one_at_a_time_forward_pass(model_dir):
    texts = _texts()
    reference = one_at_a_time_logits(model_dir, texts)

    result = predict(model_dir, texts, label_order=[0, 1, 2], batch_size=8)

    assert result.pred == [argmax(row) for row in reference]
    assert len(set(result.pred)) > 1  # the tiny model is not a constant classifier
    diff = max(
        abs(a - b)
        for ours, ref in zip(result.logits, reference, strict=True)
        for a, b in zip(ours, ref, strict=True)
    )
    assert diff < 1e-4
    assert result.max_logit == pytest.approx([max(row) for row in reference], abs=1e-4)
    assert set(result.timings) >= {"load_s", "inference_s"}
    assert result.device == "cpu"


def test_label_order_maps_model_outputs_to_lab_label_indexes(model_dir):
    texts = _texts(10)
    reference = one_at_a_time_logits(model_dir, texts)
    order = [2, 0, 1]  # model output 0 is lab label 2, ...

    result = predict(model_dir, texts, label_order=order)

    assert result.pred == [order[argmax(row)] for row in reference]
    for ours, ref in zip(result.logits, reference, strict=True):
        for model_index, lab_index in enumerate(order):
            assert ours[lab_index] == pytest.approx(ref[model_index], abs=1e-4)


def test_the_original_order_is_restored_after_sorting_by_length(model_dir):
    texts = _texts()
    forward = predict(model_dir, texts, label_order=[0, 1, 2], batch_size=3)
    backward = predict(model_dir, texts[::-1], label_order=[0, 1, 2], batch_size=64)

    assert backward.pred == forward.pred[::-1]
    assert backward.max_logit == pytest.approx(forward.max_logit[::-1], abs=1e-4)


def test_long_texts_are_truncated_to_max_length_and_counted(model_dir):
    long_text = " ".join(VOCAB_TEXTS * 3)
    texts = [long_text, "the movie was great"]

    result = predict(model_dir, texts, label_order=[0, 1, 2], max_length=16)

    reference = one_at_a_time_logits(model_dir, texts, max_length=16)
    assert result.pred == [argmax(row) for row in reference]
    assert result.n_truncated == 1 and result.max_length == 16
    assert result.truncated == [0]  # the engine words the note for the part a reader sees


def test_the_model_position_limit_caps_max_length(model_dir):
    # The tiny BERT has 128 positions; 512 would crash the embedding lookup without the cap.
    long_text = " ".join(VOCAB_TEXTS * 10)

    result = predict(model_dir, [long_text], label_order=[0, 1, 2], max_length=512)

    assert result.max_length == 128 and result.n_truncated == 1


def test_a_label_order_that_does_not_fit_the_model_is_a_label_mismatch(model_dir):
    with pytest.raises(GradingError) as info:
        predict(model_dir, ["x"], label_order=[0, 1])
    assert info.value.code == ErrorCode.LABEL_MISMATCH


def test_weights_transformers_cannot_read_are_load_failed_with_the_first_line(tmp_path):
    broken = build_tiny_model(tmp_path / "broken")
    (broken / "model.safetensors").write_bytes(b'\x08\x00\x00\x00\x00\x00\x00\x00{"a": 1}')

    with pytest.raises(GradingError) as info:
        predict(broken, ["x"], label_order=[0, 1, 2])

    assert info.value.code == ErrorCode.LOAD_FAILED
    assert "could not load the model" in info.value.message
    assert "save_pretrained" in info.value.message
    assert "\n" not in info.value.message


def test_a_tokenizer_transformers_cannot_read_is_load_failed(tmp_path):
    broken = build_tiny_model(tmp_path / "broken")
    (broken / "tokenizer.json").write_text("{not json", encoding="utf-8")

    with pytest.raises(GradingError) as info:
        predict(broken, ["x"], label_order=[0, 1, 2])

    assert info.value.code == ErrorCode.LOAD_FAILED
    assert "tokenizer" in info.value.message
