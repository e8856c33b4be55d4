"""CSV exports shared by every app."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from rest_framework import renderers


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


def table_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """CSV text: a header row, then each row with spreadsheet-safe cells."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([spreadsheet_cell(value) for value in row])
    return out.getvalue()


def _is_table(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("columns"), list) and "rows" in data


class TableCSVRenderer(renderers.BaseRenderer):
    """`?format=csv` / `Accept: text/csv` for an API view whose GET returns
    `{"columns": [...], "rows": [{column: value}, ...]}`.

    Content negotiation picks this renderer for *every* response of the view, not only a
    successful GET: an OPTIONS metadata body, an error, a 204. Those are not tables, so they
    are rendered as JSON (with a JSON Content-Type) instead of failing with a KeyError."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if not _is_table(data):
            return self._render_as_json(data, renderer_context or {})
        columns = data["columns"]
        rows = ([row.get(column) for column in columns] for row in data["rows"])
        return table_csv(columns, rows).encode("utf-8")

    @staticmethod
    def _render_as_json(data: Any, renderer_context: dict) -> bytes:
        response = renderer_context.get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
            if response.has_header("Content-Disposition"):
                del response["Content-Disposition"]
        if data is None:
            return b""
        return renderers.JSONRenderer().render(data, "application/json", renderer_context)
