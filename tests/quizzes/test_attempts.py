"""Attempts: starting, autosave, server-side time limits, submission, essay marking."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.actors import SYSTEM
from core.exceptions import ApplicationError, NotFoundError, PermissionDeniedError
from courseware.models import Membership
from quizzes import selectors, services
from quizzes.models import Attempt, AttemptQuestion
from quizzes.tasks import finalize_overdue_attempts
from tests.factories import MembershipFactory
from tests.quizzes.conftest import (
    NOW,
    QuizFactory,
    description,
    essay,
    matching,
    multiple_choice,
    numerical,
    short_answer,
    single_choice,
    true_false,
)


def start(quiz, user, minutes=0, **kwargs):
    return services.attempt_start(
        quiz=quiz, actor=user, now=NOW + timedelta(minutes=minutes), **kwargs
    )


def save(attempt, user, slot, response, minutes=1):
    return services.attempt_answer_save(
        attempt=attempt,
        actor=user,
        slot=slot,
        response=response,
        now=NOW + timedelta(minutes=minutes),
    )


def submit(attempt, user, minutes=2, **kwargs):
    return services.attempt_submit(
        attempt=attempt, actor=user, now=NOW + timedelta(minutes=minutes), **kwargs
    )


# --- Starting ---------------------------------------------------------------------------------


def test_start_sets_deadline_from_time_limit_and_total_marks(quiz, student):
    attempt = start(quiz, student)

    assert attempt.number == 1
    assert attempt.state == Attempt.State.IN_PROGRESS
    assert attempt.deadline == NOW + timedelta(minutes=20)
    assert attempt.max_score == 4.0
    assert list(attempt.questions.values_list("position", "max_mark")) == [(1, 1), (2, 1), (3, 2)]


def test_starting_again_returns_the_attempt_in_progress(quiz, student):
    first = start(quiz, student)

    again = start(quiz, student, minutes=3)

    assert again.pk == first.pk
    assert Attempt.objects.count() == 1


def test_deadline_is_capped_by_the_close_date(make_quiz, student):
    quiz = make_quiz(true_false(), closes_at=NOW + timedelta(minutes=5))

    assert start(quiz, student).deadline == NOW + timedelta(minutes=5)


def test_no_time_limit_and_no_close_date_means_no_deadline(make_quiz, student):
    quiz = make_quiz(true_false(), time_limit=None, closes_at=None)

    assert start(quiz, student).deadline is None


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"opens_at": NOW + timedelta(hours=1)}, "quiz_not_open"),
        ({"closes_at": NOW}, "quiz_closed"),
    ],
)
def test_start_outside_the_open_window_is_refused(make_quiz, student, fields, code):
    quiz = make_quiz(true_false(), **fields)

    with pytest.raises(ApplicationError) as excinfo:
        start(quiz, student)
    assert excinfo.value.code == code


def test_attempts_allowed_is_enforced(make_quiz, student):
    quiz = make_quiz(true_false(), attempts_allowed=1)
    submit(start(quiz, student), student)

    with pytest.raises(ApplicationError) as excinfo:
        start(quiz, student, minutes=5)
    assert excinfo.value.code == "no_attempts_left"


def test_only_students_of_the_course_start(quiz, instructor, other_student):
    with pytest.raises(PermissionDeniedError):
        start(quiz, instructor)
    with pytest.raises(NotFoundError):
        start(quiz, other_student)


def test_a_hidden_quiz_cannot_be_started(make_quiz, student):
    quiz = make_quiz(true_false(), visible=False)

    with pytest.raises(NotFoundError):
        start(quiz, student)


def test_quiz_without_questions_cannot_be_started(session12, student):
    quiz = QuizFactory(session=session12)

    with pytest.raises(ApplicationError) as excinfo:
        start(quiz, student)
    assert excinfo.value.code == "quiz_empty"


# --- Overrides --------------------------------------------------------------------------------


def test_override_extra_time_and_attempts(make_quiz, student):
    quiz = make_quiz(true_false(), attempts_allowed=1)
    services.quiz_override_set(
        actor=SYSTEM, quiz=quiz, student=student, extra_time=timedelta(minutes=10), extra_attempts=1
    )

    first = start(quiz, student)
    submit(first, student)
    second = start(quiz, student, minutes=5)

    assert first.deadline == NOW + timedelta(minutes=30)
    assert second.number == 2


def test_override_own_dates_let_a_student_in_after_the_quiz_closed(make_quiz, student):
    quiz = make_quiz(
        true_false(), closes_at=NOW - timedelta(minutes=1), opens_at=NOW - timedelta(days=1)
    )
    services.quiz_override_set(
        actor=SYSTEM, quiz=quiz, student=student, closes_at=NOW + timedelta(hours=2)
    )

    attempt = start(quiz, student)

    assert attempt.deadline == NOW + timedelta(minutes=20)


def test_override_moves_the_deadline_of_an_attempt_in_progress(quiz, student):
    attempt = start(quiz, student)

    services.quiz_override_set(
        actor=SYSTEM, quiz=quiz, student=student, extra_time=timedelta(minutes=15)
    )
    attempt.refresh_from_db()
    assert attempt.deadline == NOW + timedelta(minutes=35)

    services.quiz_override_delete(actor=SYSTEM, quiz=quiz, student=student)
    attempt.refresh_from_db()
    assert attempt.deadline == NOW + timedelta(minutes=20)


# --- Display: no answers, stable shuffle --------------------------------------------------------


def test_display_reveals_no_answers_weights_or_feedback(make_quiz, student):
    quiz = make_quiz(
        description(),
        single_choice(),
        multiple_choice(),
        true_false(),
        short_answer(),
        numerical(),
        matching(),
        essay(),
    )
    attempt = start(quiz, student)

    shown = selectors.attempt_display(attempt=attempt, now=NOW)
    text = repr(shown)

    for secret in ("fraction", "feedback", "right_answer", "correct", "Yes.", "Look up.", "3.14"):
        assert secret not in text
    assert [q["number"] for q in shown["questions"]] == [None, 1, 2, 3, 4, 5, 6, 7]
    assert shown["attempt"]["seconds_left"] == 20 * 60
    single = shown["questions"][1]
    assert single["choices"] == [
        {"id": 0, "text": "Rome"},
        {"id": 1, "text": "Milan"},
        {"id": 2, "text": "Turin"},
    ]
    assert shown["questions"][6]["items"] == [
        {"id": 0, "text": "Encoder"},
        {"id": 1, "text": "Decoder"},
        {"id": 2, "text": "Head"},
    ]


def test_shuffled_order_is_stored_and_stable_and_ids_are_display_positions(make_quiz, student):
    quiz = make_quiz(single_choice(), shuffle_answers=True)
    attempt = start(quiz, student, seed=3)
    order = attempt.questions.get().order["choices"]
    first_view = selectors.attempt_display(attempt=attempt, now=NOW)["questions"][0]["choices"]

    rome_id = next(c["id"] for c in first_view if c["text"] == "Rome")
    save(attempt, student, 1, {"choice": rome_id})
    second_view = selectors.attempt_display(attempt=attempt, now=NOW)["questions"][0]

    assert sorted(order) == [0, 1, 2]
    assert second_view["choices"] == first_view
    assert second_view["response"] == {"choice": rome_id}
    assert attempt.questions.get().response == {"choice": 0}  # canonical: Rome is answer 0
    assert submit(attempt, student).score == 1.0


def test_different_attempts_can_get_different_orders(make_quiz, student):
    quiz = make_quiz(single_choice(), shuffle_answers=True, attempts_allowed=0)
    orders = set()
    for minutes in range(0, 60, 5):
        attempt = start(quiz, student, minutes=minutes, seed=minutes)
        orders.add(tuple(attempt.questions.get().order["choices"]))
        submit(attempt, student, minutes=minutes + 1)

    assert len(orders) > 1


def test_shuffled_questions_keep_descriptions_in_place(make_quiz, student):
    quiz = make_quiz(
        description(),
        single_choice(),
        true_false(),
        numerical(),
        short_answer(),
        shuffle_questions=True,
    )
    types = set()
    for seed in range(6):
        attempt = start(quiz, student, minutes=seed * 5, seed=seed)
        rows = list(
            attempt.questions.order_by("position").values_list("question__qtype", "slot_position")
        )
        assert rows[0] == ("description", 1)
        types.add(tuple(t for t, _ in rows))
        submit(attempt, student, minutes=seed * 5 + 1)

    assert len(types) > 1


def test_random_slots_draw_different_questions_from_a_category(session12, student):
    course = session12.course
    category = services.question_category_get_or_create(course=course, path="Bank/Attention")
    for i in range(3):
        services.question_create(
            course=course, category=category, content=true_false(name=f"TF {i}")
        )
    quiz = QuizFactory(session=session12)
    services.quiz_random_questions_add(actor=SYSTEM, quiz=quiz, category=category, count=3)

    attempt = start(quiz, student)

    names = set(attempt.questions.values_list("question__name", flat=True))
    assert names == {"TF 0", "TF 1", "TF 2"}


def test_random_slots_cannot_ask_for_more_questions_than_the_category_has(session12):
    category = services.question_category_get_or_create(course=session12.course, path="Small")
    services.question_create(course=session12.course, category=category, content=true_false())
    quiz = QuizFactory(session=session12)

    with pytest.raises(ApplicationError) as excinfo:
        services.quiz_random_questions_add(actor=SYSTEM, quiz=quiz, category=category, count=2)
    assert excinfo.value.code == "not_enough_questions"


def test_questions_cannot_change_once_attempted(quiz, student, session12):
    start(quiz, student)
    question = services.question_create(course=session12.course, content=true_false())

    with pytest.raises(ApplicationError) as excinfo:
        services.quiz_question_add(actor=SYSTEM, quiz=quiz, question=question)
    assert excinfo.value.code == "quiz_has_attempts"


# --- Autosave ----------------------------------------------------------------------------------


def test_answers_autosave_and_can_be_changed_or_cleared(quiz, student):
    attempt = start(quiz, student)

    save(attempt, student, 2, {"value": True})
    save(attempt, student, 2, {"value": False}, minutes=2)
    save(attempt, student, 1, {"choice": 1})
    save(attempt, student, 1, None, minutes=3)

    rows = dict(attempt.questions.values_list("position", "response"))
    assert rows == {1: None, 2: {"value": False}, 3: None}


@pytest.mark.parametrize(
    ("slot", "response", "code"),
    [
        (1, {"choice": 7}, "invalid_response"),
        (1, {"choice": "0; drop"}, "invalid_response"),
        (2, {"value": "yes"}, "invalid_response"),
        (3, {"text": 5}, "invalid_response"),
        (1, "Rome", "invalid_response"),
        (9, {"choice": 0}, "not_found"),
    ],
)
def test_invalid_responses_are_refused(quiz, student, slot, response, code):
    attempt = start(quiz, student)

    with pytest.raises(ApplicationError) as excinfo:
        save(attempt, student, slot, response)
    assert excinfo.value.code == code


def test_another_student_cannot_answer_or_submit_my_attempt(quiz, student, course):
    attempt = start(quiz, student)
    classmate = MembershipFactory(course=course, role=Membership.Role.STUDENT).user

    with pytest.raises(NotFoundError):
        save(attempt, classmate, 1, {"choice": 0})
    with pytest.raises(NotFoundError):
        submit(attempt, classmate)


# --- Time limit ---------------------------------------------------------------------------------


def test_answer_at_the_deadline_is_accepted(quiz, student):
    attempt = start(quiz, student)

    save(attempt, student, 1, {"choice": 0}, minutes=20)

    assert attempt.questions.get(position=1).response == {"choice": 0}


DEADLINE = NOW + timedelta(minutes=20)  # the `quiz` fixture's time limit, started at NOW


@pytest.fixture
def grace(settings):
    settings.QUIZ_NETWORK_GRACE_S = 15
    return timedelta(seconds=15)


def test_answer_after_the_deadline_and_the_grace_is_refused_and_the_attempt_submitted(
    quiz, student, grace
):
    attempt = start(quiz, student)
    save(attempt, student, 1, {"choice": 0}, minutes=5)

    with pytest.raises(ApplicationError) as excinfo:
        services.attempt_answer_save(
            attempt=attempt,
            actor=student,
            slot=2,
            response={"value": False},
            now=DEADLINE + grace + timedelta(seconds=1),
        )

    assert excinfo.value.code == "attempt_overdue"
    attempt.refresh_from_db()
    assert attempt.state == Attempt.State.FINISHED
    assert attempt.auto_submitted is True
    assert attempt.submitted_at == DEADLINE
    assert attempt.questions.get(position=2).response is None  # the late answer was dropped
    assert attempt.questions.get(position=1).mark == 1.0


def test_an_answer_arriving_within_the_grace_is_saved_and_counted(quiz, student, grace):
    attempt = start(quiz, student)

    services.attempt_answer_save(
        attempt=attempt,
        actor=student,
        slot=1,
        response={"choice": 0},
        now=DEADLINE + timedelta(seconds=5),
    )

    attempt.refresh_from_db()
    assert attempt.state == Attempt.State.IN_PROGRESS  # a further save may be in flight
    assert attempt.questions.get(position=1).response == {"choice": 0}
    closed = services.attempt_finalize_if_overdue(
        attempt=attempt, now=DEADLINE + grace + timedelta(seconds=1)
    )
    assert closed is True
    assert (attempt.submitted_at, attempt.auto_submitted) == (DEADLINE, True)
    assert attempt.questions.get(position=1).mark == 1.0


def test_a_submit_arriving_within_the_grace_saves_its_responses(quiz, student, grace):
    attempt = start(quiz, student)
    save(attempt, student, 1, {"choice": 0}, minutes=5)

    services.attempt_submit(
        attempt=attempt,
        actor=student,
        responses={2: {"value": False}},
        now=DEADLINE + timedelta(seconds=5),
    )

    attempt.refresh_from_db()
    assert attempt.state == Attempt.State.FINISHED
    assert attempt.submitted_at == DEADLINE  # counted as made when time ran out
    assert attempt.auto_submitted is True
    assert attempt.questions.get(position=2).response == {"value": False}
    assert attempt.questions.get(position=2).mark == 1.0


def test_a_grace_of_zero_refuses_an_answer_a_second_after_the_deadline(quiz, student, settings):
    settings.QUIZ_NETWORK_GRACE_S = 0
    attempt = start(quiz, student)

    with pytest.raises(ApplicationError) as excinfo:
        services.attempt_answer_save(
            attempt=attempt,
            actor=student,
            slot=1,
            response={"choice": 0},
            now=DEADLINE + timedelta(seconds=1),
        )

    assert excinfo.value.code == "attempt_overdue"
    attempt.refresh_from_db()
    assert attempt.state == Attempt.State.FINISHED
    assert attempt.questions.get(position=1).response is None


def test_the_sweep_leaves_an_attempt_within_the_grace_alone_and_closes_it_after(
    quiz, student, grace
):
    attempt = start(quiz, student)
    save(attempt, student, 1, {"choice": 0}, minutes=5)

    within = services.attempts_finalize_overdue(now=DEADLINE + timedelta(seconds=5))
    still_open = Attempt.objects.get(pk=attempt.pk).state
    after = services.attempts_finalize_overdue(now=DEADLINE + grace + timedelta(seconds=1))

    assert (within, still_open, after) == (0, Attempt.State.IN_PROGRESS, 1)
    attempt.refresh_from_db()
    assert (attempt.state, attempt.submitted_at) == (Attempt.State.FINISHED, DEADLINE)
    assert attempt.score == 1.0


def test_the_attempt_shows_time_is_up_from_the_deadline_not_after_the_grace(quiz, student, grace):
    attempt = start(quiz, student)

    before = selectors.attempt_display(attempt=attempt, now=DEADLINE - timedelta(seconds=5))
    within = selectors.attempt_display(attempt=attempt, now=DEADLINE + timedelta(seconds=5))

    assert (before["attempt"]["time_up"], before["attempt"]["seconds_left"]) == (False, 5)
    assert (within["attempt"]["time_up"], within["attempt"]["seconds_left"]) == (True, 0)
    assert within["attempt"]["state"] == Attempt.State.IN_PROGRESS


def test_starting_again_within_the_grace_submits_the_attempt_whose_time_is_up(
    make_quiz, student, grace
):
    quiz = make_quiz(true_false(), time_limit=timedelta(minutes=20), attempts_allowed=2)
    first = start(quiz, student)

    second = services.attempt_start(quiz=quiz, actor=student, now=DEADLINE + timedelta(seconds=5))

    first.refresh_from_db()
    assert (first.state, first.submitted_at) == (Attempt.State.FINISHED, DEADLINE)
    assert second.number == 2


def test_late_submit_keeps_answers_saved_in_time_and_refuses_new_ones(quiz, student, grace):
    attempt = start(quiz, student)
    save(attempt, student, 1, {"choice": 0}, minutes=5)

    with pytest.raises(ApplicationError) as excinfo:
        submit(attempt, student, minutes=25, responses={2: {"value": False}})

    assert excinfo.value.code == "attempt_overdue"
    attempt.refresh_from_db()
    assert attempt.state == Attempt.State.FINISHED
    assert attempt.questions.get(position=2).response is None


def test_opening_an_overdue_attempt_submits_it_first(quiz, student):
    attempt = start(quiz, student)
    save(attempt, student, 2, {"value": False}, minutes=5)

    opened = selectors.attempt_get(user=student, attempt_id=attempt.pk)
    finalized = services.attempt_finalize_if_overdue(attempt=opened, now=NOW + timedelta(hours=1))

    assert finalized is True
    assert opened.state == Attempt.State.FINISHED
    assert opened.auto_submitted is True
    assert opened.needs_grading is False  # the essay was left blank: 0 at once
    assert opened.score == 1.0


def test_the_attempt_selector_never_submits_an_overdue_attempt(quiz, student):
    attempt = start(quiz, student)
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(minutes=1))

    opened = selectors.attempt_get(user=student, attempt_id=attempt.pk)

    assert opened.state == Attempt.State.IN_PROGRESS
    assert Attempt.objects.get(pk=attempt.pk).state == Attempt.State.IN_PROGRESS


def test_finalizing_says_whether_this_call_submitted_the_attempt(quiz, student):
    attempt = start(quiz, student)
    late = NOW + timedelta(hours=1)

    in_time = services.attempt_finalize_if_overdue(attempt=attempt, now=NOW + timedelta(minutes=1))
    first = services.attempt_finalize_if_overdue(attempt=attempt, now=late)
    again = services.attempt_finalize_if_overdue(attempt=attempt, now=late)

    assert (in_time, first, again) == (False, True, False)
    assert Attempt.objects.get(pk=attempt.pk).auto_submitted is True


def test_periodic_task_submits_overdue_attempts_only(make_quiz, student, course):
    now = timezone.now()
    quiz = make_quiz(
        true_false(), opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=1)
    )
    late = services.attempt_start(quiz=quiz, actor=student, now=now - timedelta(minutes=30))
    classmate = MembershipFactory(course=course, role=Membership.Role.STUDENT).user
    on_time = services.attempt_start(quiz=quiz, actor=classmate, now=now - timedelta(minutes=5))

    assert finalize_overdue_attempts() == 1
    assert finalize_overdue_attempts() == 0

    late.refresh_from_db()
    on_time.refresh_from_db()
    assert (late.state, late.auto_submitted) == (Attempt.State.FINISHED, True)
    assert on_time.state == Attempt.State.IN_PROGRESS


def test_starting_after_an_overdue_attempt_submits_it_and_starts_the_next(quiz, student):
    first = start(quiz, student)

    second = start(quiz, student, minutes=30)

    first.refresh_from_db()
    assert first.state == Attempt.State.FINISHED and first.auto_submitted
    assert second.number == 2


# --- Submitting and grading ---------------------------------------------------------------------


def test_submit_grades_every_question(make_quiz, student):
    quiz = make_quiz(
        description(),
        single_choice(),
        multiple_choice(),
        true_false(),
        short_answer(),
        numerical(),
        matching(),
        marks=[0, 1, 2, 1, 1, 1, 3],
    )
    attempt = start(quiz, student)
    shown = {q["slot"]: q for q in selectors.attempt_display(attempt=attempt, now=NOW)["questions"]}

    def choice_id(slot, text):
        return next(c["id"] for c in shown[slot]["choices"] if c["text"] == text)

    finished = submit(
        attempt,
        student,
        responses={
            2: {"choice": choice_id(2, "Rome")},  # 1 of 1
            3: {"choices": [choice_id(3, "2")]},  # 0.5 of 2 -> 1
            4: {"value": True},  # wrong: 0
            5: {"text": "Huggingface"},  # 50% of 1
            6: {"value": "3.149"},  # 1
            7: {
                "matches": {
                    "0": choice_id(7, "Reads the input"),
                    "1": choice_id(7, "Attends"),
                    "2": choice_id(7, "Attends"),
                }
            },  # 2 of 3 pairs of 3 marks -> 2
        },
    )

    marks = dict(finished.questions.values_list("position", "mark"))
    assert marks == {1: None, 2: 1.0, 3: 1.0, 4: 0.0, 5: 0.5, 6: 1.0, 7: 2.0}
    assert finished.score == 5.5
    assert finished.max_score == 9.0
    assert finished.percentage == pytest.approx(100 * 5.5 / 9)
    assert finished.auto_submitted is False


def test_submitting_twice_is_harmless(quiz, student):
    attempt = start(quiz, student)
    save(attempt, student, 1, {"choice": 0})
    first = submit(attempt, student, minutes=3)

    second = submit(attempt, student, minutes=9, responses={1: {"choice": 1}})

    assert second.state == Attempt.State.FINISHED
    assert second.submitted_at == first.submitted_at == NOW + timedelta(minutes=3)
    assert second.questions.get(position=1).response == {"choice": 0}
    with pytest.raises(ApplicationError) as excinfo:
        save(attempt, student, 1, {"choice": 1}, minutes=10)
    assert excinfo.value.code == "attempt_finished"


def test_essay_waits_for_a_mark_then_the_score_follows(quiz, student, instructor):
    attempt = start(quiz, student)
    save(attempt, student, 1, {"choice": 0})
    save(attempt, student, 3, {"text": "Attention lets every token see every other token."})
    finished = submit(attempt, student)
    assert (finished.score, finished.needs_grading) == (None, True)
    essay_row = finished.questions.get(position=3)
    assert essay_row.state == AttemptQuestion.State.NEEDS_GRADING

    services.essay_mark(attempt_question=essay_row, actor=instructor, mark=1.5, comment="Good.")

    finished.refresh_from_db()
    essay_row.refresh_from_db()
    assert (finished.score, finished.needs_grading) == (2.5, False)
    assert (essay_row.mark, essay_row.fraction, essay_row.comment) == (1.5, 0.75, "Good.")
    assert essay_row.graded_by == instructor


@pytest.mark.parametrize("mark", [-1, 2.5, "2"])
def test_essay_mark_must_be_within_the_question_mark(quiz, student, instructor, mark):
    attempt = start(quiz, student)
    save(attempt, student, 3, {"text": "An answer."})
    submit(attempt, student)

    with pytest.raises(ApplicationError) as excinfo:
        services.essay_mark(
            attempt_question=attempt.questions.get(position=3), actor=instructor, mark=mark
        )
    assert excinfo.value.code == "invalid_mark"


def test_only_instructors_mark_essays_and_only_submitted_ones(quiz, student, instructor):
    attempt = start(quiz, student)
    save(attempt, student, 3, {"text": "An answer."})
    row = attempt.questions.get(position=3)

    with pytest.raises(ApplicationError) as excinfo:
        services.essay_mark(attempt_question=row, actor=instructor, mark=1)
    assert excinfo.value.code == "attempt_in_progress"
    submit(attempt, student)
    with pytest.raises(PermissionDeniedError):
        services.essay_mark(attempt_question=row, actor=student, mark=2)
