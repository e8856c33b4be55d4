from __future__ import annotations

import bisect
import csv
import hashlib
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Max, QuerySet
from django.utils import timezone

from accounts.selectors import display_name_of
from core.exceptions import NotFoundError, PermissionDeniedError
from courseware import selectors as courseware_selectors
from courseware.permissions import (
    is_staff_role,
    require_instructor,
    require_member,
    require_staff,
)
from courseware.selectors.students import (
    StudentScope,
    active_student_ids,
    everyone,
    student_scope,
)
from labs import rules
from labs.models import HeldOutDataset, Lab, LabExtension, Submission, WorkerHost


def lab_get(*, user, lab_id: int) -> tuple[Lab, str]:
    """The lab and the user's role in its course; not found unless the user is a member."""
    lab = Lab.objects.select_related("session__course").filter(pk=lab_id).first()
    if lab is None:
        raise NotFoundError(f"No lab {lab_id}.")
    try:
        return lab, require_member(user=user, course=lab.session.course)
    except NotFoundError:
        raise NotFoundError(f"No lab {lab_id}.") from None


def lab_get_for_instructor(*, user, lab_id: int) -> Lab:
    """The lab, for the pages that change it (edit, held-out dataset): not found to
    non-members, forbidden to students and teaching assistants."""
    lab, _role = lab_get(user=user, lab_id=lab_id)
    require_instructor(user=user, course=lab.session.course)
    return lab


def lab_get_for_staff(*, user, lab_id: int) -> tuple[Lab, str]:
    """The lab and the user's role, for the pages that show every student's work (dashboard,
    per-student page, results CSV): instructors and teaching assistants; forbidden to
    students, not found to non-members."""
    lab, _role = lab_get(user=user, lab_id=lab_id)
    return lab, require_staff(user=user, course=lab.session.course)


def session_get_for_new_lab(*, user, code: str, number: int):
    """The session a new lab goes in, for the course's instructors (others as `course_get`)."""
    course, _role = courseware_selectors.course_get(user=user, code=code)
    require_instructor(user=user, course=course)
    return courseware_selectors.session_get(course=course, number=number)


def dataset_active(*, lab: Lab) -> HeldOutDataset | None:
    return HeldOutDataset.objects.filter(lab=lab).order_by("-version").first()


def submission_list(
    *, lab: Lab, user, role: str, status: str | None = None, section: str = ""
) -> QuerySet:
    """A student's own submissions; for the staff, everyone's but unenrolled students' (of
    one section, or the viewer's own as `student_scope` says)."""
    qs = Submission.objects.filter(lab=lab).select_related("student")
    if not is_staff_role(role):
        qs = qs.filter(student=user)
    else:
        scope = student_scope(user=user, course=lab.session.course, section=section)
        qs = scope.filter(qs, "student")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at")


def submission_get(*, user, submission_id: int) -> tuple[Submission, str]:
    """Own submissions only; the course's teaching staff (instructors, teaching assistants)
    see all. Others: not found."""
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
    if not is_staff_role(role) and submission.student_id != user.pk:
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
    """Charged submissions count; failures that were our fault (`internal`) and instructors'
    reference models do not."""
    resets_at = next_quota_reset(now)
    charged = Submission.objects.filter(lab=lab, student=student, charged=True, is_reference=False)
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


def queued_times() -> list[datetime]:
    """When each queued submission (of every lab) was queued, in order: with `bisect`, any
    number of queue positions from one query."""
    return sorted(
        Submission.objects.filter(status=Submission.Status.QUEUED, queued_at__isnull=False)
        .order_by()
        .values_list("queued_at", flat=True)
    )


