"""Review options: which window applies, and what each window shows."""

from datetime import timedelta

import pytest

from core.actors import SYSTEM
from core.exceptions import ApplicationError, NotFoundError
from courseware.models import Membership
from quizzes import selectors, services
from quizzes.review import normalise_review_options, review_window
from tests.factories import MembershipFactory
from tests.quizzes.conftest import NOW, essay, single_choice, true_false

CLOSES = NOW + timedelta(days=1)
SUBMITTED = NOW + timedelta(minutes=10)
# A different combination in each window, so a test can tell which one applied.
OPTIONS = {
    "during": {"correctness": True, "marks": False, "feedback": False, "right_answers": False},
    "immediately": {"correctness": True, "marks": True, "feedback": True, "right_answers": False},
    "open": {"correctness": False, "marks": True, "feedback": False, "right_answers": False},
    "closed": {"correctness": True, "marks": True, "feedback": True, "right_answers": True},
}


@pytest.mark.parametrize(
    ("finished", "now", "closes_at", "expected"),
    [
        (False, SUBMITTED, CLOSES, "during"),
        (True, SUBMITTED, CLOSES, "immediately"),
        (True, SUBMITTED + timedelta(seconds=119), CLOSES, "immediately"),
        (True, SUBMITTED + timedelta(minutes=2), CLOSES, "open"),
        (True, CLOSES - timedelta(seconds=1), CLOSES, "open"),
        (True, CLOSES, CLOSES, "closed"),
        (True, SUBMITTED + timedelta(days=400), None, "open"),  # never closes
    ],
)
def test_review_window(finished, now, closes_at, expected):
    window = review_window(finished=finished, submitted_at=SUBMITTED, closes_at=closes_at, now=now)

    assert window == expected


def test_review_options_are_filled_from_defaults_and_checked():
    options = normalise_review_options({"closed": {"right_answers": False}})

    assert options["closed"] == {
        "correctness": True,
        "marks": True,
        "feedback": True,
        "right_answers": False,
    }
    assert options["during"] == dict.fromkeys(options["during"], False)
    with pytest.raises(ValueError, match="Unknown review window 'later'"):
        normalise_review_options({"later": {}})
    with pytest.raises(ValueError, match="Unknown review option 'grades'"):
        normalise_review_options({"open": {"grades": True}})
    with pytest.raises(ValueError, match="true or false"):
        normalise_review_options({"open": {"marks": "yes"}})


@pytest.fixture
def reviewed(make_quiz, student):
    """A submitted attempt (at SUBMITTED): Rome right, True wrong."""
    quiz = make_quiz(single_choice(), true_false(), closes_at=CLOSES, review_options=OPTIONS)
    attempt = services.attempt_start(quiz=quiz, actor=student, now=NOW)
    return services.attempt_submit(
        attempt=attempt,
        actor=student,
        responses={1: {"choice": 0}, 2: {"value": True}},
        now=SUBMITTED,
    )


def review_at(attempt, user, now):
    return selectors.attempt_review(attempt=attempt, user=user, now=now)


def test_immediately_after_shows_correctness_marks_and_feedback(reviewed, student):
    data = review_at(reviewed, student, SUBMITTED + timedelta(minutes=1))

    assert data["window"] == "immediately"
    assert data["attempt"]["score"] == 1.0
    rome, sky = data["questions"]
    assert (rome["state"], rome["mark"]) == ("correct", 1.0)
    assert rome["feedback"]["answers"] == ["Yes."]
    assert sky["feedback"]["answers"] == ["Look up."]
    assert "right_answer" not in rome
    assert rome["response"] == {"choice": 0}


def test_later_while_open_shows_only_marks(reviewed, student):
    data = review_at(reviewed, student, SUBMITTED + timedelta(hours=1))

    assert data["window"] == "open"
    rome = data["questions"][0]
    assert rome["mark"] == 1.0
    assert "state" not in rome and "feedback" not in rome and "right_answer" not in rome


def test_after_close_shows_everything_including_right_answers(reviewed, student):
    data = review_at(reviewed, student, CLOSES + timedelta(minutes=1))

    assert data["window"] == "closed"
    sky = data["questions"][1]
    assert (sky["state"], sky["mark"], sky["right_answer"]) == ("incorrect", 0.0, "False")


