"""Assignment and Grade Services: scores from the Coursebench gradebook to the LMS's line
items (the columns deep linking created, found by resource id `quiz:<id>` / `lab:<id>`).

    grade event (quiz finalized or regraded, lab scored, gradebook override)
      → lti.receivers → task scores_refresh(course, student)   [after commit]
      → scores_refresh: the gradebook cell's points per placed item; a changed one gets a new
        version and a task score_send(sync, version)            [after commit]
      → score_send: PyLTI1p3's AssignmentsGradesService posts the score; retried with backoff

The score is the gradebook's `points` for the cell (late deduction and override included),
out of the item's points. Provisional lab scores (public score while the lab is open) are sent
only when the course link allows it (`CourseLink.send_provisional`), with gradingProgress
Pending; the private score at close replaces them."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from lti_tool.models import LtiMembership, LtiUser
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.exception import LtiException, LtiServiceException
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem
from requests import RequestException

from courseware.models import Course
from courseware.permissions import Actor, require_instructor
from gradebook.models import GradeCell, GradeItem
from gradebook.services import gradebook_ensure_fresh, gradebook_student_refresh
from lti.models import CourseLink, LinkTarget, Placement, ScoreSync
from lti.services.connector import service_connector

logger = logging.getLogger("lti.grades")

AGS_SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
]
GRADABLE = (LinkTarget.Kind.QUIZ, LinkTarget.Kind.LAB)


class ScoreSendError(Exception):
    """The LMS did not take the score (network, token, HTTP error): the task retries."""


@dataclass(frozen=True)
class Wanted:
    score_given: float | None
    score_maximum: float
    activity_progress: str
    grading_progress: str


def _wanted(cell: GradeCell | None, item: GradeItem, *, send_provisional: bool) -> Wanted | None:
    if cell is None or (cell.provisional and not send_provisional):
        return None
    if cell.excused:
        return None
    maximum = float(item.points_possible)
    if cell.status == GradeCell.Status.UNGRADED and cell.submitted_at is not None:
        # Submitted, not all marked yet (essays): the LMS shows it as needing grading.
        return Wanted(None, maximum, "Submitted", "PendingManual")
    if cell.points is None:
        return None
    progress = "Pending" if cell.provisional else "FullyGraded"
    return Wanted(round(float(cell.points), 7), maximum, "Completed", progress)


def _placed(link: CourseLink) -> dict[tuple[str, int], str]:
    """(gradebook kind, source id) → resource, for the gradable items placed in this LMS
    course: by deep linking (Placement) or by a launched link naming one (LinkTarget)."""
    resources = set(
        Placement.objects.filter(context=link.context).values_list("resource", flat=True)
    )
    resources |= {
        f"{kind}:{object_id}"
        for kind, object_id in LinkTarget.objects.filter(
            resource_link__context=link.context, kind__in=GRADABLE
        ).values_list("kind", "object_id")
    }
    placed = {}
    for resource in resources:
        kind, _, object_id = resource.partition(":")
        placed[(kind, int(object_id))] = resource
    return placed


def linked_course_ids() -> list[int]:
    """Offerings linked to an LMS course that takes scores."""
    return list(
        CourseLink.objects.filter(context__can_publish_scores=True)
        .exclude(context__lineitems_url="")
        .values_list("course_id", flat=True)
        .distinct()
    )


def _links(course: Course) -> list[CourseLink]:
    return [
        link
        for link in CourseLink.objects.filter(course=course).select_related("context")
        if link.context.lineitems_url and link.context.can_publish_scores
    ]


@transaction.atomic
def scores_refresh(*, course: Course, student_ids: list[int] | None = None) -> list[ScoreSync]:
    """Compare what each LMS course linked to `course` should have with what was sent, for
    these students (None: everyone who launched from it), and queue a send for each change.
    Returns the rows that got a new version. Acts for no person (a grade event)."""
    links = _links(course)
    if not links:
        return []
    gradebook_ensure_fresh(course=course)
    if student_ids is not None:
        gradebook_student_refresh(course=course, user_ids=student_ids)
    changed: list[ScoreSync] = []
    for link in links:
        placed = _placed(link)
        if not placed:
            continue
        members = LtiMembership.objects.filter(
            context=link.context, user__auth_user__isnull=False
        ).values_list("user__auth_user_id", flat=True)
        students = set(members) if student_ids is None else set(members) & set(student_ids)
        items = {
            (item.kind, item.source_id): item
            for item in GradeItem.objects.filter(course=course, kind__in=GRADABLE)
        }
        cells = {
            (c.item.kind, c.item.source_id, c.student_id): c
            for c in GradeCell.objects.filter(
                item__course=course, item__kind__in=GRADABLE, student_id__in=students
            ).select_related("item")
        }
        for (kind, source_id), resource in placed.items():
            item = items.get((kind, source_id))
            if item is None:
                continue
            for student_id in students:
                wanted = _wanted(
                    cells.get((kind, source_id, student_id)),
                    item,
                    send_provisional=link.send_provisional,
                )
                if wanted is not None:
                    row = _record(
                        link=link, student_id=student_id, resource=resource, wanted=wanted
                    )
                    if row is not None:
                        changed.append(row)
    return changed


def _record(
    *, link: CourseLink, student_id: int, resource: str, wanted: Wanted
) -> ScoreSync | None:
    row = (
        ScoreSync.objects.select_for_update()
        .filter(context=link.context, student_id=student_id, resource=resource)
        .first()
    )
    values = {
        "score_given": wanted.score_given,
        "score_maximum": wanted.score_maximum,
        "activity_progress": wanted.activity_progress,
        "grading_progress": wanted.grading_progress,
    }
    if row is not None and all(getattr(row, k) == v for k, v in values.items()):
        return None
    if row is None:
        row = ScoreSync(context=link.context, student_id=student_id, resource=resource, version=1)
    else:
        row.version += 1
    for key, value in values.items():
        setattr(row, key, value)
    row.scored_at = timezone.now()
    row.state = ScoreSync.State.PENDING
    row.full_clean(validate_constraints=False)
    row.save()
    _enqueue_send(row)
    return row


def _enqueue_send(row: ScoreSync) -> None:
    from lti.tasks import score_send as task

    pk, version = row.pk, row.version
    transaction.on_commit(lambda: task.delay(pk, version))


@transaction.atomic
def course_link_provisional_set(*, actor: Actor, link: CourseLink, send: bool) -> CourseLink:
    """An instructor's choice for one LMS course: whether a lab's provisional (public
    leaderboard) score goes to the LMS while the lab is open. Switched on, the provisional
    scores are queued at once (gradingProgress "Pending"); switched off, the LMS keeps what it
    has until the private score replaces it at the close."""
    require_instructor(user=actor, course=link.course)
    link.send_provisional = send
    link.full_clean()
    link.save(update_fields=["send_provisional"])
    if send:
        scores_refresh(course=link.course)
    return link


@transaction.atomic
def score_resend(*, actor: Actor, sync: ScoreSync) -> ScoreSync:
    """An instructor's "send again": a new version of the same score (a new timestamp)."""
    link = CourseLink.objects.select_related("course").get(context=sync.context)
    require_instructor(user=actor, course=link.course)
    ScoreSync.objects.filter(pk=sync.pk).update(
        version=F("version") + 1, state=ScoreSync.State.PENDING, scored_at=timezone.now()
    )
    sync.refresh_from_db()
    _enqueue_send(sync)
    return sync