def queue_positions(*, submissions: list[Submission]) -> dict[int, int]:
    """`queue_position` of each queued submission in the list (pk -> place), from one query
    of the queue's times whatever the list's length."""
    waiting = [
        s for s in submissions if s.status == Submission.Status.QUEUED and s.queued_at is not None
    ]
    times = queued_times()
    # Those queued strictly earlier are ahead, as in `queue_position`.
    return {s.pk: bisect.bisect_left(times, s.queued_at) + 1 for s in waiting}


# --- lab API: open/closed, metric visibility, leaderboard ----------------------------------


def lab_extension_get(*, lab: Lab, student) -> LabExtension | None:
    """The student's deadline extension for the lab, if any (None for anonymous users)."""
    if student is None or getattr(student, "pk", None) is None:
        return None
    return LabExtension.objects.filter(lab=lab, student_id=student.pk).first()


def lab_extension_list(*, lab: Lab) -> QuerySet:
    """Every extension of the lab, for the staff pages (latest close last)."""
    return LabExtension.objects.filter(lab=lab).select_related("student").order_by("closes_at")


def lab_last_extension_close(*, lab: Lab) -> datetime | None:
    """The latest extended close of the lab (None without extensions)."""
    return LabExtension.objects.filter(lab=lab).aggregate(last=Max("closes_at"))["last"]


def lab_closes_for(*, lab: Lab, student) -> datetime | None:
    """When the lab closes for this student: their extension's close, else the lab's."""
    extension = lab_extension_get(lab=lab, student=student)
    return rules.effective_close(lab, extension.closes_at if extension else None)


def lab_phase_for(*, lab: Lab, student, now: datetime | None = None) -> str:
    """The lab's phase for one student (their extension counted): what decides whether
    `submission_create` takes their upload and what their lab page says."""
    extension = lab_extension_get(lab=lab, student=student)
    extended_until = extension.closes_at if extension else None
    return rules.lab_phase(lab, now, extended_until=extended_until).value


def lab_is_open(*, lab: Lab, now: datetime | None = None, student=None) -> bool:
    """Whether submissions are taken now (between `opens_at` and `closes_at`, if set); for
    `student`, with their extension."""
    if student is not None:
        return lab_phase_for(lab=lab, student=student, now=now) == rules.LabPhase.OPEN
    return rules.lab_phase(lab, now) == rules.LabPhase.OPEN


def lab_is_closed(*, lab: Lab, now: datetime | None = None) -> bool:
    """Closed for good, for everyone: the deadline and every student's extension have passed.
    This is what reveals the private scores to students, so no student sees them while
    another student may still submit. A lab without `closes_at` never closes."""
    if rules.lab_phase(lab, now) != rules.LabPhase.CLOSED:
        return False  # no query while the lab itself is open
    last = lab_last_extension_close(lab=lab)
    return rules.lab_phase(lab, now, extended_until=last) == rules.LabPhase.CLOSED


def lab_closes_for_everyone(*, lab: Lab) -> datetime | None:
    """When the private scores are revealed: the lab's close or its latest extension's."""
    return rules.effective_close(lab, lab_last_extension_close(lab=lab))


def submission_visible_metrics(
    *, submission: Submission, role: str, now: datetime | None = None, closed: bool | None = None
) -> dict:
    """`{"public": ..., "private": ...}` as `role` may see them.

    The private part of the held-out set decides the final ranking, so students only see its
    scores once the lab has closed; before that `private` is None. Teaching staff see both."""
    private = submission.metrics_private
    if not is_staff_role(role):
        if closed is None:  # a caller showing many submissions passes it, read once
            closed = lab_is_closed(lab=submission.lab, now=now)
        if not closed:
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


