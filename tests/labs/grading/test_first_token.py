"""The last layer traced for the first token only: same logits, for every family it claims."""

import copy

import pytest
import torch
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    DistilBertConfig,
    DistilBertForSequenceClassification,
    ElectraConfig,
    ElectraForSequenceClassification,
    GPT2Config,
    GPT2ForSequenceClassification,
    RobertaConfig,
    RobertaForSequenceClassification,
    XLMRobertaConfig,
    XLMRobertaForSequenceClassification,
)

from labs.grading import first_token, onnx_backend
from tests.labs.grading.tiny import VOCAB_TEXTS, build_tokenizer

SMALL = {"vocab_size": 50, "num_labels": 3, "max_position_embeddings": 64}
BERT_LIKE = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 48,
    "initializer_range": 0.5,  # wide: logits that differ between texts
    "pad_token_id": 1,
}
FAMILIES = {
    "bert": (BertForSequenceClassification, BertConfig(**SMALL, **BERT_LIKE)),
    "roberta": (RobertaForSequenceClassification, RobertaConfig(**SMALL, **BERT_LIKE)),
    "xlm-roberta": (XLMRobertaForSequenceClassification, XLMRobertaConfig(**SMALL, **BERT_LIKE)),
    "electra": (
        ElectraForSequenceClassification,
        ElectraConfig(**SMALL, **BERT_LIKE, embedding_size=32),
    ),
    "distilbert": (
        DistilBertForSequenceClassification,
        DistilBertConfig(
            **SMALL, dim=32, n_layers=2, n_heads=4, hidden_dim=48, initializer_range=0.5
        ),
    ),
}


def _model(cls, config, attention="eager"):
    # A copy: a model may write to its config (the export does), and FAMILIES is shared by
    # every test in this module, so one test's model must not change the next one's.
    config = copy.deepcopy(config)
    torch.manual_seed(0)
    config._attn_implementation = attention
    return cls(config).eval()


def _padded_batch():
    """Rows of 3 to 12 tokens padded to 12 (token 1 is padding)."""
    generator = torch.Generator().manual_seed(5)
    ids = torch.randint(2, 50, (6, 12), generator=generator)
    mask = torch.ones_like(ids)
    for row, length in enumerate((12, 9, 7, 5, 4, 3)):
        ids[row, length:] = 1
        mask[row, length:] = 0
    return {"input_ids": ids, "attention_mask": mask}


def _logits_and_last_layer_length(model, batch):
    """The logits, and how many positions the last encoder layer returned."""
    lengths = []
    layer = (model.base_model.encoder if hasattr(model.base_model, "encoder") else None) or (
        model.base_model.transformer
    )
    handle = layer.layer[-1].register_forward_hook(lambda _m, _i, out: lengths.append(out.shape[1]))
    try:
        with torch.no_grad():
            logits = model(**batch).logits
    finally:
        handle.remove()
    return logits, lengths[0]


@pytest.mark.parametrize("attention", ["eager", "sdpa"])
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_it_gives_the_full_models_logits_for_every_family_it_claims(family, attention):
    cls, config = FAMILIES[family]
    model = _model(cls, config, attention)
    batch = _padded_batch()
    full, full_length = _logits_and_last_layer_length(model, batch)

    with first_token.applied_to(model) as applied:
        pruned, pruned_length = _logits_and_last_layer_length(model, batch)

    assert first_token.supports(model) and applied
    assert (full_length, pruned_length) == (12, 1)
    assert torch.equal(full.argmax(-1), pruned.argmax(-1))
    assert (full - full[0]).abs().max().item() > 0.1  # the rows really differ
    assert (full - pruned).abs().max().item() < 1e-5


def test_the_model_is_left_as_it_was_afterwards():
    model = _model(*FAMILIES["bert"])
    batch = _padded_batch()
    before, _ = _logits_and_last_layer_length(model, batch)

    with first_token.applied_to(model):
        pass

    after, length = _logits_and_last_layer_length(model, batch)
    assert length == 12 and torch.equal(before, after)
    assert "forward" not in vars(model.bert.encoder.layer[-1])


def test_it_is_undone_when_the_block_raises():
    model = _model(*FAMILIES["distilbert"])

    with pytest.raises(RuntimeError), first_token.applied_to(model):
        raise RuntimeError("export failed")

    assert "forward" not in vars(model.distilbert.transformer.layer[-1])


def test_a_head_that_reads_another_position_is_left_alone():
    # GPT-2's classifier reads the last non-padding token, not the first.
    config = GPT2Config(vocab_size=50, n_embd=32, n_layer=2, n_head=4, num_labels=3)
    config.pad_token_id = 1
    model = _model(GPT2ForSequenceClassification, config)
    batch = _padded_batch()
    with torch.no_grad():
        before = model(**batch).logits

    with first_token.applied_to(model) as applied, torch.no_grad():
        during = model(**batch).logits

    assert not first_token.supports(model) and not applied
    assert torch.equal(before, during)


def test_a_decoder_configured_bert_is_left_alone():
    config = BertConfig(**SMALL, **BERT_LIKE, is_decoder=True)

    assert not first_token.supports(_model(BertForSequenceClassification, config))


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_the_onnx_graph_of_every_family_gives_the_full_models_logits(family, tmp_path):
    tokenizer = build_tokenizer()
    cls, config = FAMILIES[family]
    config = copy.deepcopy(config)
    config.vocab_size, config.pad_token_id = len(tokenizer), tokenizer.pad_token_id
    model = _model(cls, config, "sdpa")  # as the grader loads it; the export traces eager
    names = ["input_ids", "attention_mask"]
    if family in {"bert", "electra"}:
        names.append("token_type_ids")

    runner = onnx_backend.OnnxRunner.build(model, tokenizer, names, threads=1, workdir=tmp_path)

    encoded = tokenizer(list(VOCAB_TEXTS), padding=True, return_tensors="pt")
    batch = {name: encoded[name] for name in names}
    with torch.no_grad():
        expected = model(**batch).logits.numpy()
    ours = runner({name: tensor.numpy() for name, tensor in batch.items()})
    assert onnx_backend.same_predictions(ours, expected)  # 1e-4 and the same argmax
    assert "forward" not in vars(first_token._last_layer(model)[0])
