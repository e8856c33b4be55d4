"""Question bank: import, versions that attempts keep, and regrading after a fix."""

from datetime import timedelta

import pytest
from django.db.models import RestrictedError

from core.actors import SYSTEM
from core.exceptions import ApplicationError, PermissionDeniedError
from quizzes import selectors, services
from quizzes.models import Question, QuestionCategory, QuestionVersion, RegradeRecord
from quizzes.parsing import QuestionFileError
from tests.quizzes.conftest import NOW, essay, multiple_choice, single_choice, true_false

GIFT = """
// [id:tf-1] [tag:LO1]
::Attention:: Self-attention compares words of the same sentence.{T}

$CATEGORY: $course$/top/Session 12/Tools

// [id:sa-1] [tag:LO2] [tag:tools]
::Pipeline:: Which function loads a ready-made model for a task?{=pipeline}

::Essay:: Why attention?{}
"""


def test_import_into_session_creates_categories_and_links_objectives(course, session12):
    result = services.question_bank_import(
        actor=SYSTEM, course=course, source=GIFT, session=session12
    )

    assert result.as_dict() == {
        "imported": 3,
        "by_type": {"true_false": 1, "short_answer": 1, "essay": 1},
    }
    assert (result.created, result.updated) == (3, 0)
    paths = list(QuestionCategory.objects.filter(course=course).values_list("path", flat=True))
    assert paths == ["Session 12", "Session 12/Tools"]
    attention = Question.objects.get(name="Attention")
    assert attention.category.path == "Session 12"
    assert [o.position for o in attention.objectives.all()] == [1]
    pipeline = Question.objects.get(name="Pipeline")
    assert pipeline.category.parent.path == "Session 12"
    assert [o.position for o in pipeline.objectives.all()] == [2]
    assert pipeline.current_version.content["tags"] == ["LO2", "tools"]


def test_import_with_an_unknown_objective_imports_nothing(course, session12):
    source = "// [tag:LO9]\nQ {T}\n\nFine {F}"

    with pytest.raises(QuestionFileError) as excinfo:
        services.question_bank_import(actor=SYSTEM, course=course, source=source, session=session12)

    assert "Line 2: Tag LO9: session 12 has no objective 9 (it has 2)." in excinfo.value.message
    assert Question.objects.count() == 0
    assert QuestionCategory.objects.count() == 0


def test_reimport_by_id_updates_instead_of_duplicating(course, session12):
    services.question_bank_import(actor=SYSTEM, course=course, source=GIFT, session=session12)

    again = services.question_bank_import(
        actor=SYSTEM,
        course=course,
        source=GIFT.replace("{=pipeline}", "{=pipeline =pipeline()}"),
        session=session12,
    )

    assert (again.created, again.updated) == (1, 2)  # the essay has no [id:...]
    assert Question.objects.filter(idnumber="sa-1").count() == 1
    pipeline = Question.objects.get(idnumber="sa-1")
    assert [a["text"] for a in pipeline.current_version.content["answers"]] == [
        "pipeline",
        "pipeline()",
    ]
    assert pipeline.versions.count() == 1  # no attempt used it: edited in place


def test_duplicate_ids_in_one_file_are_an_error(course):
    with pytest.raises(QuestionFileError, match=r"Line 5: \[id:x\] is used again"):
        services.question_bank_import(
            actor=SYSTEM, course=course, source="// [id:x]\nA {T}\n\n// [id:x]\nB {T}"
        )


def test_import_preview_parses_without_writing(course):
    preview = services.quiz_import_preview(GIFT, "gift")
    broken = services.quiz_import_preview("Q {#abc}", "gift")

    assert preview.ok
    data = preview.as_dict()
    assert data["count"] == 3
    assert data["by_type"] == {"true_false": 1, "short_answer": 1, "essay": 1}
    assert data["questions"][1]["category"] == "Session 12/Tools"
    assert data["questions"][1]["answers"][0]["text"] == "pipeline"
    assert not broken.ok
    assert broken.as_dict()["errors"] == [
        {"line": 1, "message": "'abc' is not a number (write e.g. 3.14)."}
    ]
    assert Question.objects.count() == 0


def test_aiken_import(course):
    result = services.question_bank_import(
        actor=SYSTEM, course=course, source="Q?\nA. one\nB. two\nANSWER: B\n", format="aiken"
    )

    assert result.by_type == {"single_choice": 1}
    assert result.questions[0].category.path == "Default"


def test_editing_an_unused_question_edits_its_version(course):
    question = services.question_create(course=course, content=true_false())

    version = services.question_update(question=question, content=true_false(correct=True))

    assert version.number == 1
    assert QuestionVersion.objects.filter(question=question).count() == 1
    assert version.content["correct"] is True


def test_editing_an_attempted_question_makes_a_new_version_attempts_keep_theirs(make_quiz, student):
    quiz = make_quiz(true_false())
    question = quiz.slots.get().question
    attempt = services.attempt_start(quiz=quiz, actor=student, now=NOW)

    version = services.question_update(question=question, content=true_false(text="Changed."))

    question.refresh_from_db()
    assert (version.number, question.current_version_id) == (2, version.pk)
    assert attempt.questions.get().version.number == 1
    shown = selectors.attempt_display(attempt=attempt, now=NOW)["questions"][0]
    assert shown["text"] == "The sky is green."


