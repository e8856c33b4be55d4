"""The stored cells and totals follow every grade event: a quiz attempt and its regrade, a
lab result and its re-grade, homework ticks, overrides with history, unenrolment."""

import pytest
from django.utils import timezone

from core.actors import SYSTEM
from core.exceptions import ApplicationError
from courseware.models import Membership
from courseware.services import homework_completion_set
from gradebook import services
from gradebook.models import CellHistory, GradeCell, GradeItem, StudentTotals
from labs.services.grading import submission_cancel
from tests.factories import SubmissionFactory
from tests.gradebook.conftest import take_quiz

pytestmark = pytest.mark.django_db


def cell(item, user) -> GradeCell:
    return GradeCell.objects.get(item=item, student=user)


def item_of(kind, source_id) -> GradeItem:
    return GradeItem.objects.get(kind=kind, source_id=source_id)


def totals(course, user) -> StudentTotals:
    return StudentTotals.objects.get(course=course, student=user)


def test_it_creates_an_item_per_quiz_lab_and_homework_task(gradebook, course, gb_quiz, gb_lab):
    kinds = sorted(GradeItem.objects.filter(course=course).values_list("kind", flat=True))
    assert kinds == ["homework", "homework", "lab", "quiz"]
    quiz_item = item_of("quiz", gb_quiz.pk)
    assert quiz_item.points_possible == 2.0
    assert quiz_item.due_at == gb_quiz.closes_at
    assert quiz_item.category.name == "Quizzes"
    assert item_of("lab", gb_lab.pk).category.name == "Labs"


def test_a_submitted_quiz_reaches_the_gradebook(gradebook, course, gb_quiz, student, events):
    with events():
        take_quiz(gb_quiz, student, right=1)
    quiz_item = item_of("quiz", gb_quiz.pk)
    assert cell(quiz_item, student).score == 1.0
    assert cell(quiz_item, student).status == "graded"
    # Homework untouched and not yet due: the current total is the quiz alone.
    assert totals(course, student).current_percent == pytest.approx(50.0)


def test_a_quiz_submit_within_the_network_grace_counts_as_on_time(
    gradebook, course, gb_quiz, student, events, settings
):
    from quizzes.services import attempt_start, attempt_submit

    settings.QUIZ_NETWORK_GRACE_S = 15
    closes = gb_quiz.closes_at
    attempt = attempt_start(actor=student, quiz=gb_quiz, now=closes - timezone.timedelta(minutes=5))
    with events():
        attempt_submit(
            actor=student,
            attempt=attempt,
            responses={1: {"choice": 0}, 2: {"value": False}},
            now=closes + timezone.timedelta(seconds=5),  # sent in time, arrived late
        )

    quiz_cell = cell(item_of("quiz", gb_quiz.pk), student)
    assert quiz_cell.score == 2.0  # the answers that arrived within the grace count
    assert quiz_cell.submitted_at == closes  # made at the deadline, so never late


def test_the_quiz_grading_method_decides_the_score(gradebook, course, gb_quiz, student, events):
    with events():
        take_quiz(gb_quiz, student, right=2)
        take_quiz(gb_quiz, student, right=0)
    quiz_item = item_of("quiz", gb_quiz.pk)
    assert cell(quiz_item, student).score == 2.0  # highest
    with events():
        from quizzes.services import quiz_update

        quiz_update(actor=SYSTEM, quiz=gb_quiz, data={"grading_method": "last"})
    assert cell(quiz_item, student).score == 0.0
    with events():
        quiz_update(actor=SYSTEM, quiz=gb_quiz, data={"grading_method": "average"})
    assert cell(quiz_item, student).score == 1.0


def test_a_question_regrade_updates_the_stored_score(
    gradebook, course, gb_quiz, student, instructor, events
):
    from quizzes.services import question_regrade, question_update

    with events():
        take_quiz(gb_quiz, student, right=1)  # answered "Milan" wrongly
    slot = gb_quiz.slots.get(position=1)
    content = dict(slot.question.current_version.content)
    content["answers"] = [dict(a) for a in content["answers"]]
    content["answers"][1]["fraction"] = 1.0  # Milan accepted too
    with events():
        question_update(question=slot.question, content=content)
        question_regrade(actor=instructor, question=slot.question)
    quiz_item = item_of("quiz", gb_quiz.pk)
    assert cell(quiz_item, student).score == 2.0
    assert totals(course, student).current_percent == pytest.approx(100.0)
    change = CellHistory.objects.get(item=quiz_item, student=student, field="score", old_value="1")
    assert (change.new_value, change.source, change.changed_by) == ("2", "quiz", None)


