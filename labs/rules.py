"""The lab's phase, the one rule services and selectors both ask: is it taking submissions?

A lab is `upcoming` before `opens_at`, `closed` from `closes_at` on (a lab without one never
closes) and `open` in between. Neither bound is required.

A per-student deadline extension (`LabExtension`) moves the close *for that student*:
`lab_phase(lab, extended_until=extension.closes_at)`. The lab is closed *for everyone* (and
its private scores revealed to students) only once the latest extension has ended too:
`lab_phase(lab, extended_until=<the latest extension's close>)`. An extension never brings
the close forward (the later of the two dates counts).
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


def effective_close(lab: Lab, extended_until: datetime | None = None) -> datetime | None:
    """When the lab closes given an extension (None: it never closes)."""
    if lab.closes_at is None or extended_until is None:
        return lab.closes_at
    return max(lab.closes_at, extended_until)


def lab_phase(
    lab: Lab, now: datetime | None = None, *, extended_until: datetime | None = None
) -> LabPhase:
    now = now or timezone.now()
    if lab.opens_at and now < lab.opens_at:
        return LabPhase.UPCOMING
    closes_at = effective_close(lab, extended_until)
    if closes_at is not None and now >= closes_at:
        return LabPhase.CLOSED
    return LabPhase.OPEN
