"""The demo course's gradebook: weighted categories with a late policy, the quiz, lab and
homework items released, a lab mapping, a participation item with scores and one override
with its reason; the Session 12 lab and homework tasks tagged with the session's objectives and
the mastery computed. Idempotent: every call goes through services that record a change only
when a value changes, so a second `load_demo` adds no history."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from core.actors import SYSTEM
from courseware.models import Course, Session
from gradebook import mastery, services
from gradebook.models import GradeCategory, GradeItem, ObjectiveLink
from labs.models import Lab

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
# Session 12's homework tasks and lab by position, tagged with its objectives by position
# (LO1 the basic concepts, LO2 architecture and applications, LO3 Hugging Face's tools,
# LO4 getting started with transformers).
TASK_OBJECTIVES = {1: {1, 2}, 2: {3, 4}, 3: {2}, 4: {3}}
LAB_OBJECTIVES = {3, 4}


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
        # Only on a change: saving a lab item marks the course's mastery stale, and a re-run
        # must leave the stored mastery as it was.
        if any(getattr(item, name) != value for name, value in fields.items()):
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


def demo_mastery_load(*, session: Session) -> None:
    """Tag the session's homework tasks and lab with its objectives and compute every
    student's mastery. The tags are set only when they differ, and the mastery is then
    recomputed only when stale, so a re-run leaves the stored mastery as it was."""
    objectives = list(session.objectives.order_by("position").values_list("pk", flat=True))
    tasks = list(session.homework.order_by("position").values_list("pk", flat=True))
    labs = list(Lab.objects.filter(session=session).order_by("pk").values_list("pk", flat=True))

    def pick(positions: set[int]) -> set[int]:
        return {objectives[p - 1] for p in positions if p <= len(objectives)}

    wanted_tasks = {
        tasks[p - 1]: pick(los) for p, los in TASK_OBJECTIVES.items() if p <= len(tasks)
    }
    wanted_labs = {lab_id: pick(LAB_OBJECTIVES) for lab_id in labs[:1]}
    have = set(
        ObjectiveLink.objects.filter(objective__session=session).values_list(
            "objective_id", "lab_id", "homework_task_id"
        )
    )
    want = {(o, lab, None) for lab, los in wanted_labs.items() for o in los} | {
        (o, None, task) for task, los in wanted_tasks.items() for o in los
    }
    if have != want:
        mastery.session_objective_links_set(
            actor=SYSTEM, session=session, labs=wanted_labs, tasks=wanted_tasks
        )
    mastery.mastery_ensure_fresh(course=session.course)
