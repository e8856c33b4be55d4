"""Reports built from what the selectors read: the results table as CSV, the grade
histogram and the item-analysis flag. Plain Python, no queries, shared by the portal and
the API so both show the same numbers."""

from __future__ import annotations

from typing import Any

from core.csv import table_csv
from quizzes.selectors import ResultsTable
from quizzes.statistics import QuestionStatistics

#: Item analysis: a question whose discrimination index (percent) is below this, or negative,
#: does not separate strong from weak students and deserves a look.
DISCRIMINATION_THRESHOLD = 20.0
HISTOGRAM_BINS = 10


def results_csv(table: ResultsTable) -> str:
    """A results table as CSV text (a header row, then one row per student)."""
    return table_csv(table.columns, table.rows)


def grade_histogram(table: ResultsTable) -> dict[str, Any]:
    """How many students' grades fall in each tenth of the maximum (the last bin includes
    100%), from the results table: students without a grade are left out."""
    column = table.columns.index("percentage")
    counts = [0] * HISTOGRAM_BINS
    graded = 0
    for row in table.rows:
        percentage = row[column]
        if percentage is None:
            continue
        graded += 1
        index = min(HISTOGRAM_BINS - 1, max(0, int(percentage // (100 / HISTOGRAM_BINS))))
        counts[index] += 1
    step = 100 // HISTOGRAM_BINS
    labels = [f"{i * step}\u2013{(i + 1) * step}%" for i in range(HISTOGRAM_BINS)]
    return {"labels": labels, "counts": counts, "graded": graded}


def is_problem_question(stat: QuestionStatistics) -> bool:
    """Item analysis: flag a question whose discrimination index is below 20% (or negative)."""
    index = stat.discrimination_index
    return index is not None and index < DISCRIMINATION_THRESHOLD