def _scored(lab, student, public, private):
    return SubmissionFactory(
        lab=lab,
        student=student,
        status="scored",
        metrics_public={"macro_f1": public},
        metrics_private={"macro_f1": private},
    )


def test_a_lab_score_is_the_public_part_provisional_until_the_lab_closes(
    gradebook, course, gb_lab, student, events
):
    from labs.services.jobs import announce_result

    lab_item = item_of("lab", gb_lab.pk)
    services.grade_item_update(actor=SYSTEM, item=lab_item, lab_floor=0.4, lab_target=0.8)
    with events():
        announce_result(_scored(gb_lab, student, public=0.7, private=0.5).pk)
    found = cell(lab_item, student)
    assert (found.score, found.provisional, found.status) == (7.5, True, "provisional")
    # The lab closes: the next view refreshes (a deadline passed) and the private part counts.
    services.gradebook_ensure_fresh(
        course=course, now=gb_lab.closes_at + timezone.timedelta(minutes=1)
    )
    found = cell(lab_item, student)
    assert (found.score, found.provisional) == (pytest.approx(2.5), False)


def test_a_lab_re_grade_and_a_cancelled_submission_update_the_score(
    gradebook, course, gb_lab, student, events
):
    from labs.services.jobs import announce_result

    lab_item = item_of("lab", gb_lab.pk)
    submission = _scored(gb_lab, student, public=0.9, private=0.9)
    with events():
        announce_result(submission.pk)
    assert cell(lab_item, student).score == pytest.approx(9.0)
    submission.metrics_public = {"macro_f1": 0.6}
    submission.save()
    with events():
        announce_result(submission.pk)  # what the re-grade job's record does
    assert cell(lab_item, student).score == pytest.approx(6.0)
    queued = SubmissionFactory(lab=gb_lab, student=student, status="queued")
    with events():
        submission_cancel(submission=queued, actor=SYSTEM)
    assert cell(lab_item, student).score == pytest.approx(6.0)


def test_lab_choice_last_takes_the_latest_scored_submission(
    gradebook, course, gb_lab, student, events
):
    services.gradebook_settings_update(actor=SYSTEM, course=course, lab_choice="last")
    from labs.services.jobs import announce_result

    _scored(gb_lab, student, public=0.9, private=0.9)
    with events():
        announce_result(_scored(gb_lab, student, public=0.3, private=0.3).pk)
    assert cell(item_of("lab", gb_lab.pk), student).score == pytest.approx(3.0)


def test_homework_ticks_count_per_task_or_per_session(
    gradebook, course, session12, student, events
):
    task = session12.homework.first()
    with events():
        homework_completion_set(actor=student, task=task, done=True)
    assert cell(item_of("homework", task.pk), student).score == 1.0
    services.gradebook_settings_update(actor=SYSTEM, course=course, homework_mode="session")
    session_item = item_of("homework_session", session12.pk)
    assert session_item.points_possible == 2.0
    assert cell(session_item, student).score == 1.0
    assert not GradeItem.objects.filter(kind="homework").exists()


def test_an_override_replaces_the_score_and_is_kept_in_history(
    gradebook, course, gb_quiz, student, instructor, events
):
    with events():
        take_quiz(gb_quiz, student, right=0)
    quiz_item = item_of("quiz", gb_quiz.pk)
    with pytest.raises(ApplicationError) as error:
        services.cell_override_set(
            actor=instructor, item=quiz_item, student=student, override=2, reason=" "
        )
    assert error.value.code == "reason_required"
    services.cell_override_set(
        actor=instructor, item=quiz_item, student=student, override=2, reason="Marked by hand"
    )
    assert cell(quiz_item, student).points == 2.0
    assert totals(course, student).current_percent == pytest.approx(100.0)
    change = CellHistory.objects.get(item=quiz_item, field="override")
    assert (change.old_value, change.new_value, change.reason, change.changed_by) == (
        "",
        "2",
        "Marked by hand",
        instructor,
    )