def leaderboard_part(
    *, lab: Lab, role: str, requested: str | None, now: datetime | None = None
) -> str:
    """Which ranking a viewer gets: the one asked for, else the private part once the lab has
    closed and the public part before. Only the teaching staff may see the private part
    early."""
    closed = lab_is_closed(lab=lab, now=now)
    part = requested or ("private" if closed else "public")
    if part == "private" and not closed and not is_staff_role(role):
        reveal = lab_closes_for_everyone(lab=lab)
        raise PermissionDeniedError(
            "The private leaderboard is revealed when the lab closes for everyone"
            + (f" at {reveal:%Y-%m-%d %H:%M %Z}." if reveal else ".")
        )
    return part


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
    """One row per current student of the course with a scored submission, best first
    (unenrolled students keep their submissions but leave the board; re-enrolling restores
    them).

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
            is_reference=False,
            student__memberships__course_id=lab.session.course_id,
            student__memberships__role=Membership.Role.STUDENT,
            student__memberships__is_active=True,
        )
        # The profile holds the display name: loaded here, so naming rows costs no query.
        .select_related("student__profile")
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
            name = display_name_of(user=user)
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


@dataclass(frozen=True)
class LeaderboardReference:
    """The instructors' reference line ("Baseline"): a score to beat, never a rank."""

    label: str
    score: float
    position: int  # how many leaderboard rows are listed above it (those at or above its score)
    submitted_at: datetime


REFERENCE_LABEL = "Baseline (instructor reference)"


def leaderboard_reference(
    *, lab: Lab, part: str, rows: list[LeaderboardRow]
) -> LeaderboardReference | None:
    """The best scored reference model of the lab on `part`, placed among `rows` (the
    `leaderboard` of the same part): students level with it are listed above it."""
    if part not in LEADERBOARD_PARTS:
        raise ValueError(f"part must be one of {LEADERBOARD_PARTS}, not {part!r}")
    best: tuple[float, datetime] | None = None
    for s in Submission.objects.filter(
        lab=lab, is_reference=True, status=Submission.Status.SCORED
    ).order_by("created_at", "pk"):
        score = _metric(
            s.metrics_public if part == "public" else s.metrics_private, lab.primary_metric
        )
        if score is not None and (best is None or score > best[0]):
            best = (score, s.created_at)
    if best is None:
        return None
    return LeaderboardReference(
        label=REFERENCE_LABEL,
        score=best[0],
        position=sum(1 for row in rows if row.best_score >= best[0]),
        submitted_at=best[1],
    )


# --- portal: lab pages, the instructor dashboard, results export, "Try it" ------------------


def session_labs(*, session) -> QuerySet:
    """A session's labs, in the order students meet them. The caller checks membership."""
    return Lab.objects.filter(session=session).order_by("opens_at", "title", "pk")


def lab_phase(*, lab: Lab, now: datetime | None = None) -> str:
    """The lab's phase: `upcoming` before `opens_at`, `closed` after `closes_at`, else `open`."""
    return rules.lab_phase(lab, now).value


def submission_filter(
    *,
    lab: Lab,
    status: str | None = None,
    error_code: str | None = None,
    student_id: int | None = None,
    scope: StudentScope | None = None,
) -> QuerySet:
    """A lab's submissions (instructors), newest first, optionally filtered: not those of
    unenrolled students; with a section in the scope, only its students'."""
    scope = scope or everyone(course=lab.session.course)
    qs = scope.filter(Submission.objects.filter(lab=lab), "student")
    qs = qs.select_related("student", "dataset")
    if status:
        qs = qs.filter(status=status)
    if error_code:
        qs = qs.filter(error_code=error_code)
    if student_id:
        qs = qs.filter(student_id=student_id)
    return qs.order_by("-created_at", "-pk")


def lab_submitters(*, lab: Lab, scope: StudentScope | None = None) -> list:
    """The users who submitted to the lab, by username (for the dashboard's student filter):
    current students, of the scope's section if it has one."""
    from django.contrib.auth import get_user_model

    scope = scope or everyone(course=lab.session.course)
    users = get_user_model().objects.filter(
        lab_submissions__lab=lab, lab_submissions__is_reference=False
    )
    return list(scope.filter(users, "pk").distinct().order_by("username"))


