"""Course totals on worked examples: weights, plain points, current vs final, excused, extra
credit, overrides, provisional and unreleased items, letters. docs/gradebook.md quotes these."""

from datetime import UTC, datetime

import pytest

from gradebook.engine import (
    DEFAULT_LETTER_SCHEME,
    Category,
    Cell,
    Item,
    LatePolicy,
    LetterScheme,
    student_totals,
)

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
DUE = datetime(2026, 3, 1, 23, 59, tzinfo=UTC)
LATER = datetime(2026, 3, 20, 23, 59, tzinfo=UTC)

HOMEWORK = Category("hw", "Homework", weight=40)
QUIZZES = Category("quiz", "Quizzes", weight=60)
HW1, HW2 = Item("hw1", "hw", 10, due_at=DUE), Item("hw2", "hw", 10, due_at=DUE)
QUIZ1 = Item("quiz1", "quiz", 20, due_at=DUE)


def totals(items, cells, categories=(HOMEWORK, QUIZZES), weighted=True, **kwargs):
    return student_totals(
        categories=list(categories),
        items=list(items),
        cells=list(cells),
        weighted=weighted,
        now=NOW,
        **kwargs,
    )


def test_weighted_categories_combine_by_weight():
    result = totals([HW1, HW2, QUIZ1], [Cell("hw1", 8), Cell("hw2", 9), Cell("quiz1", 15)])

    # Homework (8 + 9) / 20 = 85 %, Quizzes 15 / 20 = 75 %: 0.40 * 85 + 0.60 * 75 = 34 + 45 = 79
    assert result.categories["hw"].percent == pytest.approx(85.0)
    assert result.categories["quiz"].percent == pytest.approx(75.0)
    assert result.current_percent == pytest.approx(79.0)
    assert result.current_letter == "C"


def test_a_category_with_nothing_counted_gives_its_weight_to_the_others():
    homework, quizzes = Category("hw", "Homework", 30), Category("quiz", "Quizzes", 50)
    labs = Category("lab", "Labs", 20)
    lab1 = Item("lab1", "lab", 10, due_at=LATER)
    cells = [Cell("hw1", 8), Cell("hw2", 9), Cell("quiz1", 15)]

    result = totals([HW1, HW2, QUIZ1, lab1], cells, categories=[homework, quizzes, labs])

    # Labs has nothing graded: current = (0.30 * 85 + 0.50 * 75) / 0.80 = 63 / 0.80 = 78.75
    assert result.categories["lab"].percent is None
    assert result.current_percent == pytest.approx(78.75)
    # Final counts the ungraded lab as 0 %: 25.5 + 37.5 + 0.20 * 0 = 63
    assert result.final_percent == pytest.approx(63.0)


def test_weights_over_100_are_not_scaled_down():
    homework, quizzes = Category("hw", "Homework", 60), Category("quiz", "Quizzes", 60)

    result = totals([HW1, QUIZ1], [Cell("hw1", 10), Cell("quiz1", 10)], [homework, quizzes])

    # 0.60 * 100 + 0.60 * 50 = 90: the extra 20 % of weight acts as extra credit (Canvas).
    assert result.current_percent == pytest.approx(90.0)


def test_nothing_graded_gives_no_current_percent_and_a_final_of_zero():
    result = totals([HW1], [], categories=[HOMEWORK], weighted=False)

    assert result.current_percent is None and result.current_letter is None
    assert result.final_percent == 0.0 and result.final_letter == "F"


def test_a_category_without_a_weight_counts_for_nothing_in_a_weighted_course():
    homework = Category("hw", "Homework")  # weight None

    result = totals([HW1, QUIZ1], [Cell("hw1", 2), Cell("quiz1", 15)], [homework, QUIZZES])

    # Only Quizzes carries weight: 0.60 * 75 / 0.60 = 75 %
    assert result.current_percent == pytest.approx(75.0)


def test_plain_points_add_every_point_regardless_of_category():
    cells = [Cell("hw1", 8), Cell("hw2", 9), Cell("quiz1", 15)]

    result = totals([HW1, HW2, QUIZ1], cells, weighted=False)

    # (8 + 9 + 15) / (10 + 10 + 20) = 32 / 40 = 80 % (weighted it was 79 %)
    assert result.current_percent == pytest.approx(80.0)
    assert result.current_letter == "B"


def test_current_leaves_ungraded_work_out_and_final_counts_it_as_zero():
    later = Item("hw3", "hw", 10, due_at=LATER)  # not due yet, nothing submitted
    waiting = Item("hw4", "hw", 10, due_at=DUE)  # submitted on time, not graded yet
    cells = [Cell("hw1", 8), Cell("hw4", submitted_at=DUE)]

    result = totals([HW1, later, waiting], cells, categories=[HOMEWORK], weighted=False)

    # Current: 8 / 10 = 80 %. Final: (8 + 0 + 0) / 30 = 26.67 %
    assert result.current_percent == pytest.approx(80.0)
    assert result.final_percent == pytest.approx(26.666_667)
    assert result.cells["hw3"].status == "ungraded" and result.cells["hw4"].status == "ungraded"
    assert not result.cells["hw3"].counted and result.cells["hw3"].counted_in_final


