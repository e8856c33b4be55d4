"""Tiny Hugging Face models, datasets and archives built on the fly for the grading tests.

Nothing here touches the network: the WordPiece vocabulary is trained with `tokenizers` on a
handful of sentences and the BERT weights are random (seeded), so building one takes well under a
second once torch and transformers are imported.
"""

from __future__ import annotations

import csv
import json
import random
import tarfile
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path

LABELS = ("negative", "neutral", "positive")

VOCAB_TEXTS = (
    "the movie was great and the acting was wonderful",
    "terrible plot, bad acting, a boring waste of time",
    "it was fine I guess, nothing special",
    "I loved every minute of this film",
    "the service was slow and the food was cold",
    "an average experience, neither good nor bad",
    "absolutely fantastic, would recommend to everyone",
    "worst purchase ever, it broke after one day",
    "the package arrived on tuesday",
)

SAMPLE_ROWS = (
    ("the movie was great", "positive"),
    ("I loved every minute of this film", "positive"),
    ("absolutely fantastic, would recommend", "positive"),
    ("wonderful acting and a great plot", "positive"),
    ("terrible plot and bad acting", "negative"),
    ("worst purchase ever", "negative"),
    ("the food was cold and the service slow", "negative"),
    ("a boring waste of time", "negative"),
    ("it was fine I guess", "neutral"),
    ("the package arrived on tuesday", "neutral"),
    ("an average experience", "neutral"),
    ("neither good nor bad, nothing special", "neutral"),
)

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


@lru_cache(maxsize=8)
def _vocab(vocab_texts: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(
        vocab_size=400, special_tokens=list(SPECIAL_TOKENS), show_progress=False
    )
    tok.train_from_iterator(list(vocab_texts), trainer=trainer)
    return tuple(sorted(tok.get_vocab().items(), key=lambda kv: kv[1]))


def build_tokenizer(vocab_texts: Iterable[str] = VOCAB_TEXTS):
    """A BertTokenizer (the tokenizers-backed "fast" one) over a freshly trained WordPiece vocab."""
    from transformers import BertTokenizerFast

    vocab = dict(_vocab(tuple(vocab_texts)))
    return BertTokenizerFast(vocab=vocab, model_max_length=128)


def build_tiny_model(
    directory: Path,
    *,
    labels: Sequence[str] = LABELS,
    id2label: Mapping[int, str] | Sequence[str] | None = None,
    seed: int = 0,
    vocab_texts: Iterable[str] = VOCAB_TEXTS,
    hidden_size: int = 32,
    layers: int = 2,
) -> Path:
    """Save a random, seeded tiny BERT sequence classifier + tokenizer into `directory`.

    `id2label` overrides the labels written to config.json (e.g. ``["LABEL_0", ...]`` or a
    permutation of the lab labels); by default the model's label i is `labels[i]`.
    `hidden_size`/`layers` make a slower model for time-limit and worker-crash tests.
    """
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(vocab_texts)
    if id2label is None:
        names = list(labels)
    elif isinstance(id2label, Mapping):
        names = [id2label[i] for i in range(len(id2label))]
    else:
        names = list(id2label)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=37 if hidden_size == 32 else 4 * hidden_size,
        max_position_embeddings=128,
        num_labels=len(names),
        id2label=dict(enumerate(names)),
        label2id={name: i for i, name in enumerate(names)},
        pad_token_id=tokenizer.pad_token_id,
        # A wide init so that random weights give varied predictions across texts.
        initializer_range=0.5,
    )
    torch.manual_seed(seed)
    model = BertForSequenceClassification(config)
    model.eval()
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def mixed_length_texts(n: int = 40, *, seed: int) -> list[str]:
    """SAMPLE_ROWS' texts plus `n` of 1 to 60 vocabulary words, shuffled: every batch of a
    length-sorted loop pads some rows."""
    words = " ".join(VOCAB_TEXTS).split()
    rng = random.Random(seed)
    texts = [text for text, _ in SAMPLE_ROWS]
    texts += [" ".join(rng.choice(words) for _ in range(rng.randint(1, 60))) for _ in range(n)]
    rng.shuffle(texts)
    return texts


def one_at_a_time_logits(model_dir: Path, texts: Iterable[str], max_length: int = 512):
    """One text at a time, no padding: the reference every batched backend must reproduce."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, local_files_only=True)
    model.eval()
    rows = []
    with torch.no_grad():
        for text in texts:
            enc = tokenizer(text, truncation=True, max_length=max_length, return_tensors="pt")
            rows.append(model(**enc).logits[0].tolist())
    return rows


def argmax(row: Sequence[float]) -> int:
    """The first maximum, as torch.argmax."""
    return max(range(len(row)), key=row.__getitem__)


def _normalise_rows(rows: Iterable) -> list[dict]:
    out = []
    for row in rows:
        if isinstance(row, Mapping):
            out.append(dict(row))
        else:
            text, label = row
            out.append({"text": text, "label": label})
    return out


def write_dataset(path: Path, rows: Iterable = SAMPLE_ROWS, fmt: str | None = None) -> Path:
    """Write rows ((text, label) pairs or dicts) as csv / jsonl / parquet (default: by suffix)."""
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    records = _normalise_rows(rows)
    columns = list(dict.fromkeys(key for record in records for key in record)) or ["text", "label"]
    if fmt == "csv":
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            writer.writerows(records)
    elif fmt in {"jsonl", "json"}:
        with path.open("w", encoding="utf-8") as fh:
            for record in records:
                fh.write(json.dumps(record) + "\n")
    elif fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table({col: [r.get(col) for r in records] for col in columns})
        pq.write_table(table, path)
    else:
        raise ValueError(f"unknown dataset format {fmt!r}")
    return path


def make_archive(model_dir: Path, path: Path, fmt: str = "zip") -> Path:
    """Pack the files of `model_dir` at the root of a zip or tar.gz archive."""
    model_dir, path = Path(model_dir), Path(path)
    files = sorted(p for p in model_dir.rglob("*") if p.is_file())
    if fmt == "zip":
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for file in files:
                zf.write(file, file.relative_to(model_dir).as_posix())
    elif fmt in {"tar.gz", "tgz"}:
        with tarfile.open(path, "w:gz") as tf:
            for file in files:
                tf.add(file, arcname=file.relative_to(model_dir).as_posix())
    else:
        raise ValueError(f"unknown archive format {fmt!r}")
    return path
