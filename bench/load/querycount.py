"""Bench-only middleware (bench/load/settings.py): each response says how many database
queries its request made and how long the server took, in `X-Bench-Queries` and
`X-Bench-Server-Ms`, which the Locust users record per request type."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, HttpResponse


def QueryCountMiddleware(get_response: Callable[[HttpRequest], HttpResponse]):
    def middleware(request: HttpRequest) -> HttpResponse:
        count = 0

        def counter(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        started = time.perf_counter()
        with connection.execute_wrapper(counter):
            response = get_response(request)
        response["X-Bench-Queries"] = str(count)
        response["X-Bench-Server-Ms"] = f"{(time.perf_counter() - started) * 1000:.1f}"
        return response

    return middleware