def test_missing_work_past_due_is_left_out_of_current_without_a_late_policy():
    result = totals([HW1, HW2], [Cell("hw1", 8)], categories=[HOMEWORK], weighted=False)

    # hw2 was due on 1 March, nothing came in by 10 March: missing. Current 8 / 10 = 80 %,
    # final (8 + 0) / 20 = 40 %.
    assert result.cells["hw2"].status == "missing"
    assert result.current_percent == pytest.approx(80.0)
    assert result.final_percent == pytest.approx(40.0)


def test_missing_work_counts_zero_in_current_too_when_the_policy_says_so():
    homework = Category("hw", "Homework", late=LatePolicy(10, "day", missing_as_zero=True))

    result = totals([HW1, HW2], [Cell("hw1", 8)], categories=[homework], weighted=False)

    # (8 + 0) / 20 = 40 % now and in the final total.
    assert result.cells["hw2"].points == 0.0 and result.cells["hw2"].counted
    assert result.current_percent == pytest.approx(40.0)
    assert result.final_percent == pytest.approx(40.0)


def test_a_policy_without_missing_as_zero_leaves_missing_work_out_of_current():
    homework = Category("hw", "Homework", late=LatePolicy(10, "day", missing_as_zero=False))

    result = totals([HW1, HW2], [Cell("hw1", 8)], categories=[homework], weighted=False)

    assert result.current_percent == pytest.approx(80.0)
    assert result.final_percent == pytest.approx(40.0)


def test_an_extension_moves_the_due_date_for_that_student_only():
    cells = [Cell("hw1", 8), Cell("hw2", due_at=LATER)]

    result = totals([HW1, HW2], cells, categories=[HOMEWORK], weighted=False)

    # hw2 is due on 20 March for this student: not missing on 10 March, only ungraded.
    assert result.cells["hw2"].status == "ungraded"


def test_excused_cells_drop_out_of_both_totals():
    cells = [Cell("hw1", 8), Cell("hw2", excused=True)]

    result = totals([HW1, HW2], cells, categories=[HOMEWORK], weighted=False)

    # 8 / 10 = 80 % now and in the final total: hw2 neither earns nor costs anything.
    assert result.cells["hw2"].status == "excused"
    assert not result.cells["hw2"].counted and not result.cells["hw2"].counted_in_final
    assert result.current_percent == pytest.approx(80.0)
    assert result.final_percent == pytest.approx(80.0)


def test_excused_wins_over_a_score():
    result = totals([HW1], [Cell("hw1", 3, excused=True)], categories=[HOMEWORK])

    assert result.cells["hw1"].status == "excused" and result.current_percent is None


def test_extra_credit_adds_points_earned_but_none_possible():
    bonus = Item("bonus", "hw", 5, extra_credit=True)
    cells = [Cell("hw1", 8), Cell("hw2", 9), Cell("bonus", 3)]

    result = totals([HW1, HW2, bonus], cells, categories=[HOMEWORK], weighted=False)

    # (8 + 9 + 3) / (10 + 10) = 20 / 20 = 100 %; with full marks it can pass 100 %.
    assert result.categories["hw"].possible == 20.0
    assert result.current_percent == pytest.approx(100.0)
    full = totals(
        [HW1, HW2, bonus],
        [Cell("hw1", 10), Cell("hw2", 10), Cell("bonus", 5)],
        categories=[HOMEWORK],
        weighted=False,
    )
    assert full.current_percent == pytest.approx(125.0)  # (10 + 10 + 5) / 20
    assert full.current_letter == "A"


def test_ungraded_extra_credit_costs_nothing_in_the_final_total():
    bonus = Item("bonus", "hw", 5, extra_credit=True, due_at=DUE)

    result = totals([HW1, bonus], [Cell("hw1", 8)], categories=[HOMEWORK], weighted=False)

    assert result.final_percent == pytest.approx(80.0)


def test_an_override_replaces_the_computed_score_and_its_late_deduction():
    homework = Category("hw", "Homework", weight=100, late=LatePolicy(10, "day"))
    late = datetime(2026, 3, 3, 0, 30, tzinfo=UTC)

    plain = totals([HW1], [Cell("hw1", 9, submitted_at=late)], categories=[homework])
    result = totals([HW1], [Cell("hw1", 9, submitted_at=late, override=9.5)], categories=[homework])

    # Computed: 9 - 2 days * 10 % * 10 = 7. The instructor's 9.5 stands as entered.
    assert plain.cells["hw1"].points == pytest.approx(7.0)
    assert result.cells["hw1"].points == 9.5 and result.cells["hw1"].deduction == 0.0
    assert result.cells["hw1"].overridden and result.cells["hw1"].status == "graded"
    assert result.current_percent == pytest.approx(95.0)


