"""Aiken import."""

import pytest

from quizzes.parsing import QuestionFileError, parse_questions

AIKEN = """What is the correct answer to this question?
A. Is it this one?
B. Maybe this answer?
C. Possibly this one?
D. Must be this one!
ANSWER: D

Which class loads a tokenizer
for a named model?
A) AutoTokenizer
B) Trainer
ANSWER: A
"""


def test_aiken_questions_are_single_choice_with_the_named_answer_right():
    first, second = parse_questions(AIKEN, "aiken")

    assert first.line == 1
    assert first.content["type"] == "single_choice"
    assert first.content["text"] == "What is the correct answer to this question?"
    assert [a["fraction"] for a in first.content["answers"]] == [0.0, 0.0, 0.0, 1.0]
    assert second.line == 8
    assert second.content["text"] == "Which class loads a tokenizer\nfor a named model?"
    assert [a["text"] for a in second.content["answers"]] == ["AutoTokenizer", "Trainer"]


def test_options_without_a_space_after_the_label_are_read_as_in_moodle():
    source = "Which loads weights?\nA)from_pretrained\nB.save\nANSWER: A"

    [question] = parse_questions(source, "aiken")

    assert [a["text"] for a in question.content["answers"]] == ["from_pretrained", "save"]
    assert [a["fraction"] for a in question.content["answers"]] == [1.0, 0.0]


@pytest.mark.parametrize(
    ("source", "line", "expected"),
    [
        ("Q?\nA. x\nB. y\nANSWER: E\n", 4, "ANSWER E is not one of the options A, B"),
        ("Q?\nA. x\nANSWER: A\n", 1, "at least two options"),
        ("Q?\nA. x\nB. y\n", 1, "no 'ANSWER: <letter>' line"),
        ("Q?\nA. x\nC. y\nANSWER: A\n", 3, "Option C is out of order"),
        ("ANSWER: A\n", 1, "ANSWER without a question"),
        ("Q?\nA. x\nB. y\nforgot the answer line\nANSWER: A", 4, "Text after the options"),
        ("Q?\nA- x\nB- y\nANSWER: A\n", 2, "'A- x' is not an option"),
    ],
)
def test_broken_aiken_names_the_line(source, line, expected):
    with pytest.raises(QuestionFileError) as excinfo:
        parse_questions(source, "aiken")

    [problem] = excinfo.value.problems
    assert problem.line == line
    assert expected in problem.message