def lab_students(*, lab: Lab, scope: StudentScope | None = None) -> list:
    """The course's active students (in the staff member's scope), for the extension form."""
    scope = scope or everyone(course=lab.session.course)
    ids = active_student_ids(course=lab.session.course)
    users = get_user_model().objects.filter(pk__in=ids)
    return list(scope.filter(users, "pk").order_by("username"))


def lab_error_codes(*, lab: Lab) -> list[str]:
    return sorted(
        set(
            Submission.objects.filter(lab=lab)
            .exclude(error_code="")
            .values_list("error_code", flat=True)
        )
    )


def submission_best(*, lab: Lab, student, part: str = "public") -> Submission | None:
    """The student's best scored submission on the lab's primary metric and `part`."""
    best, best_score = None, None
    for s in Submission.objects.filter(lab=lab, student=student, status=Submission.Status.SCORED):
        score = _metric(
            s.metrics_public if part == "public" else s.metrics_private, lab.primary_metric
        )
        if score is not None and (best_score is None or score > best_score):
            best, best_score = s, score
    return best


@dataclass(frozen=True)
class RunningSubmission:
    submission: Submission
    elapsed_s: float
    heartbeat_age_s: float | None


@dataclass(frozen=True)
class DayCounts:
    day: object  # datetime.date
    scored: int
    failed: dict[str, int]  # error code -> count
    cancelled: int

    @property
    def failed_total(self) -> int:
        return sum(self.failed.values())


@dataclass(frozen=True)
class LabDashboard:
    queued: int  # this lab
    queued_all_labs: int
    running: list[RunningSubmission]
    status_counts: dict[str, int]
    error_counts: dict[str, int]
    days: list[DayCounts]
    error_codes: list[str]  # the codes that appear in `days`, sorted
    median_grading_s: float | None
    median_queue_wait_s: float | None
    students_submitted: int
    students_scored: int
    score_histogram: dict  # {"labels": [...], "public": [...], "private": [...]}
    best_over_time: dict  # {"labels": [...], "public": [...], "private": [...]}


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


HISTOGRAM_BINS = 10


def _histogram(scores: list[float]) -> list[int]:
    counts = [0] * HISTOGRAM_BINS
    for score in scores:
        counts[min(HISTOGRAM_BINS - 1, max(0, int(score * HISTOGRAM_BINS)))] += 1
    return counts


def _running(s: Submission, now: datetime) -> RunningSubmission:
    return RunningSubmission(
        submission=s,
        elapsed_s=(now - s.started_at).total_seconds(),
        heartbeat_age_s=(now - s.heartbeat_at).total_seconds() if s.heartbeat_at else None,
    )


def _count_finished(s: Submission, per_day: dict, grading: list[float]) -> None:
    """A finished submission's outcome in its day's bucket, and its grading time."""
    day = timezone.localdate(s.finished_at)
    bucket = per_day.setdefault(day, {"scored": 0, "failed": {}, "cancelled": 0})
    if s.status == Submission.Status.SCORED:
        bucket["scored"] += 1
    elif s.status == Submission.Status.FAILED:
        code = s.error_code or "unknown"
        bucket["failed"][code] = bucket["failed"].get(code, 0) + 1
    else:
        bucket["cancelled"] += 1
    if s.started_at and s.status != Submission.Status.CANCELLED:
        grading.append((s.finished_at - s.started_at).total_seconds())


def _track_best(s: Submission, lab: Lab, best: dict, timeline: dict) -> None:
    """A scored submission's score per part: each student's best, and the best so far."""
    for part, metrics in (("public", s.metrics_public), ("private", s.metrics_private)):
        score = _metric(metrics, lab.primary_metric)
        if score is None:
            continue
        if score > best[part].get(s.student_id, float("-inf")):
            best[part][s.student_id] = score
        previous = timeline[part][-1][1] if timeline[part] else float("-inf")
        at = s.finished_at or s.created_at
        timeline[part].append((at, max(previous, score)))


