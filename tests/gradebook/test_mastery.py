"""Mastery through the stored pipeline: evidence from tagged quiz questions, labs and homework
reaches ObjectiveEvidence and ObjectiveMastery through the grade events, and stays right after
a regrade, a lab re-grade, an untick and a change of method (the engine's formulas have their
own tests in tests/gradebook/engine/)."""

import pytest
from django.utils import timezone

from core.actors import SYSTEM
from core.exceptions import ApplicationError, NotFoundError, PermissionDeniedError
from courseware.services import homework_completion_set
from gradebook import mastery, services
from gradebook.models import GradeItem, ObjectiveEvidence, ObjectiveLink, ObjectiveMastery
from tests.factories import SubmissionFactory
from tests.gradebook.conftest import take_quiz

pytestmark = pytest.mark.django_db


@pytest.fixture
def objective(session12):
    return session12.objectives.get(position=1)


@pytest.fixture
def started(gradebook, course):
    """The course's mastery, viewed once: grade events now refresh it."""
    return mastery.mastery_ensure_fresh(course=course)


def tag_quiz(quiz, objective):
    for slot in quiz.slots.all():
        slot.question.objectives.add(objective)


def evidence(student, objective):
    return list(
        ObjectiveEvidence.objects.filter(student=student, objective=objective).order_by(
            "observed_at"
        )
    )


def stored(student, objective):
    return ObjectiveMastery.objects.filter(student=student, objective=objective).first()


def test_each_quiz_attempt_gives_the_fraction_scored_on_the_tagged_questions(
    course, gb_quiz, objective, student, started, events
):
    tag_quiz(gb_quiz, objective)
    mastery.mastery_ensure_fresh(course=course)  # the tags changed: recomputed once
    with events():
        first = take_quiz(gb_quiz, student, right=1)
    with events():
        second = take_quiz(gb_quiz, student, right=2)
    found = evidence(student, objective)
    assert [(e.kind, e.source_id, e.quiz_id, e.score) for e in found] == [
        ("quiz", first.pk, gb_quiz.pk, 0.5),
        ("quiz", second.pk, gb_quiz.pk, 1.0),
    ]
    assert found[0].label == "Attention quiz, attempt 1"
    # Decaying average (the default), w = 0.65: 0.65 * 1 + 0.35 * 0.5 = 0.825 → 0.83.
    row = stored(student, objective)
    assert (row.score, row.level, row.evidence_count) == (0.83, "mastered", 2)


def test_an_untagged_question_gives_no_evidence(
    course, gb_quiz, objective, student, started, events
):
    gb_quiz.slots.get(position=1).question.objectives.add(objective)
    mastery.mastery_ensure_fresh(course=course)
    with events():
        take_quiz(gb_quiz, student, right=1)
    [only] = evidence(student, objective)
    slot_one = gb_quiz.slots.get(position=1)
    attempt_question = only_attempt_question(student, slot_one.position)
    assert only.score == attempt_question.mark / attempt_question.max_mark


def only_attempt_question(student, slot_position):
    from quizzes.models import AttemptQuestion

    return AttemptQuestion.objects.get(attempt__user=student, slot_position=slot_position)


def test_a_question_regrade_updates_the_quiz_evidence(
    course, gb_quiz, objective, student, instructor, started, events
):
    from quizzes.services import question_regrade, question_update

    tag_quiz(gb_quiz, objective)
    mastery.mastery_ensure_fresh(course=course)
    with events():
        take_quiz(gb_quiz, student, right=1)  # answered "Milan" wrongly
    assert evidence(student, objective)[0].score == 0.5
    slot = gb_quiz.slots.get(position=1)
    content = dict(slot.question.current_version.content)
    content["answers"] = [dict(a) for a in content["answers"]]
    content["answers"][1]["fraction"] = 1.0  # Milan accepted too
    with events():
        question_update(question=slot.question, content=content)
        question_regrade(actor=instructor, question=slot.question)
    assert evidence(student, objective)[0].score == 1.0
    assert stored(student, objective).level == "mastered"


def _scored(lab, student, public, private):
    return SubmissionFactory(
        lab=lab,
        student=student,
        status="scored",
        metrics_public={"macro_f1": public},
        metrics_private={"macro_f1": private},
    )


def test_a_tagged_lab_gives_its_score_as_a_fraction_provisional_until_it_closes(
    course, gb_lab, session12, objective, student, instructor, started, events
):
    from labs.services.jobs import announce_result

    lab_item = GradeItem.objects.get(kind="lab", source_id=gb_lab.pk)
    services.grade_item_update(actor=SYSTEM, item=lab_item, lab_floor=0.4, lab_target=0.8)
    mastery.session_objective_links_set(
        actor=instructor, session=session12, labs={gb_lab.pk: {objective.pk}}, tasks={}
    )
    submission = _scored(gb_lab, student, public=0.7, private=0.5)
    with events():
        announce_result(submission.pk)
    [found] = evidence(student, objective)
    assert (found.kind, found.source_id, found.score, found.provisional) == (
        "lab",
        gb_lab.pk,
        0.75,
        True,
    )
    # A re-grade: the stored evidence follows the event.
    submission.metrics_public = {"macro_f1": 0.8}
    submission.save()
    with events():
        announce_result(submission.pk)
    assert evidence(student, objective)[0].score == 1.0
    # The lab closes: the next view recomputes once and the private part counts.
    mastery.mastery_ensure_fresh(
        course=course, now=gb_lab.closes_at + timezone.timedelta(minutes=1)
    )
    [found] = evidence(student, objective)
    assert (found.score, found.provisional) == (pytest.approx(0.25), False)
    assert stored(student, objective).level == "not_yet"


