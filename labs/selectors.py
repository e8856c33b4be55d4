from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from core.exceptions import NotFoundError
from core.permissions import require_member
from labs.models import HeldOutDataset, Lab, Submission


def lab_get(*, user, lab_id: int) -> tuple[Lab, str]:
    """The lab and the user's role in its course; not found unless the user is a member."""
    lab = Lab.objects.select_related("session__course").filter(pk=lab_id).first()
    if lab is None:
        raise NotFoundError(f"No lab {lab_id}.")
    try:
        return lab, require_member(user=user, course=lab.session.course)
    except NotFoundError:
        raise NotFoundError(f"No lab {lab_id}.") from None


def dataset_active(*, lab: Lab) -> HeldOutDataset | None:
    return HeldOutDataset.objects.filter(lab=lab).order_by("-version").first()


def submission_list(*, lab: Lab, user, role: str, status: str | None = None) -> QuerySet:
    qs = Submission.objects.filter(lab=lab).select_related("student")
    if role != "instructor":
        qs = qs.filter(student=user)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at")


def submission_get(*, user, submission_id: int) -> tuple[Submission, str]:
    """Own submissions only; instructors of the course see all. Others: not found."""
    submission = (
        Submission.objects.select_related("lab__session__course", "student")
        .filter(pk=submission_id)
        .first()
    )
    missing = NotFoundError(f"No submission {submission_id}.")
    if submission is None:
        raise missing
    try:
        role = require_member(user=user, course=submission.lab.session.course)
    except NotFoundError:
        raise missing from None
    if role != "instructor" and submission.student_id != user.pk:
        raise missing
    return submission, role


def next_quota_reset(now: datetime | None = None) -> datetime:
    now = now or timezone.now()
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + timedelta(days=1)


@dataclass(frozen=True)
class QuotaStatus:
    used_today: int
    left_today: int
    used_total: int
    left_total: int | None  # None: no total limit
    resets_at: datetime

    @property
    def left(self) -> int:
        return self.left_today if self.left_total is None else min(self.left_today, self.left_total)


def quota_status(*, lab: Lab, student, now: datetime | None = None) -> QuotaStatus:
    """Charged submissions count; failures that were our fault (`internal`) do not."""
    resets_at = next_quota_reset(now)
    charged = Submission.objects.filter(lab=lab, student=student, charged=True)
    used_today = charged.filter(created_at__gte=resets_at - timedelta(days=1)).count()
    used_total = charged.count()
    return QuotaStatus(
        used_today=used_today,
        left_today=max(lab.daily_quota - used_today, 0),
        used_total=used_total,
        left_total=None if lab.total_quota is None else max(lab.total_quota - used_total, 0),
        resets_at=resets_at,
    )


def queue_position(*, submission: Submission) -> int | None:
    """1-based place in the queue (across all labs, oldest first), or None if not queued."""
    if submission.status != Submission.Status.QUEUED or submission.queued_at is None:
        return None
    ahead = Submission.objects.filter(
        status=Submission.Status.QUEUED, queued_at__lt=submission.queued_at
    ).count()
    return ahead + 1


# --- lab API: open/closed, metric visibility, leaderboard ----------------------------------


def lab_is_open(*, lab: Lab, now: datetime | None = None) -> bool:
    """Whether submissions are taken now (between `opens_at` and `closes_at`, if set)."""
    now = now or timezone.now()
    if lab.opens_at and now < lab.opens_at:
        return False
    return not lab_is_closed(lab=lab, now=now)


def lab_is_closed(*, lab: Lab, now: datetime | None = None) -> bool:
    """Closed for good: the deadline passed. A lab without `closes_at` never closes."""
    now = now or timezone.now()
    return lab.closes_at is not None and now >= lab.closes_at


def submission_visible_metrics(
    *, submission: Submission, role: str, now: datetime | None = None
) -> dict:
    """`{"public": ..., "private": ...}` as `role` may see them.

    The private part of the held-out set decides the final ranking, so students only see its
    scores once the lab has closed; before that `private` is None. Instructors see both."""
    private = submission.metrics_private
    if role != "instructor" and not lab_is_closed(lab=submission.lab, now=now):
        private = None
    return {"public": submission.metrics_public, "private": private}