def lab_dashboard(
    *, lab: Lab, now: datetime | None = None, scope: StudentScope | None = None
) -> LabDashboard:
    """What an instructor watches while a lab runs: the queue, the workers, outcomes per day,
    grading times and how the scores are distributed (both parts: instructors see both).
    Unenrolled students' submissions are left out; a section narrows it to its students."""
    now = now or timezone.now()
    scope = scope or everyone(course=lab.session.course)
    submissions = list(
        scope.filter(Submission.objects.filter(lab=lab), "student")
        .order_by("created_at", "pk")
        .select_related("student")
    )
    status_counts = {status: 0 for status in Submission.Status.values}
    error_counts: dict[str, int] = {}
    per_day: dict[object, dict] = {}
    grading, waits = [], []
    running = []
    best: dict[str, dict[int, float]] = {"public": {}, "private": {}}
    timeline: dict[str, list[tuple[datetime, float]]] = {"public": [], "private": []}
    for s in submissions:
        status_counts[s.status] = status_counts.get(s.status, 0) + 1
        if s.status == Submission.Status.FAILED:
            error_counts[s.error_code or "unknown"] = (
                error_counts.get(s.error_code or "unknown", 0) + 1
            )
        if s.status == Submission.Status.RUNNING and s.started_at:
            running.append(_running(s, now))
        if s.is_finished and s.finished_at:
            _count_finished(s, per_day, grading)
        if s.started_at and s.queued_at:
            waits.append(max(0.0, (s.started_at - s.queued_at).total_seconds()))
        if s.status == Submission.Status.SCORED and not s.is_reference:
            _track_best(s, lab, best, timeline)

    days = [
        DayCounts(day=day, scored=b["scored"], failed=b["failed"], cancelled=b["cancelled"])
        for day, b in sorted(per_day.items())
    ]
    step = 1 / HISTOGRAM_BINS
    labels = [f"{i * step:.1f}\u2013{(i + 1) * step:.1f}" for i in range(HISTOGRAM_BINS)]
    # One point per day: the best score anyone had reached by the end of that day.
    best_days: dict[str, dict[object, float]] = {"public": {}, "private": {}}
    for part, points in timeline.items():
        for at, value in points:
            best_days[part][timezone.localdate(at)] = value
    all_days = sorted(set(best_days["public"]) | set(best_days["private"]))
    series: dict[str, list[float | None]] = {"public": [], "private": []}
    for part in series:
        last = None
        for day in all_days:
            last = best_days[part].get(day, last)
            series[part].append(last)
    return LabDashboard(
        queued=status_counts.get(Submission.Status.QUEUED, 0),
        queued_all_labs=Submission.objects.filter(status=Submission.Status.QUEUED).count(),
        running=running,
        status_counts=status_counts,
        error_counts=dict(sorted(error_counts.items(), key=lambda kv: (-kv[1], kv[0]))),
        days=days,
        error_codes=sorted({code for d in days for code in d.failed}),
        median_grading_s=_median(grading),
        median_queue_wait_s=_median(waits),
        students_submitted=len({s.student_id for s in submissions if not s.is_reference}),
        students_scored=len(best["public"] | best["private"]),
        score_histogram={
            "labels": labels,
            "public": _histogram(list(best["public"].values())),
            "private": _histogram(list(best["private"].values())),
        },
        best_over_time={
            "labels": [day.isoformat() for day in all_days],
            "public": series["public"],
            "private": series["private"],
        },
    )


@dataclass(frozen=True)
class GradingStall:
    """Work is waiting but no worker seems to take it."""

    oldest_queued_at: datetime
    queued: int
    last_started_at: datetime | None
    last_ping_answered_at: datetime | None


