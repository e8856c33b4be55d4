"""Where grade events land: a quiz, lab or homework change (core.events) or a membership
saved (enrolled, unenrolled, re-enrolled) refreshes just the students it names, in a Celery
task queued after the write commits (gradebook/refresh.py); an event for many students (an
instructor's change) refreshes the course at once.

A course whose gradebook nobody has opened yet is skipped: its first view computes it all.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import m2m_changed, post_save
from django.dispatch import receiver

from core.events import grade_source_changed
from courseware.models import Course, HomeworkTask, LearningObjective, Membership
from gradebook import mastery, refresh, tasks
from gradebook.models import GradebookSettings, GradeItem
from labs.models import Lab
from quizzes.models import Question, Quiz


def _course_id(source: str, source_id: int) -> int | None:
    if source == "quiz":
        query = Quiz.objects.filter(pk=source_id).values_list("session__course_id", flat=True)
    elif source == "lab":
        query = Lab.objects.filter(pk=source_id).values_list("session__course_id", flat=True)
    elif source == "homework":
        query = HomeworkTask.objects.filter(pk=source_id).values_list(
            "session__course_id", flat=True
        )
    else:
        query = Membership.objects.filter(pk=source_id).values_list("course_id", flat=True)
    return query.first()


def refresh_for_event(*, course_id: int | None, user_id: int | None, source: str, source_id: int):
    course_id = course_id or _course_id(source, source_id)
    if course_id is None:
        return
    if user_id is not None:
        # A student's own write: counted here (one query), recomputed by a worker after
        # this commits, so the request does not pay for it (gradebook/refresh.py).
        version = refresh.refresh_request_add(course_id=course_id, student_id=user_id)
        if version is not None:
            transaction.on_commit(lambda: tasks.student_refresh.delay(course_id, user_id, version))
        return
    if not GradebookSettings.objects.filter(course_id=course_id).exists():
        return
    refresh.gradebook_refresh(course=Course.objects.get(pk=course_id), user_ids=None)


@receiver(grade_source_changed, dispatch_uid="gradebook.grade_source_changed")
def on_grade_source_changed(sender, *, course_id, user_id, source, source_id, **kwargs) -> None:
    refresh_for_event(course_id=course_id, user_id=user_id, source=source, source_id=source_id)


@receiver(post_save, sender=Membership, dispatch_uid="gradebook.membership_saved")
def on_membership_saved(sender, instance: Membership, **kwargs) -> None:
    # Enrolment, unenrolment (is_active) and re-enrolment all save the membership, whichever
    # service does it; refresh once the change is committed.
    course_id, user_id, pk = instance.course_id, instance.user_id, instance.pk
    transaction.on_commit(
        lambda: refresh_for_event(
            course_id=course_id, user_id=user_id, source="membership", source_id=pk
        )
    )


@receiver(m2m_changed, sender=Question.objectives.through, dispatch_uid="gradebook.tags")
def on_question_tags_changed(sender, instance, action: str, **kwargs) -> None:
    # A question tagged or untagged changes the evidence of everyone who answered it.
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if isinstance(instance, Question):
        mastery.mastery_mark_stale(course_id=instance.course_id)
    elif isinstance(instance, LearningObjective):
        mastery.mastery_mark_stale(course_id=instance.session.course_id)


@receiver(post_save, sender=GradeItem, dispatch_uid="gradebook.lab_item_saved")
def on_lab_item_saved(sender, instance: GradeItem, **kwargs) -> None:
    # A lab's floor, target or points change the fraction its evidence is worth.
    if instance.kind == GradeItem.Kind.LAB:
        mastery.mastery_mark_stale(course_id=instance.course_id)