def test_a_tagged_homework_task_counts_one_once_ticked(
    course, session12, objective, student, instructor, started, events
):
    task = session12.homework.get(position=1)
    mastery.session_objective_links_set(
        actor=instructor, session=session12, labs={}, tasks={task.pk: {objective.pk}}
    )
    assert evidence(student, objective) == []
    with events():
        homework_completion_set(actor=student, task=task, done=True)
    [found] = evidence(student, objective)
    assert (found.kind, found.source_id, found.score, found.label) == (
        "homework",
        task.pk,
        1.0,
        "S12 homework 1",
    )
    with events():
        homework_completion_set(actor=student, task=task, done=False)
    assert evidence(student, objective) == []
    assert stored(student, objective) is None


@pytest.mark.parametrize(
    ("method", "score", "level"),
    [
        # Evidence 0, 0.5, 1 (oldest first), w = 0.65, threshold 0.7, near margin 0.1.
        ("weighted_average", 0.74, "mastered"),  # 1 * 0.65 + 0.25 * 0.35 = 0.7375
        ("decaying_average", 0.76, "mastered"),  # 0 → 0.325 → 0.76375
        ("n_times", 0.5, "not_yet"),  # n = 2: one score at mastery; best below is 0.5
        ("highest", 1.0, "mastered"),
        ("latest", 1.0, "mastered"),
        ("average", 0.5, "not_yet"),
    ],
)
def test_each_method_turns_the_stored_evidence_into_mastery(
    course, gb_quiz, objective, student, started, events, method, score, level
):
    tag_quiz(gb_quiz, objective)
    mastery.mastery_ensure_fresh(course=course)
    for right in (0, 1, 2):
        with events():
            take_quiz(gb_quiz, student, right=right)
    services.gradebook_settings_update(
        actor=SYSTEM, course=course, mastery_method=method, mastery_n=2
    )
    mastery.mastery_ensure_fresh(course=course)  # the settings changed: recomputed once
    row = stored(student, objective)
    assert (row.score, row.level, row.evidence_count) == (score, level, 3)


@pytest.mark.parametrize(
    ("threshold", "margin", "level"),
    [(0.7, 0.25, "near"), (0.7, 0.1, "not_yet"), (0.5, 0.1, "mastered"), (0.55, 0.05, "near")],
)
def test_levels_follow_the_threshold_and_the_near_margin(
    course, gb_quiz, objective, student, started, events, threshold, margin, level
):
    tag_quiz(gb_quiz, objective)
    mastery.mastery_ensure_fresh(course=course)
    with events():
        take_quiz(gb_quiz, student, right=1)  # 0.5
    services.gradebook_settings_update(
        actor=SYSTEM,
        course=course,
        mastery_method="latest",
        mastery_threshold=threshold,
        mastery_near_margin=margin,
    )
    mastery.mastery_ensure_fresh(course=course)
    assert stored(student, objective).level == level


def test_n_times_without_enough_scores_at_mastery_is_not_yet_rather_than_no_evidence(
    course, gb_quiz, objective, student, started, events
):
    tag_quiz(gb_quiz, objective)
    services.gradebook_settings_update(
        actor=SYSTEM, course=course, mastery_method="n_times", mastery_n=2
    )
    mastery.mastery_ensure_fresh(course=course)
    with events():
        take_quiz(gb_quiz, student, right=2)
    row = stored(student, objective)
    assert (row.score, row.level) == (None, "not_yet")


def test_tagging_takes_only_the_sessions_own_labs_tasks_and_objectives(
    course, session12, gb_lab, student, instructor, teaching_assistant
):
    from tests.factories import LearningObjectiveFactory, SessionFactory

    other = SessionFactory(course=course, number=13)
    foreign = LearningObjectiveFactory(session=other, position=1)
    with pytest.raises(ApplicationError) as error:
        mastery.session_objective_links_set(
            actor=instructor, session=session12, labs={gb_lab.pk: {foreign.pk}}, tasks={}
        )
    assert error.value.code == "unknown_objective"
    with pytest.raises(NotFoundError):
        mastery.session_objective_links_set(
            actor=instructor, session=other, labs={gb_lab.pk: {foreign.pk}}, tasks={}
        )
    for who in (teaching_assistant, student):
        with pytest.raises(PermissionDeniedError):
            mastery.session_objective_links_set(
                actor=who, session=session12, labs={gb_lab.pk: set()}, tasks={}
            )
    assert not ObjectiveLink.objects.exists()


def test_retagging_replaces_the_tags(course, session12, gb_lab, instructor):
    first, second = session12.objectives.all()
    mastery.session_objective_links_set(
        actor=instructor, session=session12, labs={gb_lab.pk: {first.pk, second.pk}}, tasks={}
    )
    mastery.session_objective_links_set(
        actor=instructor, session=session12, labs={gb_lab.pk: {second.pk}}, tasks={}
    )
    assert list(ObjectiveLink.objects.values_list("lab_id", "objective_id")) == [
        (gb_lab.pk, second.pk)
    ]
