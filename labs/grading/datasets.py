"""Held-out datasets: load and validate an instructor's CSV / JSONL / Parquet file.

Every problem is a GradingError(INVALID_DATASET) whose message names the rows to fix. A row
number is what the instructor sees when opening the file: the line number for CSV (the header is
row 1, as in a spreadsheet) and JSONL, and the 1-based record number for Parquet.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from labs.grading.errors import ErrorCode, GradingError

REQUIRED_COLUMNS = ("text", "label")
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
_SHOW = 10  # how many offending rows / labels a message lists


@dataclass(frozen=True)
class HeldOut:
    """A validated held-out set. `labels[i]` indexes `lab_labels`."""

    texts: list[str]
    labels: list[int]
    lab_labels: list[str]
    n_rows: int
    checksum: str  # sha256 hex digest of the file's bytes
    source: str = ""  # file name, for messages

    def __post_init__(self) -> None:
        if not (len(self.texts) == len(self.labels) == self.n_rows):
            raise ValueError("texts, labels and n_rows disagree")


def _fail(message: str) -> GradingError:
    return GradingError(ErrorCode.INVALID_DATASET, message)


def _rows_text(rows: Sequence[int]) -> str:
    shown = ", ".join(str(r) for r in rows[:_SHOW])
    more = f" and {len(rows) - _SHOW} more" if len(rows) > _SHOW else ""
    return f"{shown}{more}"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _match_columns(found: Iterable[str], source: str) -> dict[str, str]:
    """Map each required column to the file's column name (case / whitespace tolerant)."""
    found = [str(c) for c in found if c is not None]
    by_key = {}
    for name in found:
        by_key.setdefault(name.strip().lower(), name)
    missing = [col for col in REQUIRED_COLUMNS if col not in by_key]
    if missing:
        shown = ", ".join(repr(c) for c in found) if found else "none"
        raise _fail(
            f"{source}: missing column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(m) for m in missing)}; columns found: {shown}. "
            "The held-out file needs a 'text' and a 'label' column."
        )
    return {col: by_key[col] for col in REQUIRED_COLUMNS}


Columns = tuple[list[object], list[object], list[int]]  # texts, labels, row numbers


