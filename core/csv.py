"""CSV exports shared by every app."""

from __future__ import annotations

from typing import Any


def spreadsheet_cell(value: Any) -> Any:
    """A value safe to write into a CSV that instructors open in a spreadsheet."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    # A name such as "=HYPERLINK(...)" must not become a formula in a spreadsheet.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
