"""quizzes.reports: the results table as CSV, the grade histogram, the problem flag."""

from __future__ import annotations

from quizzes.reports import grade_histogram, is_problem_question, results_csv
from quizzes.selectors import ResultsTable
from quizzes.statistics import QuestionStatistics


def _stat(discrimination_index):
    return QuestionStatistics(
        slot=1,
        count=10,
        max_mark=1.0,
        mean=0.5,
        facility=50.0,
        sd=0.5,
        sd_percent=50.0,
        discrimination_index=discrimination_index,
        discriminative_efficiency=None,
    )


def test_the_csv_has_a_header_then_one_row_per_student_with_crlf():
    table = ResultsTable(columns=["username", "grade"], rows=[["ada", 1.5], ["bob", None]])

    assert results_csv(table) == "username,grade\r\nada,1.5\r\nbob,\r\n"


def test_the_csv_defuses_formulas():
    table = ResultsTable(columns=["username"], rows=[["=cmd()"]])

    assert "'=cmd()" in results_csv(table)


def test_the_histogram_bins_grades_in_tenths_and_leaves_out_ungraded_students():
    table = ResultsTable(
        columns=["username", "percentage"],
        rows=[["a", 0.0], ["b", 9.99], ["c", 55.0], ["d", 100.0], ["e", None]],
    )

    histogram = grade_histogram(table)

    assert histogram["graded"] == 4
    assert histogram["counts"] == [2, 0, 0, 0, 0, 1, 0, 0, 0, 1]
    assert histogram["labels"][0] == "0\u201310%" and histogram["labels"][-1] == "90\u2013100%"


def test_a_question_is_a_problem_below_20_percent_discrimination():
    assert is_problem_question(_stat(19.9))
    assert is_problem_question(_stat(-5.0))
    assert not is_problem_question(_stat(20.0))
    assert not is_problem_question(_stat(None))
