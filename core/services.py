from __future__ import annotations

import socket

from django.db import transaction
from django.utils import timezone

from core.models import WorkerPing


@transaction.atomic
def worker_ping_create() -> WorkerPing:
    from core.tasks import answer_worker_ping

    ping = WorkerPing()
    ping.full_clean()
    ping.save()
    # Only after commit: a worker that picks the task up must be able to see the row.
    transaction.on_commit(lambda: answer_worker_ping.delay(ping.pk))
    return ping


@transaction.atomic
def worker_ping_answer(*, ping_id: int, worker_host: str | None = None) -> bool:
    """Mark a ping answered. Returns False if it was already answered (duplicate delivery)."""
    updated = WorkerPing.objects.filter(pk=ping_id, answered_at__isnull=True).update(
        answered_at=timezone.now(), worker_host=worker_host or socket.gethostname()
    )
    return updated == 1
