"""The lab's phase, the one rule services and selectors both ask: is it taking submissions?

A lab is `upcoming` before `opens_at`, `closed` from `closes_at` on (a lab without one never
closes) and `open` in between. Neither bound is required.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from django.utils import timezone

from labs.models import Lab


class LabPhase(StrEnum):
    UPCOMING = "upcoming"
    OPEN = "open"
    CLOSED = "closed"


def lab_phase(lab: Lab, now: datetime | None = None) -> LabPhase:
    now = now or timezone.now()
    if lab.opens_at and now < lab.opens_at:
        return LabPhase.UPCOMING
    if lab.closes_at is not None and now >= lab.closes_at:
        return LabPhase.CLOSED
    return LabPhase.OPEN
