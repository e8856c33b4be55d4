"""Copying an offering's quizzes into a new term (`offerings.services.offering_copy` calls
this after `courseware.services.offerings.sessions_copy`).

The whole question bank is copied, not only the questions the quizzes use: random slots draw
from categories (and their subcategories), and instructors reuse the bank for next term's
quizzes. Each question is copied at its current version, as version 1: the old versions
belong to the old offering's attempts. Overrides, attempts, answers and regrades stay behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Count

from core.copying import copied_fields
from courseware.models import Course, LearningObjective, Session
from courseware.permissions import Actor, require_instructor
from courseware.services.offerings import shift
from quizzes.models import Question, QuestionCategory, QuestionVersion, Quiz, QuizSlot


@dataclass(frozen=True)
class QuizzesCopyPlan:
    quizzes: list[Quiz]  # each with `slot_count`
    category_count: int
    question_count: int


def quizzes_copy_plan(*, course: Course) -> QuizzesCopyPlan:
    """What `quizzes_copy` would copy, for the preview."""
    quizzes = list(
        Quiz.objects.filter(session__course=course)
        .select_related("session")
        .annotate(slot_count=Count("slots"))
        .order_by("session__number", "opens_at", "pk")
    )
    return QuizzesCopyPlan(
        quizzes=quizzes,
        category_count=QuestionCategory.objects.filter(course=course).count(),
        question_count=Question.objects.filter(course=course).count(),
    )


def _categories_copy(*, source: Course, target: Course) -> dict[int, QuestionCategory]:
    made: dict[int, QuestionCategory] = {}
    # By path, so a parent ("Week 1") is copied before its children ("Week 1/Attention").
    for old in QuestionCategory.objects.filter(course=source).order_by("path"):
        new = QuestionCategory(
            **copied_fields(old),
            course=target,
            parent=made.get(old.parent_id),
        )
        new.full_clean(validate_constraints=False)
        new.save()
        made[old.pk] = new
    return made


def _version_of(question: Question) -> QuestionVersion | None:
    return question.current_version or question.versions.order_by("-number").first()


def _questions_copy(
    *,
    source: Course,
    target: Course,
    categories: dict[int, QuestionCategory],
    objectives: dict[int, LearningObjective],
) -> dict[int, Question]:
    made: dict[int, Question] = {}
    questions = Question.objects.filter(course=source).select_related("current_version")
    for old in questions.prefetch_related("objectives"):
        new = Question(**copied_fields(old), course=target, category=categories[old.category_id])
        new.full_clean(validate_constraints=False)
        new.save()
        version = _version_of(old)
        if version is not None:
            new.current_version = QuestionVersion.objects.create(
                question=new, number=1, content=version.content
            )
            new.save(update_fields=["current_version", "updated_at"])
        new.objectives.set([objectives[o.pk] for o in old.objectives.all() if o.pk in objectives])
        made[old.pk] = new
    return made


def _quiz_copy(
    *,
    old: Quiz,
    session: Session,
    offset: timedelta,
    questions: dict[int, Question],
    categories: dict[int, QuestionCategory],
) -> Quiz:
    new = Quiz(
        **copied_fields(old),
        session=session,
    )
    new.opens_at = shift(old.opens_at, offset)
    new.closes_at = shift(old.closes_at, offset)
    new.full_clean(validate_constraints=False)
    new.save()
    for slot in old.slots.all():
        copy = QuizSlot(
            **copied_fields(slot),
            quiz=new,
            question=questions.get(slot.question_id),
            category=categories.get(slot.category_id),
        )
        copy.full_clean(validate_constraints=False)
        copy.save()
    return new


@transaction.atomic
def quizzes_copy(
    *,
    actor: Actor,
    source: Course,
    target: Course,
    offset: timedelta,
    sessions: dict[int, Session],
    objectives: dict[int, LearningObjective],
) -> dict[int, Quiz]:
    """Copy the question bank and every quiz (settings, slots, dates moved by `offset`) of
    `source` into `target`, whose sessions `sessions` maps from the old sessions' ids."""
    require_instructor(user=actor, course=source)
    require_instructor(user=actor, course=target)
    categories = _categories_copy(source=source, target=target)
    questions = _questions_copy(
        source=source, target=target, categories=categories, objectives=objectives
    )
    made: dict[int, Quiz] = {}
    for old in Quiz.objects.filter(session__course=source).prefetch_related("slots"):
        made[old.pk] = _quiz_copy(
            old=old,
            session=sessions[old.session_id],
            offset=offset,
            questions=questions,
            categories=categories,
        )
    return made
