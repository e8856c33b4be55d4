"""Worker hosts: each Celery worker reports itself here (labs/workers.py), its grading jobs
set and clear its current job, and `manage.py worker_drain` marks one as draining.

These act for no person (the worker side and an operator's command), like the claim: they
take no `actor`. Every write is a single-row update keyed by the worker's node name, so the
reporter thread and the pool process running a job never overwrite each other's fields."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from core.exceptions import ApplicationError
from labs.models import WorkerHost

_NAME_MAX = 255


@transaction.atomic
def worker_host_start(
    *, name: str, hostname: str, pid: int, queues: Iterable[str], now: datetime | None = None
) -> WorkerHost:
    """A worker process came up: a fresh row (a restart under the same node name forgets the
    previous process's drain, stop and job)."""
    now = now or timezone.now()
    host = WorkerHost.objects.select_for_update().filter(name=name[:_NAME_MAX]).first()
    host = host or WorkerHost(name=name[:_NAME_MAX])
    host.hostname = hostname[:_NAME_MAX]
    host.pid = pid
    host.queues = sorted(queues)
    host.cancelled_queues = []
    host.started_at = now
    host.heartbeat_at = now
    host.draining_since = None
    host.stopped_at = None
    host.current_submission = None
    host.current_kind = ""
    host.current_since = None
    host.full_clean()
    host.save()
    return host


def worker_host_heartbeat(
    *,
    name: str,
    queues: Iterable[str],
    cancelled_queues: Iterable[str],
    now: datetime | None = None,
) -> bool:
    """The worker is alive and consumes `queues` now; `cancelled_queues` are queues it started
    with and no longer consumes (`celery control cancel_consumer`), which makes it draining.
    Returns False when the row is gone (the worker then starts it again)."""
    now = now or timezone.now()
    cancelled = sorted(cancelled_queues)
    updated = WorkerHost.objects.filter(name=name).update(
        heartbeat_at=now, queues=sorted(queues), cancelled_queues=cancelled
    )
    if updated and cancelled:
        WorkerHost.objects.filter(name=name, draining_since__isnull=True).update(draining_since=now)
    return updated == 1


def worker_host_stop(*, name: str, now: datetime | None = None) -> None:
    """A warm shutdown finished: the host is offline now, not once its heartbeat expires."""
    now = now or timezone.now()
    WorkerHost.objects.filter(name=name).update(
        stopped_at=now,
        heartbeat_at=now,
        current_submission=None,
        current_kind="",
        current_since=None,
    )


def worker_host_job_start(*, name: str, submission_id: int, kind: str) -> None:
    """A job of this worker won its claim (set from the pool process that runs it)."""
    WorkerHost.objects.filter(name=name).update(
        current_submission_id=submission_id, current_kind=kind, current_since=timezone.now()
    )


def worker_host_job_end(*, name: str, submission_id: int) -> None:
    """The job ended (recorded, failed or discarded); only if it is still the one shown."""
    WorkerHost.objects.filter(name=name, current_submission_id=submission_id).update(
        current_submission=None, current_kind="", current_since=None
    )


def worker_host_drain_mark(*, name: str, now: datetime | None = None) -> WorkerHost:
    """`worker_drain` cancelled the host's grading consumers: show it as draining at once (its
    own next heartbeat confirms it from the queues it really consumes)."""
    now = now or timezone.now()
    host = WorkerHost.objects.filter(name=name).first()
    if host is None:
        raise ApplicationError(
            "unknown_worker",
            f"No worker named {name!r} has reported itself. Names look like `grading@host`; "
            "the lab dashboard lists them.",
            status_code=404,
        )
    WorkerHost.objects.filter(pk=host.pk, draining_since__isnull=True).update(draining_since=now)
    host.refresh_from_db()
    return host


def worker_host_drain(
    *, name: str, queues: Iterable[str] = ("grading", "grading_low"), timeout: float = 5.0
) -> WorkerHost:
    """Tell worker `name` to stop consuming `queues` (Celery's `cancel_consumer` remote
    control, answered by the worker itself), then mark it draining. The job it runs now
    carries on to the end; the queues' other tasks stay in the broker for other workers."""
    from celery import current_app

    for queue in queues:
        replies = current_app.control.cancel_consumer(
            queue, destination=[name], reply=True, timeout=timeout
        )
        if not any(name in reply for reply in replies or []):
            raise ApplicationError(
                "worker_not_answering",
                f"Worker {name!r} did not answer the cancel_consumer for {queue!r} within "
                f"{timeout:.0f} s. Check the name (`celery -A config inspect ping`) and that "
                "this machine uses the same CELERY_BROKER_URL as the worker.",
                status_code=503,
            )
    return worker_host_drain_mark(name=name)