LEADERBOARD_PARTS = ("public", "private")


@dataclass(frozen=True)
class LeaderboardRow:
    rank: int
    student_id: int
    username: str
    display_name: str
    is_me: bool
    best_score: float
    submission_count: int
    last_submitted_at: datetime
    public_rank: int | None = None


def leaderboard_pseudonym(*, lab: Lab, user_id: int) -> str:
    """A stable per-lab pseudonym such as "Student 4F2A" (unguessable without the lab salt)."""
    digest = hashlib.sha256(f"{lab.salt}:{user_id}".encode()).hexdigest()
    return f"Student {digest[:4].upper()}"


def _metric(metrics, name: str) -> float | None:
    if not isinstance(metrics, dict):
        return None
    value = metrics.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _competition_ranks(scores: dict[int, float]) -> dict[int, int]:
    """Higher is better; ties share a rank and the next rank skips (1, 1, 3)."""
    ordered = sorted(scores.values(), reverse=True)
    first_at: dict[float, int] = {}
    for index, score in enumerate(ordered):
        first_at.setdefault(score, index + 1)
    return {key: first_at[score] for key, score in scores.items()}


def leaderboard(*, lab: Lab, part: str, viewer) -> list[LeaderboardRow]:
    """One row per current student of the course with a scored submission, best first.

    A student's score is their best scored submission on the lab's primary metric, taken from
    the `part` ("public" or "private") of the held-out set. Private rows also carry the rank the
    student had on the public part (`public_rank`), so the shake-up at the deadline is visible.
    Ties share a rank; among tied students the one who reached the score first is listed first.
    `submission_count` and `last_submitted_at` count scored submissions. Who may see which
    part is the caller's decision."""
    if part not in LEADERBOARD_PARTS:
        raise ValueError(f"part must be one of {LEADERBOARD_PARTS}, not {part!r}")
    from courseware.models import Membership

    metric = lab.primary_metric
    submissions = (
        Submission.objects.filter(
            lab=lab,
            status=Submission.Status.SCORED,
            student__memberships__course_id=lab.session.course_id,
            student__memberships__role=Membership.Role.STUDENT,
        )
        .select_related("student")
        .order_by("created_at", "pk")
    )
    best: dict[str, dict[int, tuple[float, datetime]]] = {"public": {}, "private": {}}
    count: dict[int, int] = {}
    last: dict[int, datetime] = {}
    students: dict[int, object] = {}
    for s in submissions:
        students[s.student_id] = s.student
        count[s.student_id] = count.get(s.student_id, 0) + 1
        last[s.student_id] = s.created_at
        for name, metrics in (("public", s.metrics_public), ("private", s.metrics_private)):
            score = _metric(metrics, metric)
            current = best[name].get(s.student_id)
            if score is not None and (current is None or score > current[0]):
                best[name][s.student_id] = (score, s.created_at)

    ranked = best[part]
    ranks = _competition_ranks({sid: score for sid, (score, _at) in ranked.items()})
    public_ranks = None
    if part == "private":
        public_ranks = _competition_ranks(
            {sid: score for sid, (score, _at) in best["public"].items() if sid in ranked}
        )
    rows = []
    for sid, (score, _at) in ranked.items():
        user = students[sid]
        if lab.leaderboard_pseudonyms:
            name = leaderboard_pseudonym(lab=lab, user_id=sid)
        else:
            name = user.get_full_name() or user.get_username()
        rows.append(
            LeaderboardRow(
                rank=ranks[sid],
                student_id=sid,
                username=user.get_username(),
                display_name=name,
                is_me=sid == getattr(viewer, "pk", None),
                best_score=score,
                submission_count=count[sid],
                last_submitted_at=last[sid],
                public_rank=None if public_ranks is None else public_ranks.get(sid),
            )
        )
    rows.sort(key=lambda r: (r.rank, ranked[r.student_id][1], r.display_name))
    return rows