def grading_stalled(*, now: datetime | None = None, after_s: int = 120) -> GradingStall | None:
    """A stall: a submission (of any lab: workers serve all of them) has waited longer than
    `after_s`, none started in the last `after_s` and none is running with a fresh heartbeat."""
    from django.conf import settings

    from core.selectors import worker_ping_last_answered

    now = now or timezone.now()
    cutoff = now - timedelta(seconds=after_s)
    queued = Submission.objects.filter(status=Submission.Status.QUEUED)
    oldest = queued.order_by("queued_at").values_list("queued_at", flat=True).first()
    if oldest is None or oldest > cutoff:
        return None
    last_started = (
        Submission.objects.filter(started_at__isnull=False)
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )
    if last_started and last_started > cutoff:
        return None
    alive = now - timedelta(seconds=settings.GRADING_HEARTBEAT_EXPIRY_S)
    if Submission.objects.filter(
        status=Submission.Status.RUNNING, heartbeat_at__gte=alive
    ).exists():
        return None
    ping = worker_ping_last_answered()
    return GradingStall(
        oldest_queued_at=oldest,
        queued=queued.count(),
        last_started_at=last_started,
        last_ping_answered_at=ping.answered_at if ping else None,
    )


# --- worker hosts (the dashboard's host list) ------------------------------------------------

#: A host whose last heartbeat is older than this many intervals is shown offline.
WORKER_HOST_OFFLINE_INTERVALS = 3
#: Hosts silent for longer drop off the list (a retired VM, a test worker).
WORKER_HOST_SHOWN_FOR = timedelta(days=1)


@dataclass(frozen=True)
class WorkerHostRow:
    name: str
    hostname: str
    heartbeat_at: datetime
    heartbeat_age_s: float
    state: str  # "online", "draining" or "offline"
    queues: list[str]
    cancelled_queues: list[str]
    #: "idle", "this_course" or "other_course": another course's job is shown only as busy.
    job: str
    job_kind: str = ""
    job_since: datetime | None = None
    #: Only for a job of this course.
    submission_id: int | None = None
    lab_title: str = ""


def _worker_host_state(host: WorkerHost, now: datetime) -> str:
    from django.conf import settings

    offline_after = timedelta(
        seconds=WORKER_HOST_OFFLINE_INTERVALS * settings.GRADING_HEARTBEAT_INTERVAL_S
    )
    if host.stopped_at is not None or host.heartbeat_at < now - offline_after:
        return "offline"
    return "draining" if host.draining_since is not None else "online"


def worker_host_get(*, name: str) -> WorkerHost:
    """One worker's row (operators' commands); not found if it never reported itself."""
    host = WorkerHost.objects.filter(name=name).first()
    if host is None:
        raise NotFoundError(f"No worker named {name!r} has reported itself.")
    return host


def worker_host_list(*, course, now: datetime | None = None) -> list[WorkerHostRow]:
    """Every worker host seen in the last day, for the staff of `course` (the caller checked
    the role): name, heartbeat, state, queues and current job. Workers serve every course, so
    a job of another course is only "busy (another course)": no lab, submission or student.
    One query, whatever the number of hosts."""
    now = now or timezone.now()
    hosts = (
        WorkerHost.objects.filter(heartbeat_at__gte=now - WORKER_HOST_SHOWN_FOR)
        .select_related("current_submission__lab__session")
        .order_by("name")
    )
    rows = []
    for host in hosts:
        state = _worker_host_state(host, now)
        job = host.current_submission if state != "offline" else None
        ours = job is not None and job.lab.session.course_id == course.pk
        rows.append(
            WorkerHostRow(
                name=host.name,
                hostname=host.hostname,
                heartbeat_at=host.heartbeat_at,
                heartbeat_age_s=max(0.0, (now - host.heartbeat_at).total_seconds()),
                state=state,
                queues=list(host.queues or []),
                cancelled_queues=list(host.cancelled_queues or []),
                job="idle" if job is None else ("this_course" if ours else "other_course"),
                job_kind=host.current_kind if ours else "",
                job_since=host.current_since if ours else None,
                submission_id=job.pk if ours else None,
                lab_title=job.lab.title if ours else "",
            )
        )
    order = {"online": 0, "draining": 1, "offline": 2}
    return sorted(rows, key=lambda r: (order[r.state], r.name))