def test_a_student_s_own_close_date_decides_the_window(reviewed, student):
    services.quiz_override_set(
        actor=SYSTEM, quiz=reviewed.quiz, student=student, closes_at=CLOSES + timedelta(days=7)
    )

    assert review_at(reviewed, student, CLOSES + timedelta(minutes=1))["window"] == "open"


def test_nothing_but_responses_when_a_window_shows_nothing(make_quiz, student):
    quiz = make_quiz(
        single_choice(), review_options={"immediately": dict.fromkeys(OPTIONS["open"], False)}
    )
    attempt = services.attempt_start(quiz=quiz, actor=student, now=NOW)
    attempt = services.attempt_submit(
        attempt=attempt, actor=student, responses={1: {"choice": 1}}, now=NOW
    )

    data = review_at(attempt, student, NOW)

    assert "score" not in data["attempt"]
    assert set(data["questions"][0]) == {
        "slot",
        "number",
        "type",
        "text",
        "format",
        "max_mark",
        "choices",
        "response",
        "answered",
    }


def test_during_options_show_correctness_of_saved_answers(make_quiz, student):
    quiz = make_quiz(single_choice(), true_false(), review_options=OPTIONS)
    attempt = services.attempt_start(quiz=quiz, actor=student, now=NOW)
    services.attempt_answer_save(
        attempt=attempt, actor=student, slot=1, response={"choice": 0}, now=NOW
    )

    rome, sky = selectors.attempt_display(attempt=attempt, now=NOW)["questions"]

    assert rome["state"] == "correct"
    assert "mark" not in rome and "feedback" not in rome
    assert "state" not in sky  # not answered yet


def test_instructors_see_everything_at_any_time(reviewed, instructor):
    data = review_at(reviewed, instructor, SUBMITTED + timedelta(hours=1))

    assert data["window"] == "instructor"
    assert data["questions"][1]["right_answer"] == "False"
    assert data["questions"][1]["feedback"]["answers"] == ["Look up."]


def test_essay_comment_is_part_of_feedback(make_quiz, student, instructor):
    quiz = make_quiz(essay(general_feedback="Model answer."), closes_at=CLOSES)
    attempt = services.attempt_start(quiz=quiz, actor=student, now=NOW)
    attempt = services.attempt_submit(
        attempt=attempt, actor=student, responses={1: {"text": "Mine."}}, now=NOW
    )
    services.essay_mark(
        attempt_question=attempt.questions.get(), actor=instructor, mark=1, comment="Nice."
    )

    data = review_at(attempt, student, NOW + timedelta(minutes=1))

    assert data["questions"][0]["feedback"] == {
        "answers": [],
        "general": "Model answer.",
        "comment": "Nice.",
    }
    assert data["questions"][0]["state"] == "manually_graded"


def test_students_cannot_review_in_progress_or_other_students_attempts(quiz, student, course):
    attempt = services.attempt_start(quiz=quiz, actor=student, now=NOW)
    classmate = MembershipFactory(course=course, role=Membership.Role.STUDENT).user

    with pytest.raises(ApplicationError) as excinfo:
        review_at(attempt, student, NOW)
    assert excinfo.value.code == "attempt_in_progress"
    with pytest.raises(Exception) as excinfo:
        review_at(attempt, classmate, NOW)
    assert excinfo.value.code == "permission_denied"
    with pytest.raises(NotFoundError):
        selectors.attempt_get(user=classmate, attempt_id=attempt.pk)


def test_score_history_hides_marks_while_the_review_options_do(make_quiz, student):
    hidden_while_open = {
        "immediately": {"marks": False},
        "open": {"marks": False},
        "closed": {"marks": True},
    }
    quiz = make_quiz(single_choice(), closes_at=CLOSES, review_options=hidden_while_open)
    attempt = services.attempt_start(quiz=quiz, actor=student, now=NOW)
    services.attempt_submit(attempt=attempt, actor=student, responses={1: {"choice": 0}}, now=NOW)

    [while_open] = selectors.score_history(user=student, course=quiz.session.course, now=NOW)
    [after_close] = selectors.score_history(user=student, course=quiz.session.course, now=CLOSES)

    assert (while_open.grade, while_open.attempts[0]["score"]) == (None, None)
    assert (after_close.grade, after_close.attempts[0]["score"]) == (1.0, 1.0)
    assert after_close.percentage == 100.0