def _ags(sync: ScoreSync) -> AssignmentsGradesService:
    registration = sync.context.deployment.registration
    connector = service_connector(registration)
    scopes = [AGS_SCOPES[2]]
    if sync.context.can_query_lineitems or sync.context.can_manage_lineitems:
        scopes += AGS_SCOPES[:2]
    return AssignmentsGradesService(
        connector, {"scope": scopes, "lineitems": sync.context.lineitems_url}
    )


def _grade(sync: ScoreSync, sub: str) -> Grade:
    grade = (
        Grade()
        .set_score_maximum(sync.score_maximum)
        .set_activity_progress(sync.activity_progress)
        .set_grading_progress(sync.grading_progress)
        .set_timestamp(sync.scored_at.isoformat())
        .set_user_id(sub)
    )
    if sync.score_given is not None:
        grade.set_score_given(sync.score_given)
    return grade


def score_send(*, sync_id: int, version: int) -> str:
    """Send version `version` of a score. Returns what happened: "sent", "stale" (a newer
    version exists or this one was sent: nothing sent), "no_line_item". Raises ScoreSendError
    for the task to retry. Idempotent: sending the same version twice posts the same score
    with the same timestamp."""
    sync = (
        ScoreSync.objects.select_related("context__deployment__registration")
        .filter(pk=sync_id)
        .first()
    )
    if sync is None or sync.version != version or sync.sent_version >= version:
        return "stale"
    registration = sync.context.deployment.registration
    lti_user = LtiUser.objects.filter(
        registration=registration, auth_user_id=sync.student_id
    ).first()
    if lti_user is None:
        return "stale"
    ScoreSync.objects.filter(pk=sync.pk).update(attempts=F("attempts") + 1)
    try:
        ags = _ags(sync)
        url = sync.lineitem_url
        if not url:
            lineitem = ags.find_lineitem_by_resource_id(sync.resource)
            if lineitem is None:
                ScoreSync.objects.filter(pk=sync.pk, version=version).update(
                    state=ScoreSync.State.NO_LINE_ITEM,
                    last_error=f"The LMS course has no gradebook column for {sync.resource}: "
                    "place the item with deep linking (Add content → Coursebench).",
                )
                return "no_line_item"
            url = lineitem.get_id()
        ags.put_grade(_grade(sync, lti_user.sub), LineItem({"id": url}))
    except (LtiServiceException, LtiException, RequestException) as exc:
        ScoreSync.objects.filter(pk=sync.pk, version=version).update(
            state=ScoreSync.State.FAILED, last_error=str(exc)[:2000]
        )
        logger.warning("AGS score %s v%s failed: %s", sync.pk, version, exc)
        raise ScoreSendError(str(exc)) from exc
    # Only a version not yet overtaken becomes "sent"; sent_version only goes up.
    ScoreSync.objects.filter(pk=sync.pk, sent_version__lt=version).update(
        sent_version=version, lineitem_url=url, sent_at=timezone.now(), last_error=""
    )
    ScoreSync.objects.filter(pk=sync.pk, version=version).update(state=ScoreSync.State.SENT)
    return "sent"
