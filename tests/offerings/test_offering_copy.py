"""Copying an offering: every content type comes along with its dates moved by the term
offset, no student data does, and the copy is one transaction."""

from __future__ import annotations

from datetime import date

import pytest

from core.exceptions import ApplicationError, NotFoundError, PermissionDeniedError
from courseware.models import Course, HomeworkCompletion, Membership, Session
from labs.models import HeldOutDataset, Lab, Submission
from labs.services import offerings as labs_offerings
from offerings import selectors, services
from quizzes.models import Attempt, Question, QuestionCategory, Quiz, QuizOverride
from tests.factories import MembershipFactory
from tests.offerings.conftest import NEW_START, OFFSET, make_course_creator

pytestmark = pytest.mark.django_db


def _copy(actor, source, **extra):
    return services.offering_copy(
        actor=actor,
        source=source,
        term="2027 S2",
        starts_on=NEW_START,
        ends_on=date(2027, 11, 30),
        **extra,
    )


def test_it_copies_sessions_objectives_and_homework_with_dates_shifted(copier, source):
    new = _copy(copier, source)

    assert (new.code, new.term, new.slug) == ("ICTSS00120", "2027 S2", "ICTSS00120-2027-S2")
    assert new.state == Course.State.DRAFT
    assert new.title == source.title
    old_session, new_session = source.sessions.get(), new.sessions.get()
    assert new_session.date == old_session.date + OFFSET
    assert new_session.slides_html == old_session.slides_html
    assert [o.text for o in new_session.objectives.all()] == ["Use pipeline()."]
    old_tasks, new_tasks = list(old_session.homework.all()), list(new_session.homework.all())
    assert [t.text for t in new_tasks] == [t.text for t in old_tasks]
    assert new_tasks[0].due_at == old_tasks[0].due_at + OFFSET
    assert new_tasks[1].due_at is None


def test_it_copies_the_question_bank_and_the_quizzes_with_their_settings(copier, source):
    new = _copy(copier, source)

    assert sorted(QuestionCategory.objects.filter(course=new).values_list("path", flat=True)) == [
        "Week 1",
        "Week 1/Attention",
    ]
    child = QuestionCategory.objects.get(course=new, path="Week 1/Attention")
    assert child.parent.course == new
    questions = Question.objects.filter(course=new)
    assert questions.count() == 2
    fixed = questions.get(qtype="single_choice")
    assert fixed.current_version.content["text"] == "Capital of Italy?"
    assert [o.session.course for o in fixed.objectives.all()] == [new]
    old_quiz, quiz = Quiz.objects.get(session__course=source), Quiz.objects.get(session__course=new)
    assert quiz.opens_at == old_quiz.opens_at + OFFSET
    assert quiz.closes_at == old_quiz.closes_at + OFFSET
    for setting in ("time_limit", "attempts_allowed", "shuffle_questions", "pass_percentage"):
        assert getattr(quiz, setting) == getattr(old_quiz, setting)
    assert quiz.review_options == old_quiz.review_options
    slots = list(quiz.slots.order_by("position"))
    assert (slots[0].question, slots[0].mark) == (fixed, 2)
    assert slots[1].category.course == new and slots[1].include_subcategories


def test_it_copies_labs_with_their_settings_and_held_out_files(copier, source):
    new = _copy(copier, source)

    old_lab, lab = Lab.objects.get(session__course=source), Lab.objects.get(session__course=new)
    assert (lab.opens_at, lab.closes_at) == (old_lab.opens_at + OFFSET, old_lab.closes_at + OFFSET)
    assert (lab.labels, lab.daily_quota, lab.leaderboard_pseudonyms) == (old_lab.labels, 3, True)
    assert lab.salt != old_lab.salt  # a new term's public/private split
    datasets = list(lab.datasets.order_by("version"))
    assert [d.version for d in datasets] == [1, 2]
    old_v2 = old_lab.datasets.get(version=2)
    assert datasets[1].file.name != old_v2.file.name
    old_v2.file.delete()  # the copy is its own file: deleting the source's leaves it whole
    with datasets[1].file.open("rb") as data:
        assert data.read() == b"text,label\nnew,positive\n"


