"""Mastery of a learning objective from its evidence, with Canvas's calculation methods."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

METHODS = ("weighted_average", "decaying_average", "n_times", "highest", "latest", "average")
MasteryLevel = Literal["mastered", "near", "not_yet", "no_evidence"]


def _round(value: float, places: int | None) -> float:
    if places is None:
        return value
    # Half up, as Canvas displays: 4.125 is 4.13 (Python's round() gives 4.12, half to even).
    quantum = Decimal(1).scaleb(-places)
    return float(Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP))


def _weighted_average(scores: list[float], weight: float) -> float:
    if len(scores) == 1:
        return scores[0]
    earlier = scores[:-1]
    return scores[-1] * weight + sum(earlier) / len(earlier) * (1 - weight)


def _decaying_average(scores: list[float], weight: float) -> float:
    value = scores[0]
    for score in scores[1:]:
        value = weight * score + (1 - weight) * value
    return value


def _n_times(scores: list[float], n: int, threshold: float | None) -> float | None:
    if threshold is None:
        raise ValueError("The n_times method needs the mastery threshold: pass threshold=.")
    if n < 1:
        raise ValueError("The n_times method needs n of at least 1.")
    at_mastery = [score for score in scores if score >= threshold]
    if len(at_mastery) >= n:
        return sum(at_mastery) / len(at_mastery)
    below = [score for score in scores if score < threshold]
    return max(below) if below else None


def mastery_score(
    scores: list[float],
    *,
    method: str,
    weight: float = 0.65,
    n: int = 1,
    threshold: float | None = None,
    places: int | None = 2,
) -> float | None:
    """One objective's mastery score from its evidence, oldest first; None without evidence.

    - weighted_average: latest * w + mean(earlier) * (1 - w) (Canvas's "weighted average").
      Canvas's check, [1, 2, 3, 4, 5], w = 0.65: 5 * 0.65 + 2.5 * 0.35 = 3.25 + 0.875 = 4.125
      → 4.13. One score is its own average.
    - decaying_average: D1 = x1, Dk = w*xk + (1 - w)*Dk-1. Canvas's check: 1, 1.65, 2.5275,
      3.484625, 4.46961875 → 4.47.
    - n_times: once n scores are at or above the threshold, the mean of those scores (so the
      result is at or above the threshold: mastered); until then the highest score below the
      threshold (not yet), or None when every score so far is at mastery but fewer than n.
    - highest, latest, average: as named.

    The result is rounded half up to `places` decimals (None: unrounded), as Canvas shows it,
    so comparing it with the threshold agrees with what is displayed.
    """
    if method not in METHODS:
        raise ValueError(f"Unknown mastery method {method!r}: use one of {', '.join(METHODS)}.")
    if not 0 <= weight <= 1:
        raise ValueError(f"The mastery weight is a fraction between 0 and 1, not {weight}.")
    if not scores:
        return None
    if method == "weighted_average":
        value = _weighted_average(scores, weight)
    elif method == "decaying_average":
        value = _decaying_average(scores, weight)
    elif method == "n_times":
        value = _n_times(scores, n, threshold)
    elif method == "highest":
        value = max(scores)
    elif method == "latest":
        value = scores[-1]
    else:
        value = sum(scores) / len(scores)
    return None if value is None else _round(value, places)


def mastery_level(score: float | None, *, threshold: float, near_margin: float) -> MasteryLevel:
    """mastered at or above the threshold, near within `near_margin` below it, else not_yet."""
    if score is None:
        return "no_evidence"
    if score >= threshold:
        return "mastered"
    if score >= threshold - near_margin:
        return "near"
    return "not_yet"
