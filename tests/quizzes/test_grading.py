"""Automatic grading of every question type, and the grading methods."""

import pytest

from quizzes.content import validate_content
from quizzes.grading import clamp, grade, quiz_grade, right_answer, round_percentage, state_for
from tests.quizzes.conftest import CONTENT


def content(qtype: str, **extra) -> dict:
    return validate_content(CONTENT[qtype](**extra))


def fraction(qtype: str, response, **extra) -> float | None:
    return grade(content(qtype, **extra), response).fraction


def test_single_choice_right_wrong_and_feedback():
    right = grade(content("single_choice"), {"choice": 0})
    wrong = grade(content("single_choice"), {"choice": 1})

    assert (right.fraction, right.state, right.feedback) == (1.0, "correct", ["Yes."])
    assert (wrong.fraction, wrong.state, wrong.feedback) == (0.0, "incorrect", ["No, Rome."])


def test_single_choice_partial_answer():
    partial = content(
        "single_choice",
        answers=[
            {"text": "a", "fraction": 1.0},
            {"text": "b", "fraction": 0.5},
            {"text": "c", "fraction": -0.5},
        ],
    )

    assert grade(partial, {"choice": 1}).state == "partial"
    assert grade(partial, {"choice": 1}).fraction == 0.5
    # A negative single answer loses nothing beyond this question.
    assert grade(partial, {"choice": 2}).fraction == 0.0


@pytest.mark.parametrize(
    ("choices", "expected", "state"),
    [
        ([0, 1], 1.0, "correct"),  # 0.5 + 0.5
        ([0], 0.5, "partial"),
        ([0, 1, 3], 0.5, "partial"),  # 0.5 + 0.5 - 0.5
        ([0, 2], 0.0, "incorrect"),  # 0.5 - 1.0 = -0.5, clamped to 0
        ([2, 3], 0.0, "incorrect"),  # -1.5, clamped
        ([0, 1, 2, 3], 0.0, "incorrect"),  # everything ticked: 1.0 - 1.5
    ],
)
def test_multiple_choice_sums_weights_and_clamps(choices, expected, state):
    result = grade(content("multiple_choice"), {"choices": choices})

    assert (result.fraction, result.state) == (expected, state)


def test_multiple_choice_total_is_clamped_at_one():
    generous = content(
        "multiple_choice",
        answers=[{"text": "a", "fraction": 0.75}, {"text": "b", "fraction": 0.75}],
    )

    assert grade(generous, {"choices": [0, 1]}).fraction == 1.0


def test_three_right_answers_at_a_third_each_are_correct_and_full_marks():
    # Stored before grade-option snapping: 0.3333333 x 3 = 0.9999999.
    thirds = {
        "type": "multiple_choice",
        "text": "Pick the three encoders",
        "format": "moodle",
        "answers": [
            {"text": t, "fraction": f, "feedback": ""}
            for t, f in (("a", 0.3333333), ("b", 0.3333333), ("c", 0.3333333), ("d", -1.0))
        ],
    }

    result = grade(thirds, {"choices": [0, 1, 2]})

    assert (result.fraction, result.state) == (1.0, "correct")


@pytest.mark.parametrize(
    ("fraction", "state"),
    [(0.9999991, "correct"), (0.999998, "partial"), (0.0000009, "incorrect"), (2e-6, "partial")],
)
def test_state_follows_moodles_one_millionth_tolerance(fraction, state):
    assert state_for(clamp(fraction)) == state


def test_multiple_choice_feedback_of_each_ticked_answer():
    result = grade(content("multiple_choice"), {"choices": [0, 2]})

    assert result.feedback == ["2 is prime.", "4 = 2 x 2."]


def test_true_false():
    question = content("true_false")  # the right answer is False

    assert grade(question, {"value": False}).fraction == 1.0
    assert grade(question, {"value": False}).feedback == ["Right, it is blue."]
    assert grade(question, {"value": True}).fraction == 0.0
    assert grade(question, {"value": True}).feedback == ["Look up."]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("transformers", 1.0),
        ("  Transformers ", 1.0),  # case and surrounding spaces do not matter
        ("TRANSFORMERS", 1.0),
        ("huggingface", 0.5),  # the wildcard answer hugging*
        ("Hugging Face transformers", 0.5),
        ("torch", 0.0),
        ("transformer", 0.0),
    ],
)
def test_short_answer_case_insensitive_with_wildcards(text, expected):
    assert fraction("short_answer", {"text": text}) == expected


