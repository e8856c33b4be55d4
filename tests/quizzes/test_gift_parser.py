"""The GIFT parser on every grammar branch Moodle documents, and on broken input."""

import pytest

from quizzes.parsing import QuestionFileError, parse_questions


def parse(source: str):
    return parse_questions(source, "gift")


def one(source: str) -> dict:
    questions = parse(source)
    assert len(questions) == 1
    return questions[0].content


# --- Question types -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("block", "correct"), [("{T}", True), ("{TRUE}", True), ("{F}", False), ("{FALSE}", False)]
)
def test_true_false_keywords(block, correct):
    content = one(f"Grant was buried in a tomb in New York City.{block}")

    assert content["type"] == "true_false"
    assert content["correct"] is correct


def test_true_false_feedback_is_wrong_then_right():
    true_q = one("::Q1:: 1+1=2 {T#You got it wrong#Well done}")
    false_q = one("The sun is cold.{FALSE#It is hot, you said true#Right, it is hot}")

    assert true_q["text"] == "1+1=2"  # an '=' outside the answer block is plain text
    assert true_q["feedback_false"] == "You got it wrong"
    assert true_q["feedback_true"] == "Well done"
    assert false_q["feedback_true"] == "It is hot, you said true"
    assert false_q["feedback_false"] == "Right, it is hot"


def test_single_choice_with_per_answer_feedback():
    content = one(
        "::Q2:: What's between orange and green in the spectrum?\n"
        "{ =yellow # right; good! ~red # wrong, it's yellow ~blue # wrong, it's yellow }"
    )

    assert content["type"] == "single_choice"
    assert content["name"] == "Q2"
    assert [(a["text"], a["fraction"], a["feedback"]) for a in content["answers"]] == [
        ("yellow", 1.0, "right; good!"),
        ("red", 0.0, "wrong, it's yellow"),
        ("blue", 0.0, "wrong, it's yellow"),
    ]


def test_weights_without_equals_make_multiple_choice_with_negative_weights():
    content = one(
        "What two people are entombed in Grant's tomb? {\n"
        "   ~%-100%No one\n"
        "   ~%50%Grant\n"
        "   ~%50%Grant's wife\n"
        "   ~%-100%Grant's father\n"
        "}"
    )

    assert content["type"] == "multiple_choice"
    assert [a["fraction"] for a in content["answers"]] == [-1.0, 0.5, 0.5, -1.0]


def test_equals_with_partial_weights_stays_single_choice():
    content = one("Which is right? { =correct ~wrong#no ~%50%half right####General feedback }")

    assert content["type"] == "single_choice"
    assert [a["fraction"] for a in content["answers"]] == [1.0, 0.0, 0.5]
    assert content["answers"][1]["feedback"] == "no"
    assert content["general_feedback"] == "General feedback"


def test_weights_near_a_moodle_grade_option_are_stored_as_that_option():
    # Moodle's match_grade_options: 33.33333% is one third, so three of them make exactly 1.
    content = one("Pick thirds {~%33.33333%a ~%33.33333%b ~%33.33333%c ~%-16.66667%d}")

    fractions = [a["fraction"] for a in content["answers"]]
    assert fractions == [1 / 3, 1 / 3, 1 / 3, -1 / 6]
    assert sum(fractions[:3]) == 1.0


def test_other_decimal_weights_are_kept_to_seven_places():
    content = one("Pick {~%12.345678%a ~%87.654322%b ~c}")

    assert [a["fraction"] for a in content["answers"]] == [0.1234568, 0.8765432, 0.0]


def test_short_answer_with_several_accepted_answers_and_weights():
    content = one("Who's buried in Grant's tomb?{=no one =nobody =%50%Grant#Half: he is entombed}")

    assert content["type"] == "short_answer"
    assert [(a["text"], a["fraction"]) for a in content["answers"]] == [
        ("no one", 1.0),
        ("nobody", 1.0),
        ("Grant", 0.5),
    ]
    assert content["answers"][2]["feedback"] == "Half: he is entombed"
    assert content["case_sensitive"] is False


def test_missing_word_choice_puts_a_blank_where_the_block_was():
    content = one("Grant is {~buried =entombed ~living} in Grant's tomb.")

    assert content["type"] == "single_choice"
    assert content["text"] == "Grant is _____ in Grant's tomb."


def test_missing_word_short_answer():
    content = one("::Q3:: Two plus {=two =2} equals four.")

    assert content["type"] == "short_answer"
    assert content["text"] == "Two plus _____ equals four."


def test_numerical_value_and_tolerance():
    content = one("When was Ulysses S. Grant born?{#1822:5}")

    assert content["type"] == "numerical"
    assert content["answers"] == [
        {"value": 1822.0, "tolerance": 5.0, "fraction": 1.0, "feedback": ""}
    ]


