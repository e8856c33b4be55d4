import hashlib
import json
import random

import pytest

from labs.grading.datasets import HeldOut, load_dataset, split_public_private
from labs.grading.errors import ErrorCode, GradingError
from tests.labs.grading.tiny import SAMPLE_ROWS, write_dataset

LABELS = ["negative", "neutral", "positive"]


def _error(path, labels=LABELS) -> GradingError:
    with pytest.raises(GradingError) as info:
        load_dataset(path, lab_labels=labels)
    assert info.value.code == ErrorCode.INVALID_DATASET
    return info.value


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_each_format_loads_the_same_texts_label_indexes_and_file_checksum(tmp_path, fmt):
    path = write_dataset(tmp_path / f"held.{fmt}", SAMPLE_ROWS)

    held = load_dataset(path, lab_labels=LABELS)

    assert isinstance(held, HeldOut)
    assert held.texts == [text for text, _ in SAMPLE_ROWS]
    assert held.labels == [LABELS.index(label) for _, label in SAMPLE_ROWS]
    assert held.n_rows == len(SAMPLE_ROWS)
    assert held.checksum == hashlib.sha256(path.read_bytes()).hexdigest()


def test_labels_match_case_insensitively_and_extra_columns_are_ignored(tmp_path):
    rows = [
        {"id": 1, "Text": "good", "Label": " POSITIVE "},
        {"id": 2, "Text": "bad", "Label": "Negative"},
        {"id": 3, "Text": "meh", "Label": "neutral"},
    ]
    held = load_dataset(write_dataset(tmp_path / "held.csv", rows), lab_labels=LABELS)

    assert held.labels == [2, 0, 1]
    assert held.texts == ["good", "bad", "meh"]


def test_missing_columns_are_named_with_the_columns_found(tmp_path):
    path = write_dataset(tmp_path / "held.csv", [{"sentence": "good", "label": "positive"}])

    message = _error(path).message

    assert "'text'" in message
    assert "'sentence'" in message and "'label'" in message
    assert "held.csv" in message


def test_missing_columns_in_jsonl_and_parquet_are_reported_too(tmp_path):
    for fmt in ("jsonl", "parquet"):
        path = write_dataset(tmp_path / f"held.{fmt}", [{"text": "good", "sentiment": "positive"}])
        assert "'label'" in _error(path).message


def test_empty_texts_are_reported_with_their_spreadsheet_row_numbers(tmp_path):
    rows = [*SAMPLE_ROWS[:3], ("", "positive"), ("   ", "negative"), *SAMPLE_ROWS]
    path = write_dataset(tmp_path / "held.csv", rows)

    message = _error(path).message

    # The header is row 1, so data rows 4 and 5 are rows 5 and 6, as in a spreadsheet.
    assert "empty text in 2 rows (5, 6)" in message


def test_empty_texts_in_jsonl_are_reported_with_line_numbers(tmp_path):
    path = tmp_path / "held.jsonl"
    lines = [json.dumps({"text": t, "label": y}) for t, y in SAMPLE_ROWS]
    lines.insert(2, json.dumps({"text": None, "label": "neutral"}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    assert "(3)" in _error(path).message


def test_unknown_labels_are_listed_with_row_numbers_and_the_lab_labels(tmp_path):
    rows = [*SAMPLE_ROWS, ("so so", "mixed"), ("great", "pos"), ("fine", "mixed")]
    path = write_dataset(tmp_path / "held.csv", rows)

    message = _error(path).message

    first = len(SAMPLE_ROWS) + 2  # header + 1-based
    assert f"'mixed' (rows {first}, {first + 2})" in message
    assert f"'pos' (rows {first + 1})" in message
    assert "negative, neutral, positive" in message


def test_a_lab_label_without_any_row_is_named(tmp_path):
    rows = [(t, y) for t, y in SAMPLE_ROWS if y != "neutral"]
    path = write_dataset(tmp_path / "held.parquet", rows)

    message = _error(path).message

    assert "'neutral'" in message
    assert "'negative'" not in message


def test_a_csv_that_is_not_utf8_says_how_to_fix_it(tmp_path):
    path = tmp_path / "held.csv"
    path.write_bytes("text,label\ncaf\xe9 ok,positive\n".encode("latin-1"))

    message = _error(path).message

    assert "UTF-8" in message and "line 2" in message


def test_a_jsonl_line_that_is_not_an_object_is_reported_by_line(tmp_path):
    path = tmp_path / "held.jsonl"
    path.write_text('{"text": "a", "label": "positive"}\nnot json\n[1, 2]\n', encoding="utf-8")

    assert "lines 2, 3" in _error(path).message


def test_an_unsupported_extension_or_an_empty_file_is_rejected(tmp_path):
    (tmp_path / "held.xlsx").write_bytes(b"PK")
    assert ".xlsx" in _error(tmp_path / "held.xlsx").message
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    assert "empty" in _error(tmp_path / "empty.csv").message
    (tmp_path / "header.csv").write_text("text,label\n", encoding="utf-8")
    assert "no data rows" in _error(tmp_path / "header.csv").message


def test_a_corrupt_parquet_file_is_an_invalid_dataset(tmp_path):
    path = tmp_path / "held.parquet"
    path.write_bytes(b"PAR1 this is not parquet")

    assert "Parquet" in _error(path).message


def _texts(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [f"review {i} {rng.random()}" for i in range(n)]


def test_the_split_is_deterministic_and_depends_on_the_salt():
    texts = _texts(200)

    first = split_public_private(texts, salt="lab-1", public_fraction=0.5)

    assert first == split_public_private(texts, salt="lab-1", public_fraction=0.5)
    assert first != split_public_private(texts, salt="lab-2", public_fraction=0.5)


def test_a_row_keeps_its_side_when_rows_are_reordered_or_appended():
    texts = _texts(300)
    base = dict(zip(texts, split_public_private(texts, salt="s", public_fraction=0.4), strict=True))

    shuffled = texts[:]
    random.Random(1).shuffle(shuffled)
    grown = texts + _texts(100, seed=7)

    for variant in (shuffled, grown):
        mask = split_public_private(variant, salt="s", public_fraction=0.4)
        assert all(base[t] == m for t, m in zip(variant, mask, strict=True) if t in base)


def test_the_public_share_is_about_the_requested_fraction():
    texts = _texts(4000)
    for fraction in (0.2, 0.5, 0.8):
        share = sum(split_public_private(texts, salt="x", public_fraction=fraction)) / len(texts)
        assert abs(share - fraction) < 0.04
    assert not any(split_public_private(texts, salt="x", public_fraction=0.0))
    assert all(split_public_private(texts, salt="x", public_fraction=1.0))
    with pytest.raises(ValueError):
        split_public_private(texts, salt="x", public_fraction=1.5)
