"""Drop lowest / highest per category, by percentage, never-drop items kept, one item always
left. docs/gradebook.md quotes these."""

from datetime import UTC, datetime

import pytest

from gradebook.engine import Category, Cell, Item, student_totals

NOW = datetime(2026, 3, 10, tzinfo=UTC)
DUE = datetime(2026, 3, 1, tzinfo=UTC)
QUIZZES = [
    Item("q1", "quiz", 10, due_at=DUE),  # 6 / 10 = 60 %
    Item("q2", "quiz", 10, due_at=DUE),  # 9 / 10 = 90 %
    Item("q3", "quiz", 5, due_at=DUE),  # 4 / 5 = 80 %
    Item("q4", "quiz", 10, due_at=DUE, never_drop=True),  # 2 / 10 = 20 %, the midterm
]
CELLS = [Cell("q1", 6), Cell("q2", 9), Cell("q3", 4), Cell("q4", 2)]


def totals(category, items=QUIZZES, cells=CELLS):
    return student_totals(categories=[category], items=items, cells=cells, weighted=False, now=NOW)


def dropped(result):
    return sorted(item_id for item_id, cell in result.cells.items() if cell.dropped)


def test_drop_lowest_skips_never_drop_items():
    result = totals(Category("quiz", "Quizzes", drop_lowest=1))

    # q4 (20 %) is the lowest but never dropped; q1 (60 %) goes: (9 + 4 + 2) / 25 = 60 %
    assert dropped(result) == ["q1"]
    assert result.current_percent == pytest.approx(60.0)


def test_without_never_drop_the_lowest_goes():
    items = [*QUIZZES[:3], Item("q4", "quiz", 10, due_at=DUE)]

    result = totals(Category("quiz", "Quizzes", drop_lowest=1), items)

    # q4 (20 %) goes: (6 + 9 + 4) / 25 = 76 %
    assert dropped(result) == ["q4"]
    assert result.current_percent == pytest.approx(76.0)


def test_drop_lowest_and_highest_together():
    result = totals(Category("quiz", "Quizzes", drop_lowest=1, drop_highest=1))

    # q1 (60 %) is the lowest droppable, q2 (90 %) the highest: (4 + 2) / 15 = 40 %
    assert dropped(result) == ["q1", "q2"]
    assert result.current_percent == pytest.approx(40.0)


def test_drops_rank_by_percentage_not_points():
    items = [Item("a", "quiz", 5, due_at=DUE), Item("b", "quiz", 10, due_at=DUE)]

    result = totals(Category("quiz", "Quizzes", drop_lowest=1), items, [Cell("a", 4), Cell("b", 7)])

    # a: 4 points = 80 %, b: 7 points = 70 %: b goes though it has more points. 4 / 5 = 80 %
    assert dropped(result) == ["b"]
    assert result.current_percent == pytest.approx(80.0)


def test_at_least_one_item_always_counts():
    items = QUIZZES[:2]

    result = totals(Category("quiz", "Quizzes", drop_lowest=3), items, CELLS[:2])

    # Two items, drop 3: only q1 (60 %) goes, q2 stays: 9 / 10 = 90 %
    assert dropped(result) == ["q1"]
    assert result.current_percent == pytest.approx(90.0)


def test_only_counted_work_is_dropped_so_current_and_final_can_differ():
    items = [*QUIZZES[:3], Item("q5", "quiz", 10, due_at=DUE)]  # q5 missing

    result = totals(Category("quiz", "Quizzes", drop_lowest=1), items, CELLS[:3])

    # Current: q1 (60 %) goes: (9 + 4) / 15 = 86.67 %. Final: missing q5 is 0 %, and goes
    # instead: (6 + 9 + 4) / 25 = 76 %.
    assert result.cells["q1"].dropped and not result.cells["q1"].dropped_in_final
    assert result.cells["q5"].dropped_in_final
    assert result.current_percent == pytest.approx(86.666_667)
    assert result.final_percent == pytest.approx(76.0)


def test_excused_work_is_not_a_drop_candidate():
    cells = [Cell("q1", excused=True), *CELLS[1:]]

    result = totals(Category("quiz", "Quizzes", drop_lowest=1), cells=cells)

    # q1 is excused, so the lowest droppable left is q3 (80 %): (9 + 2) / 20 = 55 %
    assert dropped(result) == ["q3"]
    assert result.current_percent == pytest.approx(55.0)


def test_ties_drop_the_first_listed_item():
    items = [Item("a", "quiz", 10, due_at=DUE), Item("b", "quiz", 10, due_at=DUE)]

    result = totals(Category("quiz", "Quizzes", drop_lowest=1), items, [Cell("a", 5), Cell("b", 5)])

    assert dropped(result) == ["a"]


def test_negative_drop_counts_are_refused():
    with pytest.raises(ValueError, match="cannot be negative"):
        Category("quiz", "Quizzes", drop_lowest=-1)
