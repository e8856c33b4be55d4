"""Roster CSV parsing (plain Python, no database): bytes in, rows or row errors out.

A roster is a class list as student systems and spreadsheets export it: a header row, then
one row per person. Only the `email` column is required; header names are matched
case-insensitively, ignoring spaces, hyphens and underscores, with common aliases ("E-mail",
"Given name", "SIS User ID", ...); columns we do not know are ignored. The file is UTF-8, with
or without the byte-order mark Excel's "CSV UTF-8" writes, and comma-, semicolon- (Excel in
many locales) or tab-separated.

Row numbers are the spreadsheet's: the header is row 1, the first person row 2.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

# A class list of a few thousand people is well under 1 MiB; the limit keeps the preview page's
# round trip (the file travels back in the confirm form) small.
MAX_BYTES = 1024 * 1024
MAX_ROWS = 5000

COLUMNS = ("email", "first_name", "last_name", "student_id", "role", "section")
# Normalised header (lower case, letters and digits only) -> column.
HEADER_ALIASES = {
    "email": "email",
    "emailaddress": "email",
    "mail": "email",
    "firstname": "first_name",
    "givenname": "first_name",
    "forename": "first_name",
    "lastname": "last_name",
    "surname": "last_name",
    "familyname": "last_name",
    "studentid": "student_id",
    "studentnumber": "student_id",
    "idnumber": "student_id",
    "sisuserid": "student_id",
    "role": "role",
    "section": "section",
    "group": "section",
}
# Role cell (lower case, single spaces) -> Membership.Role value.
ROLE_ALIASES = {
    "student": "student",
    "learner": "student",
    "instructor": "instructor",
    "teacher": "instructor",
    "ta": "ta",
    "teaching assistant": "ta",
    "teaching_assistant": "ta",
}
_NOT_ALNUM = re.compile(r"[^a-z0-9]")
_LIMITS = {"first_name": 150, "last_name": 150, "student_id": 64, "section": 60, "email": 254}


@dataclass(frozen=True)
class RosterRow:
    """One person. `role` is "" when the cell is blank (the service decides the default)."""

    row: int
    email: str
    first_name: str = ""
    last_name: str = ""
    student_id: str = ""
    role: str = ""
    section: str = ""


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


class RosterError(Exception):
    """The file cannot be imported; `errors` names each problem's row and column."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


def _decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise RosterError(
            [
                RowError(
                    0,
                    "",
                    f"The file is {len(data):,} bytes; the limit is {MAX_BYTES:,}. Split the "
                    "class list into smaller files.",
                )
            ]
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = data[: exc.start].count(b"\n") + 1
        raise RosterError(
            [
                RowError(
                    row,
                    "",
                    f"The file is not UTF-8 text (byte {exc.start}). In Excel use File > Save "
                    "As > “CSV UTF-8 (Comma delimited)”, or save as CSV UTF-8 in your "
                    "spreadsheet, and upload it again.",
                )
            ]
        ) from None


def _delimiter(header_line: str) -> str:
    # Excel writes ";" where "," is the decimal separator; a header never holds either.
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _columns(header: list[str]) -> dict[str, int]:
    """Column -> its index; the first of two headers that mean the same column wins."""
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        column = HEADER_ALIASES.get(_NOT_ALNUM.sub("", name.strip().lower()))
        if column and column not in found:
            found[column] = index
    if "email" not in found:
        names = ", ".join(f"“{h.strip()}”" for h in header if h.strip()) or "none"
        raise RosterError(
            [
                RowError(
                    1,
                    "email",
                    f"No email column (the header row has: {names}). Add a column headed "
                    "“email”; first_name, last_name, student_id, role and section are optional.",
                )
            ]
        )
    return found


def _cell_errors(row: int, cells: dict[str, str]) -> list[RowError]:
    errors = []
    if not cells["email"]:
        errors.append(RowError(row, "email", "The email is missing: every row needs one."))
    else:
        try:
            validate_email(cells["email"])
        except ValidationError:
            errors.append(
                RowError(
                    row,
                    "email",
                    f"“{cells['email']}” is not an email address: use name@example.edu.",
                )
            )
    role = " ".join(cells["role"].lower().split())
    if role and role not in ROLE_ALIASES:
        errors.append(
            RowError(
                row,
                "role",
                f"Unknown role “{cells['role']}”: use student, ta or instructor "
                "(or leave it blank for student).",
            )
        )
    for column, limit in _LIMITS.items():
        if len(cells[column]) > limit:
            errors.append(RowError(row, column, f"Longer than {limit} characters."))
    return errors


def _duplicate_errors(records: list[tuple[int, dict[str, str]]]) -> list[RowError]:
    errors = []
    seen: dict[tuple[str, str], int] = {}
    for row, cells in records:
        for column, value in (
            ("email", cells["email"].lower()),
            ("student_id", cells["student_id"]),
        ):
            if not value:
                continue
            first = seen.setdefault((column, value), row)
            if first != row:
                label = "email" if column == "email" else "student id"
                errors.append(
                    RowError(row, column, f"The same {label} as row {first}: list each once.")
                )
    return errors


def _read(text: str) -> tuple[dict[str, int], list[tuple[int, list[str]]]]:
    lines = text.splitlines()
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(lines[0] if lines else ""))
    try:
        header = next(reader, None)
        if header is None or not any(h.strip() for h in header):
            raise RosterError([RowError(1, "", "The file is empty: the first row is the header.")])
        columns = _columns(header)
        records = []
        # Counting every record (blank ones too) numbers rows as the spreadsheet does.
        for row, cells in enumerate(reader, start=2):
            if any(c.strip() for c in cells):
                records.append((row, cells))
            if len(records) > MAX_ROWS:
                raise RosterError(
                    [RowError(row, "", f"More than {MAX_ROWS} rows: split the file.")]
                )
    except csv.Error as exc:
        raise RosterError([RowError(reader.line_num, "", f"Not a CSV file: {exc}.")]) from None
    return columns, records


def _cell(cells: list[str], index: int | None) -> str:
    # A short row (trailing empty cells dropped) reads as blank cells.
    return cells[index].strip() if index is not None and index < len(cells) else ""


def parse_roster(data: bytes) -> list[RosterRow]:
    """The file's people, or RosterError with every row error (none of them is imported)."""
    columns, records = _read(_decode(data))
    rows: list[RosterRow] = []
    errors: list[RowError] = []
    parsed = [
        (line, {column: _cell(cells, columns.get(column)) for column in COLUMNS})
        for line, cells in records
    ]
    for line, values in parsed:
        problems = _cell_errors(line, values)
        errors.extend(problems)
        if not problems:
            role = ROLE_ALIASES.get(" ".join(values["role"].lower().split()), "")
            rows.append(RosterRow(row=line, **{**values, "role": role}))
    errors.extend(_duplicate_errors(parsed))
    if errors:
        raise RosterError(sorted(errors, key=lambda e: (e.row, e.column)))
    if not rows:
        raise RosterError([RowError(2, "email", "The file has a header but nobody in it.")])
    return rows
