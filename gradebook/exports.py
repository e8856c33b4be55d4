"""Gradebook CSV layouts: Canvas's gradebook import, Moodle's grade import, and a plain one.
Plain Python over a `selectors.Grid`; cells go through core.csv (spreadsheet-safe)."""

from __future__ import annotations

from core.csv import table_csv


def _two(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _cell(cell) -> str:
    if cell is None:
        return ""
    if cell.excused:
        return "EX"
    return _two(cell.override if cell.override is not None else cell.points)


def canvas_csv(grid) -> str:
    """Canvas's layout: Student, ID, SIS User ID, SIS Login ID, Section, one column per item
    as `Title (id)`, the score columns; then a `Points Possible` row; EX for excused."""
    items = grid.items
    columns = [
        "Student",
        "ID",
        "SIS User ID",
        "SIS Login ID",
        "Section",
        *(f"{item.title} ({item.pk})" for item in items),
        "Current Score",
        "Final Score",
        "Current Grade",
        "Final Grade",
    ]
    rows = [
        [
            "Points Possible",
            "",
            "",
            "",
            "",
            *(_two(i.points_possible) for i in items),
            "",
            "",
            "",
            "",
        ]
    ]
    for row in grid.rows:
        u, t = row.student, row.totals
        rows.append(
            [
                f"{u.last_name}, {u.first_name}".strip(", ") or u.get_username(),
                u.pk,
                row.student_id,
                u.get_username(),
                row.section,
                *(_cell(c) for c in row.cells),
                _two(t.current_percent if t else None),
                _two(_final(row)),
                t.current_letter if t else "",
                _final_letter(row),
            ]
        )
    return table_csv(columns, rows)


def _final(row) -> float | None:
    if row.final_override is not None:
        return row.final_override.percent
    return row.totals.final_percent if row.totals else None


def _final_letter(row) -> str:
    if row.final_override is not None:
        return row.final_override.letter
    return row.totals.final_letter if row.totals else ""


def moodle_csv(grid) -> str:
    """Moodle's grade import: First name, Surname, ID number, Email address, one column per
    item (mapped by name on import)."""
    columns = [
        "First name",
        "Surname",
        "ID number",
        "Email address",
        *(i.title for i in grid.items),
    ]
    rows = [
        [
            row.student.first_name,
            row.student.last_name,
            row.student_id,
            row.student.email,
            *("" if c is not None and c.excused else _cell(c) for c in row.cells),
        ]
        for row in grid.rows
    ]
    return table_csv(columns, rows)


def plain_csv(grid) -> str:
    """Everything: per item its score and status, then the totals and letters."""
    columns = ["username", "student_id", "section"]
    for item in grid.items:
        columns += [f"{item.title} ({item.pk})", f"{item.title} ({item.pk}) status"]
    columns += ["current_percent", "final_percent", "current_letter", "final_letter"]
    rows = []
    for row in grid.rows:
        values = [row.student.get_username(), row.student_id, row.section]
        for c in row.cells:
            values += [_cell(c), c.status if c else ""]
        t = row.totals
        values += [_two(t.current_percent if t else None), _two(_final(row))]
        values += [t.current_letter if t else "", _final_letter(row)]
        rows.append(values)
    return table_csv(columns, rows)