def test_an_override_counts_even_where_nothing_was_submitted():
    result = totals(
        [HW1, HW2], [Cell("hw1", 8), Cell("hw2", override=6)], categories=[HOMEWORK], weighted=False
    )

    # (8 + 6) / 20 = 70 %
    assert result.current_percent == pytest.approx(70.0)


def test_provisional_scores_count_and_say_so():
    lab = Item("lab1", "hw", 10, due_at=LATER)

    result = totals(
        [HW1, lab],
        [Cell("hw1", 8), Cell("lab1", 6, provisional=True)],
        categories=[HOMEWORK],
        weighted=False,
    )

    # (8 + 6) / 20 = 70 %, and lab1 is marked provisional so the page can say so.
    assert result.cells["lab1"].status == "provisional"
    assert result.current_percent == pytest.approx(70.0)


class TestUnreleasedItems:
    HIDDEN = Item("quiz2", "quiz", 20, due_at=DUE, released=False)
    CELLS = [Cell("hw1", 8), Cell("hw2", 9), Cell("quiz1", 15), Cell("quiz2", 4)]

    def test_the_students_view_leaves_them_out_of_every_total(self):
        result = totals([HW1, HW2, QUIZ1, self.HIDDEN], self.CELLS)

        # Quizzes stays 15 / 20 = 75 %, the course 79 % as if quiz2 did not exist.
        assert result.categories["quiz"].percent == pytest.approx(75.0)
        assert result.current_percent == pytest.approx(79.0)
        assert result.final_percent == pytest.approx(79.0)
        assert not result.cells["quiz2"].counted and not result.cells["quiz2"].released

    def test_the_instructors_view_counts_them(self):
        result = totals([HW1, HW2, QUIZ1, self.HIDDEN], self.CELLS, include_unreleased=True)

        # Quizzes (15 + 4) / 40 = 47.5 %: 0.40 * 85 + 0.60 * 47.5 = 34 + 28.5 = 62.5
        assert result.current_percent == pytest.approx(62.5)
        assert result.cells["quiz2"].points == 4 and result.cells["quiz2"].counted

    def test_a_hidden_score_never_decides_a_drop_the_student_sees(self):
        quizzes = Category("quiz", "Quizzes", weight=60, drop_lowest=1)
        quiz3 = Item("quiz3", "quiz", 20, due_at=DUE)
        cells = [*self.CELLS, Cell("quiz3", 18)]

        result = totals([HW1, HW2, QUIZ1, self.HIDDEN, quiz3], cells, [HOMEWORK, quizzes])

        # Visible quizzes 15 and 18: the 15 is dropped, not the hidden 4.
        assert result.cells["quiz1"].dropped and not result.cells["quiz2"].dropped
        assert result.categories["quiz"].percent == pytest.approx(90.0)


def test_an_item_in_an_unknown_category_is_a_clear_error():
    with pytest.raises(ValueError, match="names category 'exam'"):
        totals([Item("x", "exam", 10)], [])


class TestLetters:
    @pytest.mark.parametrize(
        ("percent", "letter"),
        [
            (100, "A"),
            (90, "A"),
            (89.99, "B"),
            (80, "B"),
            (79.0, "C"),
            (60, "D"),
            (59.9, "F"),
            (0, "F"),
            (125, "A"),
        ],
    )
    def test_the_default_scheme_gives_the_first_letter_whose_cut_off_is_reached(
        self, percent, letter
    ):
        assert DEFAULT_LETTER_SCHEME.letter(percent) == letter

    def test_float_noise_under_a_cut_off_does_not_cost_a_letter(self):
        # 0.1 + 0.2 + ... sums land a hair under the exact value; 89.9999999 is shown as 90.00.
        assert DEFAULT_LETTER_SCHEME.letter(89.999_999_9) == "A"

    def test_a_custom_scheme_is_used_for_both_letters(self):
        scheme = LetterScheme((("Pass", 50.0), ("Fail", 0.0)))

        result = totals([HW1, HW2], [Cell("hw1", 8)], categories=[HOMEWORK], scheme=scheme)

        # Current 80 % passes, final 40 % fails.
        assert (result.current_letter, result.final_letter) == ("Pass", "Fail")

    @pytest.mark.parametrize(
        "cutoffs",
        [(("A", 90.0), ("B", 95.0), ("F", 0.0)), (("A", 90.0), ("B", 80.0)), ()],
    )
    def test_cut_offs_out_of_order_or_without_a_zero_are_refused(self, cutoffs):
        with pytest.raises(ValueError):
            LetterScheme(cutoffs)
