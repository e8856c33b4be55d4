"""Late policy on worked examples: a percentage of points possible per started day or hour,
never below the minimum; per-student extensions. docs/gradebook.md quotes these."""

from datetime import UTC, datetime, timedelta

import pytest

from gradebook.engine import Category, Cell, Item, LatePolicy, late_periods, student_totals

NOW = datetime(2026, 3, 20, tzinfo=UTC)
DUE = datetime(2026, 3, 1, 23, 59, tzinfo=UTC)
DAILY = Category("hw", "Homework", late=LatePolicy(10, "day", minimum_percent=50))
HOURLY = Category("hw", "Homework", late=LatePolicy(5, "hour"))
ESSAY = Item("essay", "hw", 20, due_at=DUE)


def cell_result(cell, category=DAILY, item=ESSAY):
    totals = student_totals(
        categories=[category], items=[item], cells=[cell], weighted=False, now=NOW
    )
    return totals.cells[item.id], totals


def test_lateness_counts_every_started_period():
    assert late_periods(DUE + timedelta(seconds=1), DUE, "day") == 1
    assert late_periods(DUE + timedelta(days=1, minutes=31), DUE, "day") == 2
    assert late_periods(DUE + timedelta(hours=2, minutes=10), DUE, "hour") == 3
    assert late_periods(DUE, DUE, "day") == 0


def test_each_day_late_takes_a_percentage_of_points_possible():
    submitted = datetime(2026, 3, 3, 0, 30, tzinfo=UTC)  # 1 day 31 minutes late: 2 days

    result, totals = cell_result(Cell("essay", 18, submitted_at=submitted))

    # 2 days * 10 % * 20 points = 4 points off: 18 - 4 = 14 of 20 = 70 %
    assert (result.status, result.late_periods) == ("late", 2)
    assert result.deduction == pytest.approx(4.0)
    assert result.points == pytest.approx(14.0)
    assert totals.current_percent == pytest.approx(70.0)


def test_the_deduction_stops_at_the_minimum_score():
    submitted = DUE + timedelta(days=7)

    result, _ = cell_result(Cell("essay", 18, submitted_at=submitted))

    # 7 days * 10 % * 20 = 14 off would leave 4; the minimum is 50 % of 20 = 10: 8 off, 10 left.
    assert result.deduction == pytest.approx(8.0)
    assert result.points == pytest.approx(10.0)


def test_a_score_already_under_the_minimum_is_not_raised_to_it():
    result, _ = cell_result(Cell("essay", 6, submitted_at=DUE + timedelta(days=3)))

    # 6 < 10 (the minimum): nothing comes off, and the 6 stays 6.
    assert result.deduction == 0.0 and result.points == 6.0


def test_hourly_deductions_round_up_to_whole_hours():
    quiz = Item("quiz", "hw", 10, due_at=DUE)

    result, _ = cell_result(
        Cell("quiz", 10, submitted_at=DUE + timedelta(hours=2, minutes=10)), HOURLY, quiz
    )

    # 2 h 10 min is 3 started hours: 3 * 5 % * 10 = 1.5 off, 10 - 1.5 = 8.5
    assert result.late_periods == 3
    assert result.points == pytest.approx(8.5)


def test_the_deduction_never_goes_below_zero_without_a_minimum():
    result, _ = cell_result(
        Cell("essay", 15, submitted_at=DUE + timedelta(days=30)),
        Category("hw", "Homework", late=LatePolicy(10, "day")),
    )

    # 30 days * 10 % = 300 % of 20 would be 60 off; the score stops at 0.
    assert result.points == 0.0 and result.deduction == 15.0


def test_work_on_time_is_not_late():
    result, _ = cell_result(Cell("essay", 18, submitted_at=DUE))

    assert (result.status, result.deduction, result.points) == ("graded", 0.0, 18.0)


def test_an_extension_is_the_due_date_lateness_counts_from():
    extended = DUE + timedelta(days=3)

    on_time, _ = cell_result(
        Cell("essay", 18, submitted_at=DUE + timedelta(days=2), due_at=extended)
    )
    late, _ = cell_result(
        Cell("essay", 18, submitted_at=extended + timedelta(hours=1), due_at=extended)
    )

    # Two days after the class's due date is on time for this student; one hour past the
    # extension is one started day: 10 % * 20 = 2 off.
    assert on_time.status == "graded" and on_time.points == 18
    assert late.status == "late" and late.points == pytest.approx(16.0)


def test_without_a_policy_late_work_is_marked_but_keeps_its_score():
    result, _ = cell_result(
        Cell("essay", 18, submitted_at=DUE + timedelta(days=2)), Category("hw", "Homework")
    )

    assert (result.status, result.points, result.deduction) == ("late", 18.0, 0.0)


def test_late_provisional_work_is_deducted_and_stays_provisional():
    result, _ = cell_result(
        Cell("essay", 18, submitted_at=DUE + timedelta(hours=3), provisional=True)
    )

    assert result.status == "provisional" and result.points == pytest.approx(16.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"deduct_percent": 10, "per": "week"}, "'day' or 'hour'"),
        ({"deduct_percent": 120, "per": "day"}, "between 0 and 100"),
    ],
)
def test_a_policy_with_a_bad_field_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LatePolicy(**kwargs)
