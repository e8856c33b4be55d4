"""Health endpoints for a load balancer or an orchestrator (docs/deploy.md, "Health checks").

`/healthz`: the process is up and answers (no database, nothing else touched).
`/readyz`: the database, the broker and the private storage are reachable and every migration
is applied; 503 when one is not. Both are public, so the body names each check and whether it
passed, nothing more: no versions, host names or exception text (those go to the log)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection

from core.storage import private_storage

logger = logging.getLogger(__name__)


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_migrations() -> None:
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        raise RuntimeError(f"{len(plan)} migration(s) not applied: {plan[0][0]}")


def check_broker() -> None:
    timeout = settings.READYZ_BROKER_TIMEOUT_S
    with Connection(
        settings.CELERY_BROKER_URL,
        transport_options=getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}),
        connect_timeout=timeout,
    ) as broker:
        # One immediate retry at most: a probe must answer within its own timeout.
        broker.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)


def check_storage() -> None:
    storage = private_storage()
    name = storage.save(f"readyz-{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
    storage.delete(name)


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "migrations": check_migrations,
    "broker": check_broker,
    "storage": check_storage,
}


def readiness() -> dict[str, bool]:
    """Run every check; a failure is logged with its cause and reported as False."""
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception:
            logger.exception("Readiness check %r failed", name)
            results[name] = False
        else:
            results[name] = True
    return results


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    results = readiness()
    ready = all(results.values())
    body = {
        "status": "ok" if ready else "unavailable",
        "checks": {name: "ok" if ok else "failed" for name, ok in results.items()},
        "failed": [name for name, ok in results.items() if not ok],
    }
    return JsonResponse(body, status=200 if ready else 503)
