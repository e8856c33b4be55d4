"""GIFT export re-imports to the same questions, for every type and the awkward corners."""

import pytest

from quizzes.content import validate_content
from quizzes.gift import export_gift, export_question
from quizzes.parsing import parse_questions
from tests.quizzes.conftest import CONTENT


def round_trip(content: dict, category: str | None = None) -> tuple[dict, str | None]:
    text = export_gift([(validate_content(content), category)])
    [parsed] = parse_questions(text, "gift")
    return parsed.content, parsed.category


@pytest.mark.parametrize("qtype", list(CONTENT))
def test_every_type_round_trips(qtype):
    original = validate_content(CONTENT[qtype]())

    again, _ = round_trip(original)

    assert again == original


@pytest.mark.parametrize(
    "content",
    [
        CONTENT["single_choice"](general_feedback="Rome has been the capital since 1871."),
        CONTENT["multiple_choice"](
            answers=[
                {"text": "a", "fraction": 0.3333333, "feedback": ""},
                {"text": "b", "fraction": 0.3333333, "feedback": ""},
                {"text": "c", "fraction": 0.3333334, "feedback": ""},
                {"text": "d", "fraction": -1.0, "feedback": "never"},
            ]
        ),
        CONTENT["true_false"](correct=True, feedback_true="", feedback_false="Wrong."),
        CONTENT["true_false"](correct=True, feedback_true="Right.", feedback_false=""),
        CONTENT["short_answer"](case_sensitive=True, default_mark=2.5),
        CONTENT["numerical"](
            answers=[
                {"value": -0.000125, "tolerance": 1e-6, "fraction": 1.0, "feedback": ""},
                {"value": 1e20, "tolerance": 0.5, "fraction": 0.25, "feedback": "big"},
            ]
        ),
        CONTENT["essay"](general_feedback="Model answer: attention."),
        CONTENT["single_choice"](
            text="Grant is _____ in Grant's tomb.", name="Missing word in the middle"
        ),
        CONTENT["short_answer"](text="The answer comes last: _____"),
        CONTENT["single_choice"](
            name="Special: {chars} ~ = # \\ all here",
            text="Line one\nline two with a:b, 50% and ::colons::",
            format="html",
            idnumber="sc-1",
            tags=["LO1", "attention"],
        ),
        CONTENT["single_choice"](name="Bracket tags", idnumber="x]1", tags=["t]ag", "a]]b"]),
    ],
    ids=lambda c: c["name"],
)
def test_awkward_content_round_trips(content):
    original = validate_content(content)

    again, _ = round_trip(original)

    assert again == original


def test_categories_are_written_once_per_change_and_read_back():
    items = [
        (validate_content(CONTENT["true_false"](name="a")), "Session 12/Attention"),
        (validate_content(CONTENT["true_false"](name="b")), "Session 12/Attention"),
        (validate_content(CONTENT["true_false"](name="c")), "Session 13"),
    ]

    text = export_gift(items)
    parsed = parse_questions(text, "gift")

    assert text.count("$CATEGORY:") == 2
    assert [(q.content["name"], q.category) for q in parsed] == [
        ("a", "Session 12/Attention"),
        ("b", "Session 12/Attention"),
        ("c", "Session 13"),
    ]


def test_export_reads_like_moodle_gift():
    text = export_question(validate_content(CONTENT["single_choice"]()))

    assert text == "::Capital::Capital of Italy?{\n\t=Rome#Yes.\n\t~Milan#No, Rome.\n\t~Turin\n}"