def _read_csv(path: Path) -> Columns:
    raw = path.read_bytes()
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _fail(
            f"{path.name}: not valid UTF-8 (byte {exc.start}, line {line}). Re-save the file as "
            "UTF-8 (in Excel: 'CSV UTF-8'; in pandas: to_csv(..., encoding='utf-8'))."
        ) from None
    reader = csv.reader(io.StringIO(content, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise _fail(f"{path.name}: the file is empty.") from None
    except csv.Error as exc:
        raise _fail(f"{path.name}: unreadable CSV header: {exc}.") from None
    columns = _match_columns(header, path.name)
    text_i, label_i = header.index(columns["text"]), header.index(columns["label"])
    texts: list[object] = []
    labels: list[object] = []
    rows: list[int] = []
    start = reader.line_num + 1
    try:
        for record in reader:
            if record:  # skip blank lines
                texts.append(record[text_i] if text_i < len(record) else None)
                labels.append(record[label_i] if label_i < len(record) else None)
                rows.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise _fail(
            f"{path.name}: unreadable CSV at row {start}: {exc}. Check the quoting of that row."
        ) from None
    return texts, labels, rows


def _read_jsonl(path: Path) -> Columns:
    try:
        content = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise _fail(f"{path.name}: not valid UTF-8. Re-save the file as UTF-8.") from None
    records: list[dict] = []
    rows: list[int] = []
    bad: list[int] = []
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            bad.append(number)
            continue
        if not isinstance(record, dict):
            bad.append(number)
            continue
        records.append(record)
        rows.append(number)
    if bad:
        lines, verb = ("lines", "are") if len(bad) > 1 else ("line", "is")
        raise _fail(
            f"{path.name}: {lines} {_rows_text(bad)} {verb} not a JSON object. JSONL needs one "
            'object per line, like {"text": "...", "label": "..."}.'
        )
    if not records:
        raise _fail(f"{path.name}: the file has no rows.")
    seen = list(dict.fromkeys(key for record in records for key in record))
    columns = _match_columns(seen, path.name)
    return (
        [record.get(columns["text"]) for record in records],
        [record.get(columns["label"]) for record in records],
        rows,
    )


def _read_parquet(path: Path) -> Columns:
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
        columns = _match_columns(schema.names, path.name)
        table = pq.read_table(path, columns=[columns["text"], columns["label"]])
    except GradingError:
        raise
    except Exception as exc:  # pyarrow raises a variety of ArrowInvalid / OSError
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _fail(f"{path.name}: unreadable Parquet file ({first}).") from None
    return (
        table.column(columns["text"]).to_pylist(),
        table.column(columns["label"]).to_pylist(),
        list(range(1, table.num_rows + 1)),
    )


def _validate_lab_labels(lab_labels: Sequence[str]) -> dict[str, int]:
    if not lab_labels:
        raise _fail("the lab defines no labels.")
    index: dict[str, int] = {}
    for i, label in enumerate(lab_labels):
        key = str(label).strip().lower()
        if not key or key in index:
            raise _fail(f"the lab's labels must be distinct and non-empty: {list(lab_labels)}.")
        index[key] = i
    return index


def load_dataset(path: Path, *, lab_labels: Sequence[str]) -> HeldOut:
    """Load and validate a held-out file. Raises GradingError(INVALID_DATASET)."""
    path = Path(path)
    label_index = _validate_lab_labels(lab_labels)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise _fail(
            f"{path.name}: unsupported file type {path.suffix or '(none)'!r}; "
            "use .csv, .jsonl or .parquet."
        )
    if not path.is_file():
        raise _fail(f"{path.name}: file not found.")
    reader = {"csv": _read_csv, "jsonl": _read_jsonl, "parquet": _read_parquet}[fmt]
    raw_texts, raw_labels, row_numbers = reader(path)
    if not raw_texts:
        raise _fail(f"{path.name}: the file has no data rows.")

    texts: list[str] = []
    empty_rows: list[int] = []
    for row, value in zip(row_numbers, raw_texts, strict=True):
        text = "" if value is None else str(value)
        if not text.strip():
            empty_rows.append(row)
        texts.append(text)
    if empty_rows:
        raise _fail(
            f"{path.name}: empty text in {len(empty_rows)} row{'s' if len(empty_rows) > 1 else ''} "
            f"({_rows_text(empty_rows)}). Remove those rows or fill in their text."
        )

    labels: list[int] = []
    unknown: dict[str, list[int]] = {}
    for row, value in zip(row_numbers, raw_labels, strict=True):
        name = "" if value is None else str(value)
        idx = label_index.get(name.strip().lower())
        if idx is None:
            unknown.setdefault(name, []).append(row)
            labels.append(-1)
        else:
            labels.append(idx)
    if unknown:
        parts = [
            f"{name!r} (rows {_rows_text(rows)})" for name, rows in list(unknown.items())[:_SHOW]
        ]
        more = f"; and {len(unknown) - _SHOW} more" if len(unknown) > _SHOW else ""
        raise _fail(
            f"{path.name}: unknown label{'s' if len(unknown) > 1 else ''} "
            f"{'; '.join(parts)}{more}. The lab's labels are: {', '.join(lab_labels)} "
            "(case-insensitive)."
        )

    present = set(labels)
    missing = [name for i, name in enumerate(lab_labels) if i not in present]
    if missing:
        raise _fail(
            f"{path.name}: no rows for lab label{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(m) for m in missing)}. Every lab label needs at least one held-out "
            "example, or the per-class scores are meaningless."
        )

    return HeldOut(
        texts=texts,
        labels=labels,
        lab_labels=list(lab_labels),
        n_rows=len(texts),
        checksum=sha256_file(path),
        source=path.name,
    )


def split_public_private(texts: Sequence[str], *, salt: str, public_fraction: float) -> list[bool]:
    """True for rows on the public part. Decided per row from sha256(salt + text), so a row keeps
    its side when rows are reordered or appended, and identical texts always land together."""
    if not 0.0 <= public_fraction <= 1.0:
        raise ValueError(f"public_fraction must be within [0, 1], got {public_fraction}")
    threshold = public_fraction * 2**64
    mask = []
    for text in texts:
        digest = hashlib.sha256((salt + text).encode("utf-8")).digest()
        mask.append(int.from_bytes(digest[:8], "big") < threshold)
    return mask