RESULT_METRICS = ("accuracy", "macro_f1", "weighted_f1", "n")
RESULT_TIMINGS = ("queue_wait_s", "prepare_s", "load_s", "inference_s", "total_s")


def lab_results_table(
    *, lab: Lab, scope: StudentScope | None = None
) -> tuple[list[str], list[list]]:
    """One row per submission (instructors' CSV export): who, outcome, both parts' metrics,
    timings and times. Never a stored file's name or path. Not unenrolled students'
    submissions; with a section in the scope, only its students'."""
    scope = scope or everyone(course=lab.session.course)
    columns = [
        "submission_id",
        "username",
        "student_name",
        "status",
        "error_code",
        "charged",
        "is_reference",
        *(f"public_{m}" for m in RESULT_METRICS),
        *(f"private_{m}" for m in RESULT_METRICS),
        "dataset_version",
        "grader_version",
        "attempts",
        "worker_host",
        *RESULT_TIMINGS,
        "grading_s",
        "created_at",
        "started_at",
        "finished_at",
    ]
    rows = []
    for s in (
        scope.filter(Submission.objects.filter(lab=lab), "student")
        .select_related("student", "dataset")
        .order_by("created_at", "pk")
    ):
        public = s.metrics_public if isinstance(s.metrics_public, dict) else {}
        private = s.metrics_private if isinstance(s.metrics_private, dict) else {}
        timings = s.timings if isinstance(s.timings, dict) else {}
        grading = (
            (s.finished_at - s.started_at).total_seconds()
            if s.finished_at and s.started_at and s.status != Submission.Status.CANCELLED
            else None
        )
        rows.append(
            [
                s.pk,
                s.student.get_username(),
                s.student.get_full_name(),
                s.status,
                s.error_code,
                s.charged,
                s.is_reference,
                *(public.get(m) for m in RESULT_METRICS),
                *(private.get(m) for m in RESULT_METRICS),
                s.dataset.version if s.dataset else None,
                s.grader_version,
                s.attempts,
                s.worker_host,
                *(timings.get(t) for t in RESULT_TIMINGS),
                grading,
                s.created_at.isoformat(),
                s.started_at.isoformat() if s.started_at else None,
                s.finished_at.isoformat() if s.finished_at else None,
            ]
        )
    return columns, rows


def tryit_get(*, user, prediction_id: int):
    """A "Try it" prediction: its requester, or an instructor of the course. Others: not found."""
    from labs.models import TryItPrediction

    prediction = (
        TryItPrediction.objects.select_related("submission__lab__session__course")
        .filter(pk=prediction_id)
        .first()
    )
    missing = NotFoundError(f"No prediction {prediction_id}.")
    if prediction is None:
        raise missing
    try:
        submission_get(user=user, submission_id=prediction.submission_id)
    except NotFoundError:
        raise missing from None
    return prediction


def tryit_recent(*, submission: Submission, limit: int = 5) -> list:
    return list(submission.try_it_predictions.order_by("-created_at", "-pk")[:limit])


def lab_example_text(*, lab: Lab, max_chars: int = 80) -> str | None:
    """A short text from the lab's (public) training data, for the "Try it" box's placeholder;
    None when the lab has no training file. Only the first rows are read."""
    from labs.demo import training_csv_path  # labs.demo imports this module

    path = training_csv_path(lab)
    if path is None:
        return None
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for row in itertools.islice(csv.DictReader(fh), 50):
            text = " ".join((row.get("text") or "").split())
            if 10 <= len(text) <= max_chars:
                return text
    return None