def test_numerical_range_becomes_value_and_tolerance():
    content = one("::Q6:: What is a number from 1 to 5? {#1..5}")

    assert content["answers"][0]["value"] == 3.0
    assert content["answers"][0]["tolerance"] == 2.0


def test_numerical_exact_value_and_negative_numbers():
    assert one("Zero minus two? {#-2}")["answers"][0] == {
        "value": -2.0,
        "tolerance": 0.0,
        "fraction": 1.0,
        "feedback": "",
    }
    assert one("Between -5 and 5? {#-5..5}")["answers"][0]["value"] == 0.0


def test_numerical_multiple_answers_partial_credit_and_other_feedback():
    content = one(
        "::Q7:: When was Ulysses S. Grant born? {#\n"
        "    =1822:0      # Correct! Full credit.\n"
        "    =%50%1822:2  # He was born in 1822. Half credit for being close.\n"
        "    ~#Not even close.\n"
        "}"
    )

    assert content["answers"] == [
        {"value": 1822.0, "tolerance": 0.0, "fraction": 1.0, "feedback": "Correct! Full credit."},
        {
            "value": 1822.0,
            "tolerance": 2.0,
            "fraction": 0.5,
            "feedback": "He was born in 1822. Half credit for being close.",
        },
        {"value": None, "tolerance": 0.0, "fraction": 0.0, "feedback": "Not even close."},
    ]


def test_numerical_inline_multi_answer_form():
    content = one("Pick one {#=1:0 =%50%1:2}")

    assert [(a["value"], a["tolerance"], a["fraction"]) for a in content["answers"]] == [
        (1.0, 0.0, 1.0),
        (1.0, 2.0, 0.5),
    ]


def test_matching_pairs_and_distractors():
    content = one(
        "Match the countries with their capitals. {\n"
        "   =Canada -> Ottawa\n"
        "   =Italy  -> Rome\n"
        "   =Japan  -> Tokyo\n"
        "   = -> Madrid\n"
        "   }"
    )

    assert content["type"] == "matching"
    assert content["pairs"] == [
        {"question": "Canada", "answer": "Ottawa"},
        {"question": "Italy", "answer": "Rome"},
        {"question": "Japan", "answer": "Tokyo"},
        {"question": "", "answer": "Madrid"},
    ]


def test_empty_block_is_an_essay_and_may_carry_general_feedback():
    assert one("::Q8:: How are you? {}")["type"] == "essay"
    content = one("Explain attention.{####Mention every word seeing every other word.}")

    assert content["type"] == "essay"
    assert content["general_feedback"] == "Mention every word seeing every other word."


def test_no_block_is_a_description_worth_no_marks():
    content = one("::Intro::You will now answer questions on attention.")

    assert content["type"] == "description"
    assert content["name"] == "Intro"
    assert content["text"] == "You will now answer questions on attention."
    assert content["default_mark"] == 0.0


# --- Text, titles, formats, comments, categories, escapes ----------------------------------


def test_untitled_question_is_named_after_its_text():
    content = one("What does the encoder of a Transformer produce?{=a representation}")

    assert content["name"] == "What does the encoder of a Transformer produce?"


@pytest.mark.parametrize("fmt", ["html", "markdown", "plain", "moodle"])
def test_format_prefix_after_title(fmt):
    content = one(f"::Fmt::[{fmt}]Some *text* <b>here</b>{{T}}")

    assert content["format"] == fmt
    assert content["text"] == "Some *text* <b>here</b>"


def test_unknown_format_prefix_stays_in_the_text():
    content = one("[latex]E = mc^2 is true.{T}")

    assert content["format"] == "moodle"
    assert content["text"] == "[latex]E = mc^2 is true."


def test_comments_are_ignored_even_inside_a_question():
    questions = parse(
        "// A comment before the first question\n"
        "::A:: First {\n"
        "// a comment between answers\n"
        "=yes ~no}\n"
        "\n"
        "// a block that is only a comment\n"
        "\n"
        "::B:: Second {T}\n"
    )

    assert [q.content["name"] for q in questions] == ["A", "B"]
    assert [a["text"] for a in questions[0].content["answers"]] == ["yes", "no"]
    assert [q.line for q in questions] == [2, 8]


def test_blank_lines_separate_questions_and_multiline_text_is_kept():
    questions = parse("First line\nsecond line {T}\n\n\n\nNext {F}")

    assert [q.content["text"] for q in questions] == ["First line\nsecond line", "Next"]


