"""Reads for the API and portal: quiz lists, results table, statistics, essay queue."""

from datetime import timedelta

import pytest

from core.actors import SYSTEM
from core.exceptions import NotFoundError
from courseware.models import Membership
from quizzes import selectors, services
from tests.factories import MembershipFactory, UserFactory
from tests.quizzes.conftest import NOW, description, essay, multiple_choice, true_false


def finished(quiz, user, responses, minutes=0):
    attempt = services.attempt_start(quiz=quiz, actor=user, now=NOW + timedelta(minutes=minutes))
    return services.attempt_submit(
        attempt=attempt, actor=user, responses=responses, now=NOW + timedelta(minutes=minutes + 1)
    )


def test_students_see_visible_quizzes_with_their_own_settings(make_quiz, student, instructor):
    shown = make_quiz(true_false(), title="Open one", attempts_allowed=2)
    make_quiz(true_false(), title="Hidden", visible=False)
    make_quiz(true_false(), title="Later", opens_at=NOW + timedelta(days=2), closes_at=None)
    services.quiz_override_set(actor=SYSTEM, quiz=shown, student=student, extra_attempts=1)
    finished(shown, student, {})
    course = shown.session.course

    student_view = selectors.quiz_list(user=student, course=course, now=NOW)
    teacher_view = selectors.quiz_list(user=instructor, course=course, now=NOW)

    assert [(q.quiz.title, q.status, q.can_start) for q in student_view] == [
        ("Open one", "open", True),
        ("Later", "upcoming", False),
    ]
    first = student_view[0]
    assert (first.attempts_allowed, first.attempts_used, first.attempts_left) == (3, 1, 2)
    assert student_view[1].reason == "The quiz has not opened yet."
    assert {q.quiz.title for q in teacher_view} == {"Open one", "Hidden", "Later"}


def test_quiz_list_shows_the_attempt_in_progress(quiz, student):
    attempt = services.attempt_start(quiz=quiz, actor=student, now=NOW)

    [item] = selectors.quiz_list(user=student, course=quiz.session.course, now=NOW)

    assert (item.in_progress_attempt_id, item.can_start) == (attempt.pk, True)


def test_other_courses_quizzes_are_not_found(quiz, other_student):
    with pytest.raises(NotFoundError):
        selectors.quiz_list(user=other_student, course=quiz.session.course)
    with pytest.raises(NotFoundError):
        selectors.quiz_get(user=other_student, quiz_id=quiz.pk)


def test_hidden_quiz_is_not_found_for_students(make_quiz, student, instructor):
    hidden = make_quiz(true_false(), visible=False)

    with pytest.raises(NotFoundError):
        selectors.quiz_get(user=student, quiz_id=hidden.pk)
    assert selectors.quiz_get(user=instructor, quiz_id=hidden.pk) == (hidden, "instructor")


def test_results_table_per_student_by_grading_method(make_quiz, course, student):
    quiz = make_quiz(true_false(), true_false(), grading_method="highest", pass_percentage=60)
    student.last_name, student.first_name = "Adams", "Ann"
    student.save()
    finished(quiz, student, {1: {"value": False}})  # 1 of 2
    finished(quiz, student, {1: {"value": False}, 2: {"value": False}}, minutes=5)  # 2 of 2
    idle = MembershipFactory(
        course=course, role=Membership.Role.STUDENT, user__last_name="Zed"
    ).user

    table = selectors.quiz_results(quiz=quiz)

    assert table.columns[:10] == [
        "username",
        "last_name",
        "first_name",
        "email",
        "attempts",
        "grade",
        "max_grade",
        "percentage",
        "passed",
        "needs_grading",
    ]
    assert table.columns[10:] == ["Q1 /1", "Q2 /1"]
    assert table.rows == [
        [
            student.username,
            "Adams",
            "Ann",
            student.email,
            2,
            2.0,
            2.0,
            100.0,
            True,
            False,
            1.0,
            1.0,
        ],
        [
            idle.username,
            "Zed",
            idle.first_name,
            idle.email,
            0,
            None,
            2.0,
            None,
            None,
            False,
            None,
            None,
        ],
    ]


def test_essay_marking_queue_lists_submitted_unmarked_essays(
    make_quiz, student, instructor, course
):
    quiz = make_quiz(essay(), true_false())
    waiting = finished(quiz, student, {1: {"text": "Mine."}})
    classmate = MembershipFactory(course=course, role=Membership.Role.STUDENT).user
    services.attempt_start(quiz=quiz, actor=classmate, now=NOW)  # in progress: not queued
    blank_writer = MembershipFactory(course=course, role=Membership.Role.STUDENT).user
    finished(quiz, blank_writer, {})  # blank essay: 0 at once, not queued

    queue = list(selectors.essay_marking_queue(course=course))

    assert [row.attempt_id for row in queue] == [waiting.pk]
    services.essay_mark(attempt_question=queue[0], actor=instructor, mark=1)
    assert list(selectors.essay_marking_queue(course=course, quiz=quiz)) == []