def test_a_question_keeps_its_type(course):
    question = services.question_create(course=course, content=true_false())

    with pytest.raises(ApplicationError) as excinfo:
        services.question_update(question=question, content=single_choice())
    assert excinfo.value.code == "question_type_change"


def test_invalid_content_is_refused_with_a_reason(course):
    with pytest.raises(ApplicationError, match="needs an answer worth 100%"):
        services.question_create(
            course=course,
            content=single_choice(answers=[{"text": "a", "fraction": 0.5}, {"text": "b"}]),
        )


# --- Regrading --------------------------------------------------------------------------------


def finished_attempt(quiz, student, responses, minutes=0):
    attempt = services.attempt_start(quiz=quiz, actor=student, now=NOW + timedelta(minutes=minutes))
    return services.attempt_submit(
        attempt=attempt,
        actor=student,
        responses=responses,
        now=NOW + timedelta(minutes=minutes + 1),
    )


def test_regrade_after_fixing_the_key_records_old_and_new_marks(make_quiz, student, instructor):
    # The key wrongly says True; the student answered False (really right).
    quiz = make_quiz(true_false(correct=True), single_choice(), marks=[2, 1])
    attempt = finished_attempt(quiz, student, {1: {"value": False}, 2: {"choice": 0}})
    assert attempt.score == 1.0
    question = quiz.slots.get(position=1).question

    services.question_update(question=question, content=true_false(correct=False))
    summary = services.question_regrade(question=question, actor=instructor)

    attempt.refresh_from_db()
    assert attempt.score == 3.0
    [record] = summary.records
    assert (record.old_mark, record.new_mark, record.changed) == (0.0, 2.0, True)
    assert (record.old_version.number, record.new_version.number) == (1, 2)
    assert record.regraded_by == instructor
    assert attempt.questions.get(position=1).version.number == 2
    assert list(selectors.regrade_record_list(question=question)) == [record]


def test_regrade_switches_attempts_in_progress_without_records(make_quiz, student, instructor):
    quiz = make_quiz(true_false(correct=True))
    question = quiz.slots.get().question
    attempt = services.attempt_start(quiz=quiz, actor=student, now=NOW)
    services.attempt_answer_save(
        attempt=attempt, actor=student, slot=1, response={"value": False}, now=NOW
    )

    services.question_update(question=question, content=true_false(correct=False))
    summary = services.question_regrade(question=question, actor=instructor)
    finished = services.attempt_submit(
        attempt=attempt, actor=student, now=NOW + timedelta(minutes=1)
    )

    assert (summary.records, summary.in_progress_updated) == ([], 1)
    assert finished.score == 1.0


def test_regrade_refuses_a_fix_that_changes_the_answers(make_quiz, student, instructor):
    quiz = make_quiz(multiple_choice())
    finished_attempt(quiz, student, {1: {"choices": [0]}})
    question = quiz.slots.get().question
    fewer = multiple_choice(
        answers=[{"text": "2", "fraction": 0.5}, {"text": "3", "fraction": 0.5}]
    )
    services.question_update(question=question, content=fewer)

    with pytest.raises(ApplicationError) as excinfo:
        services.question_regrade(question=question, actor=instructor)
    assert excinfo.value.code == "regrade_incompatible"
    assert RegradeRecord.objects.count() == 0


def test_only_instructors_regrade(make_quiz, student):
    quiz = make_quiz(true_false())

    with pytest.raises(PermissionDeniedError):
        services.question_regrade(question=quiz.slots.get().question, actor=student)


def test_bank_export_is_gift_that_imports_again(course, session12, other_course):
    services.question_bank_import(actor=SYSTEM, course=course, source=GIFT, session=session12)

    exported = selectors.question_bank_export(course=course)
    copy = services.question_bank_import(actor=SYSTEM, course=other_course, source=exported)

    assert copy.by_type == {"true_false": 1, "short_answer": 1, "essay": 1}
    originals = {q.name: q.current_version.content for q in Question.objects.filter(course=course)}
    for question in copy.questions:
        assert question.current_version.content == originals[question.name]
        assert (
            question.category.path
            == Question.objects.get(course=course, name=question.name).category.path
        )


def test_a_question_in_use_cannot_be_deleted_alone(make_quiz, student):
    quiz = make_quiz(true_false())
    services.attempt_start(quiz=quiz, actor=student, now=NOW)

    with pytest.raises(RestrictedError):
        quiz.slots.get().question.delete()


def test_deleting_a_course_removes_its_bank_quizzes_and_attempts(make_quiz, student, course):
    quiz = make_quiz(true_false(), essay())
    finished_attempt(quiz, student, {1: {"value": False}})

    course.delete()

    assert Question.objects.count() == QuestionVersion.objects.count() == 0
    assert QuestionCategory.objects.count() == 0
