from __future__ import annotations

from core.models import WorkerPing


def worker_ping_last_answered() -> WorkerPing | None:
    return WorkerPing.objects.filter(answered_at__isnull=False).order_by("-answered_at").first()