def test_an_excused_cell_drops_out_of_the_totals(gradebook, course, gb_quiz, student, instructor):
    quiz_item = item_of("quiz", gb_quiz.pk)
    services.cell_override_set(
        actor=instructor, item=quiz_item, student=student, override=0, reason="No show"
    )
    assert totals(course, student).current_percent == 0.0
    services.cell_excused_set(
        actor=instructor, item=quiz_item, student=student, excused=True, reason="Ill"
    )
    assert cell(quiz_item, student).status == "excused"
    assert totals(course, student).current_percent is None


def test_a_ta_cannot_override(gradebook, gb_quiz, student, ta):
    with pytest.raises(ApplicationError) as error:
        services.cell_override_set(
            actor=ta, item=item_of("quiz", gb_quiz.pk), student=student, override=1, reason="x"
        )
    assert error.value.status_code == 403


def test_the_final_grade_override_is_kept_with_its_reason(gradebook, course, student, instructor):
    services.final_grade_override_set(
        actor=instructor, course=course, student=student, percent=85, reason="Appeal upheld"
    )
    change = CellHistory.objects.get(field="final", student=student)
    assert (change.old_value, change.new_value, change.reason) == ("", "85", "Appeal upheld")


def test_unenrolment_keeps_the_cells_and_re_enrolment_refreshes(
    gradebook, course, gb_quiz, student, events
):
    membership = Membership.objects.get(course=course, user=student)
    with events():
        membership.is_active = False
        membership.save()
    with events():
        take_quiz_as_system = None  # an unenrolled student cannot attempt; the row stays
        del take_quiz_as_system
    assert GradeCell.objects.filter(student=student).exists()
    with events():
        membership.is_active = True
        membership.save()
    assert totals(course, student).computed_at is not None


def test_manual_items_take_scores_and_csv_imports(gradebook, course, student, instructor):
    item = services.manual_item_create(
        actor=instructor, course=course, title="Participation", points_possible=5
    )
    services.manual_score_set(actor=instructor, item=item, student=student, score=4)
    assert cell(item, student).points == 4.0
    source = f"student,score\n{student.username},EX\n"
    report = services.manual_scores_import(actor=instructor, item=item, source=source)
    assert report.updated == 1
    assert cell(item, student).status == "excused"
    with pytest.raises(ApplicationError) as error:
        services.manual_scores_import(
            actor=instructor, item=item, source="student,score\nnobody,3\n"
        )
    assert "line 2: no student 'nobody'" in error.value.message


def test_a_late_quiz_extension_moves_the_due_date(gradebook, course, gb_quiz, student, events):
    from quizzes.services import quiz_override_set

    later = gb_quiz.closes_at + timezone.timedelta(days=3)
    with events():
        quiz_override_set(actor=SYSTEM, quiz=gb_quiz, student=student, closes_at=later)
    assert cell(item_of("quiz", gb_quiz.pk), student).due_at == later


def test_an_archived_course_refuses_every_gradebook_change(course, gradebook, instructor):
    from core.exceptions import ApplicationError
    from courseware.models import Course
    from gradebook.models import GradeCategory, GradeItem

    category = GradeCategory.objects.filter(course=course).first()
    item = GradeItem.objects.filter(course=course).first()
    Course.objects.filter(pk=course.pk).update(state=Course.State.ARCHIVED)
    course.refresh_from_db()
    changes = [
        lambda: services.manual_item_create(
            actor=instructor, course=course, title="Exam", points_possible=10
        ),
        lambda: services.grade_item_update(actor=instructor, item=item, points_possible=5),
        lambda: services.gradebook_settings_update(actor=instructor, course=course, weighted=True),
        lambda: services.grade_category_save(actor=instructor, course=course, name="Exams"),
        lambda: services.grade_category_delete(actor=instructor, category=category),
    ]
    before = (GradeItem.objects.count(), GradeCategory.objects.count())

    for change in changes:
        with pytest.raises(ApplicationError) as refused:
            change()
        assert refused.value.code == "course_archived"

    assert (GradeItem.objects.count(), GradeCategory.objects.count()) == before
