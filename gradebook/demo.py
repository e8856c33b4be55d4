"""The demo course's gradebook: weighted categories with a late policy, the quiz, lab and
homework items released, a lab mapping, a participation item with scores and one override
with its reason. Idempotent: every call goes through services that record a change only when
a value changes, so a second `load_demo` adds no history."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from core.actors import SYSTEM
from courseware.models import Course
from gradebook import services
from gradebook.models import GradeCategory, GradeItem

PARTICIPATION = "Participation"
# name: (weight, late % per day, late minimum %)
CATEGORIES = {
    "Homework": (20.0, 10.0, 50.0),
    "Quizzes": (30.0, None, 0.0),
    "Labs": (40.0, 5.0, 0.0),
    services.MANUAL_CATEGORY: (10.0, None, 0.0),
}
PARTICIPATION_SCORES = {"alex.chen": 9.0, "sam.patel": 7.0, "riley.nguyen": 8.5}
OVERRIDE_STUDENT = "riley.nguyen"
OVERRIDE_REASON = "Sat the quiz on paper (accommodation); marked by hand."


def demo_gradebook_load(*, course: Course) -> None:
    services.gradebook_settings_update(actor=SYSTEM, course=course, weighted=True)
    services.gradebook_items_sync(course=course)
    for category in GradeCategory.objects.filter(course=course, name__in=CATEGORIES):
        weight, late, minimum = CATEGORIES[category.name]
        services.grade_category_save(
            actor=SYSTEM,
            course=course,
            category=category,
            weight=weight,
            late_deduct_percent=late,
            late_minimum_percent=minimum,
        )
    for item in GradeItem.objects.filter(course=course).exclude(kind=GradeItem.Kind.MANUAL):
        fields = {"released": True}
        if item.kind == GradeItem.Kind.LAB:
            fields |= {"lab_floor": 0.40, "lab_target": 0.80}  # macro-F1 0.40 -> 0, 0.80 -> full
        services.grade_item_update(actor=SYSTEM, item=item, **fields)
    participation = GradeItem.objects.filter(
        course=course, kind=GradeItem.Kind.MANUAL, title=PARTICIPATION
    ).first() or services.manual_item_create(
        actor=SYSTEM, course=course, title=PARTICIPATION, points_possible=10
    )
    if not participation.released:
        services.grade_item_update(actor=SYSTEM, item=participation, released=True)
    users = {
        u.username: u
        for u in get_user_model().objects.filter(
            username__in=[*PARTICIPATION_SCORES, OVERRIDE_STUDENT]
        )
    }
    for username, score in PARTICIPATION_SCORES.items():
        services.manual_score_set(
            actor=SYSTEM,
            item=participation,
            student=users[username],
            score=score,
            reason="Weekly participation",
        )
    quiz = GradeItem.objects.filter(course=course, kind=GradeItem.Kind.QUIZ).first()
    if quiz is not None:
        services.cell_override_set(
            actor=SYSTEM,
            item=quiz,
            student=users[OVERRIDE_STUDENT],
            override=round(quiz.points_possible * 0.8, 2),
            reason=OVERRIDE_REASON,
        )