def test_it_copies_no_members_attempts_submissions_ticks_or_overrides(copier, source, student_data):
    new = _copy(copier, source)

    assert list(Membership.objects.filter(course=new).values_list("user", "role")) == [
        (copier.pk, Membership.Role.INSTRUCTOR)
    ]
    assert not HomeworkCompletion.objects.filter(task__session__course=new).exists()
    assert not QuizOverride.objects.filter(quiz__session__course=new).exists()
    assert not Attempt.objects.filter(quiz__session__course=new).exists()
    assert not Submission.objects.filter(lab__session__course=new).exists()


def test_an_offering_without_a_start_date_keeps_its_dates(copier, source):
    Course.objects.filter(pk=source.pk).update(starts_on=None)
    source.refresh_from_db()

    new = _copy(copier, source)

    assert new.sessions.get().date == source.sessions.get().date


def test_it_is_one_transaction_a_failing_lab_writes_nothing(
    copier, source, private_storage, monkeypatch
):
    def fail_after_writing_a_file(**kwargs):
        original(**kwargs)
        raise ApplicationError("copy_failed", "The disk is full.")

    original = labs_offerings._dataset_copy
    monkeypatch.setattr(labs_offerings, "_dataset_copy", fail_after_writing_a_file)
    counts = [m.objects.count() for m in (Course, Session, Question, Quiz, Lab, HeldOutDataset)]

    with pytest.raises(ApplicationError, match="disk is full"):
        _copy(copier, source)

    assert [m.objects.count() for m in (Course, Session, Question, Quiz, Lab, HeldOutDataset)] == (
        counts
    )
    assert not Course.objects.filter(term="2027 S2").exists()
    # The files the failed copy wrote were deleted: only the source's two remain.
    assert _all_files(private_storage) == _all_files_of(HeldOutDataset.objects.all())
    assert len(_all_files(private_storage)) == 2


def _all_files(storage, path: str = "heldout") -> set[str]:
    dirs, files = storage.listdir(path)
    found = {f"{path}/{name}" for name in files}
    for name in dirs:
        found |= _all_files(storage, f"{path}/{name}")
    return found


def _all_files_of(datasets) -> set[str]:
    return {d.file.name for d in datasets}


def test_a_term_already_offered_is_refused(copier, source):
    _copy(copier, source)

    with pytest.raises(ApplicationError) as caught:
        _copy(copier, source)
    assert caught.value.code == "course_exists"


def test_the_plan_lists_what_will_be_copied(copier, source):
    plan = selectors.offering_copy_plan(
        user=copier, source=source, term="2027 S2", starts_on=NEW_START
    )

    assert plan.offset == OFFSET
    assert [s.title for s in plan.sessions] == ["Transformers"]
    assert (plan.objective_count, plan.homework_count) == (1, 2)
    assert [(q.title, q.slot_count) for q in plan.quizzes.quizzes] == [("Week 1 check", 2)]
    assert (plan.quizzes.category_count, plan.quizzes.question_count) == (2, 2)
    assert [(p.lab.title, p.dataset_versions) for p in plan.labs] == [("Sentiment lab", [1, 2])]
    assert plan.dataset_count == 2
    assert not Course.objects.filter(term="2027 S2").exists()


@pytest.mark.parametrize("role", [Membership.Role.TEACHING_ASSISTANT, Membership.Role.STUDENT])
def test_teaching_assistants_and_students_may_not_copy_even_as_course_creators(role, source):
    member = make_course_creator(MembershipFactory(course=source, role=role).user)

    with pytest.raises(PermissionDeniedError):
        _copy(member, source)
    assert not Course.objects.filter(term="2027 S2").exists()


def test_an_instructor_who_is_not_a_course_creator_may_not_copy(instructor, source):
    with pytest.raises(PermissionDeniedError, match="create courses"):
        _copy(instructor, source)


def test_a_course_creator_of_another_course_gets_not_found(other_student, source):
    with pytest.raises(NotFoundError):
        _copy(make_course_creator(other_student), source)