def test_category_lines_apply_to_the_questions_after_them():
    questions = parse(
        "Before any category {T}\n"
        "\n"
        "$CATEGORY: $course$/top/Session 12/Attention\n"
        "\n"
        "In the category {T}\n"
        "\n"
        "$CATEGORY: Session 12/Tools\n"
        "Directly after the line {T}\n"
    )

    assert [q.category for q in questions] == [None, "Session 12/Attention", "Session 12/Tools"]


def test_escaped_special_characters():
    content = one(
        r"::Esc\:aped:: a\:b \#c \=d \{e\} \~f back\\slash line\nbreak"
        r"{=x\=1#fb \{ok\} ~y\~z}"
    )

    assert content["name"] == "Esc:aped"
    assert content["text"] == "a:b #c =d {e} ~f back\\slash line\nbreak"
    assert [a["text"] for a in content["answers"]] == ["x=1", "y~z"]
    assert content["answers"][0]["feedback"] == "fb {ok}"


def test_id_tags_mark_and_case_in_comment_lines():
    content = one(
        "// [id:q-17] [tag:LO2] [tag:attention] [mark:2.5] [case-sensitive]\n"
        "::Case:: Name the class {=AutoTokenizer}"
    )

    assert content["idnumber"] == "q-17"
    assert content["tags"] == ["LO2", "attention"]
    assert content["default_mark"] == 2.5
    assert content["case_sensitive"] is True


def test_an_escaped_bracket_inside_a_tag_is_part_of_the_tag():
    # Moodle's qformat_gift tests expect the tag t]ag from [tag:t\\]ag].
    content = one("// [tag:t\\]ag] [id:a\\]b]\n::Tagged:: Pick {=yes ~no}")

    assert content["tags"] == ["t]ag"]
    assert content["idnumber"] == "a]b"


def test_windows_line_endings_and_byte_order_mark():
    questions = parse("\ufeff::A:: One {T}\r\n\r\n::B:: Two {F}\r\n")

    assert [q.content["name"] for q in questions] == ["A", "B"]


# --- Broken input: every problem names its line, and the file is rejected whole -----------


def problems(source: str) -> list[tuple[int, str]]:
    with pytest.raises(QuestionFileError) as excinfo:
        parse(source)
    return [(p.line, p.message) for p in excinfo.value.problems]


def test_unclosed_brace_names_its_line():
    [(line, message)] = problems("Fine {T}\n\n::Broken::\nWhich one?\n{=a ~b\n\nNext {T}")

    assert line == 5
    assert "'{' is not closed" in message


def test_closing_brace_without_opening():
    [(line, message)] = problems("Oops } here {T}")

    assert line == 1
    assert "'}' without an opening '{'" in message


def test_second_answer_block_is_reported():
    [(line, message)] = problems("One {T}\nTwo {F}")

    assert line == 2
    assert "A second answer block" in message


def test_brace_inside_block():
    [(line, message)] = problems("Q {=a {b}")

    assert line == 1
    assert "'{' inside the answer block" in message


def test_unclosed_title():
    [(line, message)] = problems("\n\n::No end to this title {T}")

    assert line == 3
    assert "no closing '::'" in message


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ("{~%abc%x ~y}", "%abc% is not a weight"),
        ("{~%150%x ~y}", "outside -100..100"),
        ("{#abc}", "'abc' is not a number"),
        ("{#5..1}", "runs backwards"),
        ("{#1:-2}", "cannot be negative"),
        ("{=a -> b =c}", "'=item -> match'"),
        ("{=only -> one}", "at least two pairs"),
        ("{~a ~b}", "positive weights"),
        ("{~%30%a ~%30%b ~c}", "add up to 60%"),
        ("{=}", "An answer is empty"),
    ],
)
def test_bad_answer_blocks(block, expected):
    [(line, message)] = problems(f"\n::Q:: Question text {block}")

    assert line == 2
    assert expected in message


def test_error_line_points_inside_a_multiline_block():
    [(line, message)] = problems("::Q:: Pick {\n  ~%50%a\n  ~%x%b\n  ~%50%c\n}")

    assert line == 3
    assert "%x% is not a weight" in message


def test_every_problem_in_the_file_is_reported_at_once():
    with pytest.raises(QuestionFileError) as excinfo:
        parse("Good {T}\n\nBad {#x}\n\nAlso fine {F}\n\nBad too {=a")
    error = excinfo.value

    assert [p.line for p in error.problems] == [3, 7]
    assert error.code == "invalid_question_file"
    assert error.message.startswith("Line 3: ")
    assert error.extra["errors"][1]["line"] == 7


def test_a_file_without_questions_is_an_error():
    assert problems("// only a comment\n\n$CATEGORY: X\n") == [(1, "The file has no questions.")]


def test_bad_mark_in_comment():
    [(line, message)] = problems("Q {T}\n\n// [mark:lots]\nQ2 {T}")

    assert line == 3
    assert "[mark:lots] is not a number" in message
