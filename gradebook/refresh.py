"""Keeping a student's stored results up to date after a grade event, off the request.

A student's own write (a homework tick, a quiz submit, a lab score) used to recompute their
cells, totals and mastery inside the request: ~45 queries, most of the request's time. Now
the request's on-commit hook only counts a `RefreshRequest` up (one query) and queues
`gradebook.tasks.student_refresh`; the task recomputes (`refresh_request_run`). Events that
name no student (a quiz's dates, a lab re-configured: an instructor's change to many
students) still refresh the course inline, as before.

The gradebook pages show what was last stored: a tick shows up there once the worker ran the
task (well under a second on an idle worker). The LTI passback does not wait for it: its own
task refreshes the student's cells before it reads them (lti/services/grades.py).
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import F

from courseware.models import Course
from gradebook import mastery, services
from gradebook.models import RefreshRequest

# One statement: nothing is counted for a course whose gradebook nobody has opened yet (its
# first view computes everyone), and the counter goes up atomically however many events race.
# (Table names written out: gradebook_refreshrequest, gradebook_gradebooksettings.)
_REQUEST_SQL = """
INSERT INTO gradebook_refreshrequest
    (course_id, student_id, requested, done, created_at, updated_at)
SELECT s.course_id, %s, 1, 0, now(), now()
FROM gradebook_gradebooksettings s WHERE s.course_id = %s
ON CONFLICT (course_id, student_id) DO UPDATE
    SET requested = gradebook_refreshrequest.requested + 1, updated_at = now()
RETURNING requested
"""


def refresh_request_add(*, course_id: int, student_id: int) -> int | None:
    """Count one more refresh wanted for this student; returns the version to hand the task,
    or None when the course's gradebook was never opened (nothing stored to keep fresh)."""
    with connection.cursor() as cursor:
        cursor.execute(_REQUEST_SQL, [student_id, course_id])
        row = cursor.fetchone()
    return None if row is None else row[0]


def gradebook_refresh(*, course: Course, user_ids: list[int] | None) -> None:
    """Sync the items and recompute these students (None: the course), cells, totals and
    mastery. A structure change (an item added, re-pointed) recomputes the course."""
    with transaction.atomic():
        structure_changed = services.gradebook_items_sync(course=course)
        if structure_changed or user_ids is None:
            services.gradebook_course_refresh(course=course)
        else:
            services.gradebook_student_refresh(course=course, user_ids=user_ids)
        # Mastery reads the same sources: the same students' evidence follows.
        mastery.mastery_refresh_if_started(course=course, user_ids=user_ids)


@transaction.atomic
def refresh_request_run(*, course_id: int, student_id: int, version: int) -> bool:
    """The task's work: claim the request and recompute the student. Returns False (and does
    nothing) when a refresh that started after this version was asked for already ran.

    The claim (`done < version` → `done = requested`) covers every request counted so far:
    each was counted after its write committed, so this refresh reads it. Its row lock lasts
    until this transaction commits, so a second task for the same student waits and then
    either finds its version covered or recomputes from the newer sources."""
    claimed = RefreshRequest.objects.filter(
        course_id=course_id, student_id=student_id, done__lt=version
    ).update(done=F("requested"))
    if not claimed:
        return False
    course = Course.objects.filter(pk=course_id).first()
    if course is not None:
        gradebook_refresh(course=course, user_ids=[student_id])
    return True


@transaction.atomic
def refresh_pending(*, course: Course, student_ids: list[int] | None = None) -> int:
    """Before a page reads the stored results: recompute, in one batch, every student whose
    refresh was asked for and not yet run (the worker is behind, or down), so a page never
    shows less than what was committed. The tasks queued for them then find their versions
    covered and do nothing. `student_ids` limits it to those students (None: everyone). One
    query when nothing is pending. Returns how many students."""
    requests = RefreshRequest.objects.select_for_update().filter(
        course=course, done__lt=F("requested")
    )
    if student_ids is not None:
        requests = requests.filter(student_id__in=student_ids)
    # One lock order for every reader, so two of them never deadlock.
    pending = list(requests.order_by("student_id").values_list("pk", "student_id"))
    if not pending:
        return 0
    RefreshRequest.objects.filter(pk__in=[pk for pk, _ in pending]).update(done=F("requested"))
    gradebook_refresh(course=course, user_ids=[student_id for _, student_id in pending])
    return len(pending)
