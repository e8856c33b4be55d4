"""Grade events → AGS. A quiz or lab change (core.events, after its commit) and a gradebook
cell saved by an instructor (override, excuse) queue a scores refresh, only for courses linked
to an LMS course."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from core.events import grade_source_changed
from gradebook.models import GradeCell
from labs.models import Lab
from lti.models import CourseLink
from quizzes.models import Quiz


def _enqueue(course_id: int, student_ids: list[int] | None) -> None:
    if not CourseLink.objects.filter(course_id=course_id).exists():
        return
    from lti.tasks import scores_refresh

    transaction.on_commit(lambda: scores_refresh.delay(course_id, student_ids))


@receiver(grade_source_changed, dispatch_uid="lti.grade_source_changed")
def on_grade_source_changed(sender, *, course_id, user_id, source, source_id, **kwargs) -> None:
    if source not in ("quiz", "lab"):
        return
    if course_id is None:
        model = Quiz if source == "quiz" else Lab
        course_id = (
            model.objects.filter(pk=source_id).values_list("session__course_id", flat=True).first()
        )
    if course_id is not None:
        _enqueue(course_id, None if user_id is None else [user_id])


@receiver(post_save, sender=GradeCell, dispatch_uid="lti.grade_cell_saved")
def on_grade_cell_saved(sender, instance: GradeCell, **kwargs) -> None:
    # The gradebook's own refreshes use bulk updates (no signal); a saved cell is a person's
    # change: an override, an excuse, a manual score.
    _enqueue(instance.item.course_id, [instance.student_id])
