"""The one permission rule for quizzes: every service that acts for a person takes `actor`
and checks it, so a view or an API view that forgets a check cannot open a hole. Students
are forbidden, non-members do not find the course, instructors and the SYSTEM actor (the
command line, the demo loader) are let through."""

from __future__ import annotations

import pytest

from core.actors import SYSTEM
from core.exceptions import NotFoundError, PermissionDeniedError
from quizzes import selectors, services
from quizzes.models import Quiz
from tests.quizzes.conftest import NOW, essay, single_choice, true_false

GIFT = "::Sky:: The sky is green. {F}\n"


def _instructor_services(quiz: Quiz, student):
    """Each instructor-only quiz service, called for `actor` on the sample quiz."""
    course = quiz.session.course
    question = services.question_create(course=course, content=true_false(name="Spare"))
    category = question.category
    slot = quiz.slots.first()
    return {
        "quiz_create": lambda actor: services.quiz_create(
            actor=actor, session=quiz.session, title="Another"
        ),
        "quiz_update": lambda actor: services.quiz_update(
            actor=actor, quiz=quiz, data={"title": "Renamed"}
        ),
        "question_bank_import": lambda actor: services.question_bank_import(
            actor=actor, course=course, source=GIFT
        ),
        "quiz_question_add": lambda actor: services.quiz_question_add(
            actor=actor, quiz=quiz, question=question
        ),
        "quiz_random_questions_add": lambda actor: services.quiz_random_questions_add(
            actor=actor, quiz=quiz, category=category, count=1
        ),
        "quiz_slot_remove": lambda actor: services.quiz_slot_remove(actor=actor, slot=slot),
        "quiz_override_set": lambda actor: services.quiz_override_set(
            actor=actor, quiz=quiz, student=student, extra_attempts=1
        ),
        "quiz_override_delete": lambda actor: services.quiz_override_delete(
            actor=actor, quiz=quiz, student=student
        ),
    }


NAMES = [
    "quiz_create",
    "quiz_update",
    "question_bank_import",
    "quiz_question_add",
    "quiz_random_questions_add",
    "quiz_slot_remove",
    "quiz_override_set",
    "quiz_override_delete",
]


@pytest.fixture
def sample(make_quiz):
    return make_quiz(single_choice(), true_false())


@pytest.mark.parametrize("name", NAMES)
def test_it_forbids_students(name, sample, student):
    with pytest.raises(PermissionDeniedError):
        _instructor_services(sample, student)[name](student)


@pytest.mark.parametrize("name", NAMES)
def test_it_hides_the_course_from_non_members(name, sample, student, other_student):
    with pytest.raises(NotFoundError):
        _instructor_services(sample, student)[name](other_student)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("who", ["instructor", "system"])
def test_it_lets_instructors_and_the_system_actor_through(name, who, sample, student, instructor):
    actor = instructor if who == "instructor" else SYSTEM
    _instructor_services(sample, student)[name](actor)


def test_a_refused_service_changes_nothing(sample, student):
    with pytest.raises(PermissionDeniedError):
        services.quiz_update(actor=student, quiz=sample, data={"title": "Renamed"})

    assert Quiz.objects.get(pk=sample.pk).title == sample.title


def test_only_students_start_attempts(sample, instructor):
    with pytest.raises(PermissionDeniedError):
        services.attempt_start(actor=instructor, quiz=sample, now=NOW)
    with pytest.raises(PermissionDeniedError):
        services.attempt_start(actor=SYSTEM, quiz=sample, now=NOW)


def test_instructors_read_an_attempt_but_cannot_change_it(sample, student, instructor):
    attempt = services.attempt_start(actor=student, quiz=sample, now=NOW)

    assert selectors.attempt_get_for_change(user=student, attempt_id=attempt.pk) == attempt
    with pytest.raises(PermissionDeniedError):
        selectors.attempt_get_for_change(user=instructor, attempt_id=attempt.pk)
    assert selectors.attempt_get_for_grading(user=instructor, attempt_id=attempt.pk) == attempt
    with pytest.raises(PermissionDeniedError):
        selectors.attempt_get_for_grading(user=student, attempt_id=attempt.pk)


def test_the_instructors_pages_selectors_forbid_students(sample, student, instructor):
    course = sample.session.course

    assert selectors.quiz_get_for_instructor(user=instructor, quiz_id=sample.pk) == sample
    assert selectors.course_get_for_instructor(user=instructor, code=course.code) == course
    with pytest.raises(PermissionDeniedError):
        selectors.quiz_get_for_instructor(user=student, quiz_id=sample.pk)
    with pytest.raises(PermissionDeniedError):
        selectors.course_get_for_instructor(user=student, code=course.code)


# --- Teaching assistants: they see and mark the work, they change no quiz ---------------------


@pytest.mark.parametrize("name", NAMES)
def test_it_forbids_teaching_assistants_every_quiz_change(
    name, sample, student, teaching_assistant
):
    with pytest.raises(PermissionDeniedError):
        _instructor_services(sample, student)[name](teaching_assistant)


def test_a_teaching_assistant_neither_regrades_a_question_nor_takes_the_quiz(
    sample, teaching_assistant
):
    with pytest.raises(PermissionDeniedError):
        services.question_regrade(actor=teaching_assistant, question=sample.slots.first().question)
    with pytest.raises(PermissionDeniedError):
        services.attempt_start(actor=teaching_assistant, quiz=sample, now=NOW)


def test_a_teaching_assistant_reads_and_marks_a_students_essay(
    make_quiz, student, teaching_assistant
):
    quiz = make_quiz(essay(), marks=[2])
    attempt = services.attempt_start(actor=student, quiz=quiz, now=NOW)
    services.attempt_submit(
        actor=student, attempt=attempt, responses={1: {"text": "Tokens."}}, now=NOW
    )

    found = selectors.attempt_get_for_grading(user=teaching_assistant, attempt_id=attempt.pk)
    marked = services.essay_mark(
        actor=teaching_assistant, attempt_question=found.questions.get(position=1), mark=1.5
    )

    assert marked.mark == 1.5 and marked.graded_by == teaching_assistant
    with pytest.raises(PermissionDeniedError):
        selectors.attempt_get_for_change(user=teaching_assistant, attempt_id=attempt.pk)


def test_the_staff_pages_selector_admits_teaching_assistants_not_students(
    sample, student, teaching_assistant
):
    quiz, role = selectors.quiz_get_for_staff(user=teaching_assistant, quiz_id=sample.pk)
    assert quiz == sample and role == "ta"
    with pytest.raises(PermissionDeniedError):
        selectors.quiz_get_for_staff(user=student, quiz_id=sample.pk)
    with pytest.raises(PermissionDeniedError):
        selectors.quiz_get_for_instructor(user=teaching_assistant, quiz_id=sample.pk)


def test_a_teaching_assistant_sees_hidden_quizzes(sample, teaching_assistant):
    sample.visible = False
    sample.save(update_fields=["visible"])

    accesses = selectors.quiz_list(user=teaching_assistant, course=sample.session.course)

    assert [a.quiz for a in accesses] == [sample]