def test_statistics_use_first_attempts_and_match_the_hand_worked_example(make_quiz, course):
    # The example of test_statistics.py: marks (1,1,1), (1,0,0.5), (0,1,0.5), (0,0,0).
    quiz = make_quiz(true_false(), true_false(), multiple_choice(), attempts_allowed=0)
    students = [
        MembershipFactory(course=course, role=Membership.Role.STUDENT).user for _ in range(4)
    ]
    # multiple_choice: answers "2" and "3" are worth 50% each.
    shown = selectors.attempt_display(
        attempt=services.attempt_start(quiz=quiz, actor=students[0], now=NOW), now=NOW
    )["questions"][2]["choices"]
    ids = {c["text"]: c["id"] for c in shown}
    rows = [
        {1: {"value": False}, 2: {"value": False}, 3: {"choices": [ids["2"], ids["3"]]}},
        {1: {"value": False}, 2: {"value": True}, 3: {"choices": [ids["2"]]}},
        {1: {"value": True}, 2: {"value": False}, 3: {"choices": [ids["3"]]}},
        {},
    ]
    for user, responses in zip(students, rows, strict=True):
        finished(quiz, user, responses)
    finished(quiz, students[3], {1: {"value": False}}, minutes=10)  # a second attempt

    report = selectors.quiz_statistics(quiz=quiz)
    everything = selectors.quiz_statistics(quiz=quiz, attempts="all")

    assert report.quiz.count == 4
    assert report.quiz.mean == 1.5
    assert report.quiz.cic == pytest.approx(200 / 3)
    assert report.quiz.kurtosis == pytest.approx(1.5)
    assert [round(q.discrimination_index, 3) for q in report.questions] == [31.623, 31.623, 100.0]
    assert report.names[3] == "Primes"
    assert everything.quiz.count == 5


def test_score_history_lists_attempts_and_the_kept_grade(make_quiz, student):
    quiz = make_quiz(true_false(), grading_method="last", closes_at=NOW + timedelta(hours=1))
    finished(quiz, student, {1: {"value": False}})
    finished(quiz, student, {1: {"value": True}}, minutes=5)

    [row] = selectors.score_history(
        user=student, course=quiz.session.course, now=NOW + timedelta(hours=2)
    )

    assert [a["score"] for a in row.attempts] == [1.0, 0.0]
    assert row.grade == 0.0


def test_question_list_and_categories(course):
    tools = services.question_category_get_or_create(course=course, path="S12/Tools")
    services.question_create(course=course, category=tools, content=true_false(name="deep"))
    top = tools.parent
    services.question_create(course=course, category=top, content=true_false(name="top"))

    assert [c.path for c in selectors.question_category_list(course=course)] == ["S12", "S12/Tools"]
    assert {q.name for q in selectors.question_list(course=course, category=top)} == {"deep", "top"}
    assert [
        q.name
        for q in selectors.question_list(course=course, category=top, include_subcategories=False)
    ] == ["top"]


def test_attempt_get_lets_instructors_in(quiz, student, instructor):
    attempt = services.attempt_start(quiz=quiz, actor=student, now=NOW)
    stranger = UserFactory()

    assert selectors.attempt_get(user=instructor, attempt_id=attempt.pk) == attempt
    with pytest.raises(NotFoundError):
        selectors.attempt_get(user=stranger, attempt_id=attempt.pk)


def test_descriptions_take_no_number_in_results_statistics_or_slot_list(make_quiz, course, student):
    quiz = make_quiz(description(), true_false(), description(), true_false())
    finished(quiz, student, {2: {"value": True}, 4: {"value": False}})

    slots = selectors.quiz_slot_list(quiz=quiz)
    table = selectors.quiz_results(quiz=quiz)
    report = selectors.quiz_statistics(quiz=quiz)

    assert [(s.position, s.number) for s in slots] == [(1, None), (2, 1), (3, None), (4, 2)]
    # Numbered as the student saw "Question 1" and "Question 2"; no column for descriptions.
    assert table.columns[10:] == ["Q1 /1", "Q2 /1"]
    [row] = [r for r in table.rows if r[0] == student.username]
    assert row[10:] == [0.0, 1.0]  # true_false() is right when False
    assert [(q.slot, report.numbers[q.slot]) for q in report.questions] == [(2, 1), (4, 2)]
