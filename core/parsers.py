"""Request body parsers for the API (DEFAULT_PARSER_CLASSES).

A module of its own: DRF imports the parser classes while defining APIView, so this must not
import rest_framework.views (core.api does)."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, parsers

#: Deeper JSON is refused. Every request body of the API is a few levels deep (an attempt's
#: answers are the deepest, at 4); the limit keeps a small hostile body from reaching the
#: recursion limit in the parser, the serializers or a JSONField.
MAX_JSON_DEPTH = 32


def _json_depth_exceeds(value: Any, limit: int) -> bool:
    """Whether `value` nests dicts/lists deeper than `limit` (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing too deeply nested bodies with a 400 `parse_error`
    (Python's json module raises RecursionError for them, which DRF does not catch)."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        too_deep = exceptions.ParseError(
            f"JSON parse error - the body is nested more than {MAX_JSON_DEPTH} levels deep."
        )
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise too_deep from None
        if isinstance(data, dict | list) and _json_depth_exceeds(data, MAX_JSON_DEPTH):
            raise too_deep
        return data