def test_short_answer_case_sensitive_when_set():
    assert fraction("short_answer", {"text": "Transformers"}, case_sensitive=True) == 0.0
    assert fraction("short_answer", {"text": "transformers"}, case_sensitive=True) == 1.0


def test_short_answer_first_match_wins_like_moodle():
    question = content(
        "short_answer",
        answers=[
            {"text": "*", "fraction": 0.1},
            {"text": "rome", "fraction": 1.0},
        ],
    )

    assert grade(question, {"text": "Rome"}).fraction == 0.1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3.14", 1.0),
        ("3.13", 1.0),  # lower edge of 3.14 ± 0.01, inclusive despite binary rounding
        ("3.15", 1.0),  # upper edge
        ("3.1501", 0.5),  # just outside: falls to 3.0 ± 0.5
        ("3,14", 1.0),  # decimal comma
        (3.14, 1.0),
        ("2.5", 0.5),  # edge of the second answer
        ("2.4999", 0.0),  # the catch-all answer
        ("pi", 0.0),
    ],
)
def test_numerical_tolerance_edges(value, expected):
    assert fraction("numerical", {"value": value}) == expected


def test_numerical_feedback_of_matching_answer():
    assert grade(content("numerical"), {"value": "9"}).feedback == ["Way off."]
    assert grade(content("numerical"), {"value": "x"}).feedback == ["That is not a number."]


def test_matching_gives_credit_per_pair():
    # Choices in question order: Reads the input, Writes the output, Attends, Convolves.
    question = content("matching")

    all_right = grade(question, {"matches": {"0": 0, "1": 1, "2": 2}})
    two_of_three = grade(question, {"matches": {"0": 0, "1": 1, "2": 3}})
    one_missing = grade(question, {"matches": {"0": 0}})

    assert all_right.fraction == 1.0
    assert two_of_three.fraction == pytest.approx(0.6666667)
    assert two_of_three.state == "partial"
    assert one_missing.fraction == pytest.approx(0.3333333)


def test_essay_waits_for_an_instructor_unless_blank():
    assert grade(content("essay"), {"text": "Because..."}).fraction is None
    assert grade(content("essay"), {"text": "Because..."}).state == "needs_grading"
    assert grade(content("essay"), {"text": "  "}).fraction == 0.0
    assert grade(content("essay"), None).state == "unanswered"


def test_description_has_no_mark():
    result = grade(content("description"), None)

    assert (result.fraction, result.state) == (None, "info")


@pytest.mark.parametrize("qtype", ["single_choice", "multiple_choice", "numerical", "matching"])
def test_unanswered_scores_zero(qtype):
    assert grade(content(qtype), None).state == "unanswered"
    assert grade(content(qtype), {}).fraction == 0.0


def test_right_answer_summaries():
    assert right_answer(content("single_choice")) == "Rome"
    assert right_answer(content("multiple_choice")) == "2; 3"
    assert right_answer(content("true_false")) == "False"
    assert right_answer(content("short_answer")) == "transformers"
    assert right_answer(content("numerical")) == "3.14 ± 0.01"
    assert right_answer(content("matching")) == (
        "Encoder → Reads the input; Decoder → Writes the output; Head → Attends"
    )


@pytest.mark.parametrize(
    ("method", "expected"),
    [("highest", 9.0), ("average", 6.0), ("first", 4.0), ("last", 5.0)],
)
def test_grading_methods(method, expected):
    assert quiz_grade([4.0, 9.0, 5.0], method) == expected


def test_grading_methods_with_an_attempt_waiting_for_an_essay_mark():
    scores = [None, 6.0, 8.0]

    assert quiz_grade(scores, "first") is None  # waits for the first attempt's mark
    assert quiz_grade(scores, "last") == 8.0
    assert quiz_grade(scores, "highest") == 8.0
    assert quiz_grade(scores, "average") == 7.0
    assert quiz_grade([], "highest") is None
    with pytest.raises(ValueError, match="Unknown grading method"):
        quiz_grade([1.0], "median")


@pytest.mark.parametrize(
    ("value", "shown"), [(100 / 26, 3.8), (12.25, 12.3), (99.95, 100.0), (0.04, 0.0), (None, None)]
)
def test_percentages_are_rounded_once_to_one_decimal_halves_up(value, shown):
    assert round_percentage(value) == shown
