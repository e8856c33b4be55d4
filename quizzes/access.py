"""A student's effective quiz settings (the quiz's, changed by their override) and the
deadline of an attempt. Plain Python: it reads model fields but runs no queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Effective:
    opens_at: datetime | None
    closes_at: datetime | None
    time_limit: timedelta | None
    attempts_allowed: int  # 0: unlimited


def effective(quiz, override=None) -> Effective:
    opens_at, closes_at, time_limit = quiz.opens_at, quiz.closes_at, quiz.time_limit
    attempts = quiz.attempts_allowed
    if override is not None:
        opens_at = override.opens_at or opens_at
        closes_at = override.closes_at or closes_at
        if time_limit is not None and override.extra_time:
            time_limit = time_limit + override.extra_time
        if attempts:
            attempts += override.extra_attempts
    return Effective(opens_at, closes_at, time_limit, attempts)


def deadline(*, started_at: datetime, settings: Effective) -> datetime | None:
    """When an attempt started at `started_at` stops accepting answers: the time limit runs
    out or the quiz closes, whichever comes first (Moodle's "open attempts are submitted
    automatically")."""
    candidates = []
    if settings.time_limit is not None:
        candidates.append(started_at + settings.time_limit)
    if settings.closes_at is not None:
        candidates.append(settings.closes_at)
    return min(candidates) if candidates else None


def time_available(*, now: datetime, settings: Effective) -> timedelta | None:
    """How long an attempt started now could run: the earlier of the time limit and the
    close date (None: no limit)."""
    end = deadline(started_at=now, settings=settings)
    return None if end is None else max(timedelta(0), end - now)


def ended_by_close(*, started_at: datetime, settings: Effective) -> bool:
    """Whether the close date, not the time limit, is what ends an attempt started then."""
    if settings.closes_at is None:
        return False
    return settings.time_limit is None or settings.closes_at < started_at + settings.time_limit


def window_state(*, now: datetime, settings: Effective) -> str:
    """ "upcoming", "open" or "closed"."""
    if settings.opens_at is not None and now < settings.opens_at:
        return "upcoming"
    if settings.closes_at is not None and now >= settings.closes_at:
        return "closed"
    return "open"
