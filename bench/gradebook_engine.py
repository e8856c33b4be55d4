"""How long the gradebook engine takes for a whole course: 300 students x 60 items.

    .venv/bin/python bench/gradebook_engine.py [--students 300] [--items 60] [--repeat 5]

Seeded synthetic course: 4 weighted categories (one with drop lowest 2 and a never-drop item,
two with late policies), 60 items half past due, and cells mixing on-time, late, missing,
ungraded, excused, overridden and provisional work. Each repeat computes every student's
totals twice (the student's view and the instructor's), as a recomputation of the course does.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gradebook.engine import Category, Cell, Item, LatePolicy, student_totals

NOW = datetime(2026, 3, 10, tzinfo=UTC)


def course(n_items: int, rng: random.Random) -> tuple[list[Category], list[Item]]:
    categories = [
        Category("hw", "Homework", weight=20, drop_lowest=2, late=LatePolicy(10, "day", 50)),
        Category("quiz", "Quizzes", weight=30, drop_lowest=1),
        Category("lab", "Labs", weight=30, late=LatePolicy(5, "hour", 0, False)),
        Category("exam", "Exams", weight=20),
    ]
    items = [
        Item(
            f"item{index}",
            categories[index % 4].id,
            rng.choice([5, 10, 20, 100]),
            due_at=NOW + timedelta(days=rng.randint(-30, 30)),
            never_drop=index == 0,
            extra_credit=index == n_items - 1,
            released=index % 17 != 0,
        )
        for index in range(n_items)
    ]
    return categories, items


def student_cells(items: list[Item], rng: random.Random) -> list[Cell]:
    cells = []
    for item in items:
        roll = rng.random()
        score = round(rng.uniform(0, item.points_possible), 1)
        if roll < 0.6:
            cells.append(Cell(item.id, score, submitted_at=item.due_at - timedelta(hours=1)))
        elif roll < 0.75:
            late = item.due_at + timedelta(hours=rng.randint(1, 90))
            cells.append(Cell(item.id, score, submitted_at=late))
        elif roll < 0.8:
            cells.append(Cell(item.id, excused=True))
        elif roll < 0.85:
            cells.append(Cell(item.id, score, override=score + 0.5))
        elif roll < 0.9:
            cells.append(Cell(item.id, score, provisional=True))
        # else no cell: missing or not due yet
    return cells


def run(students: int, n_items: int, repeat: int) -> None:
    rng = random.Random(12)
    categories, items = course(n_items, rng)
    roster = [student_cells(items, rng) for _ in range(students)]
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        for cells in roster:
            for include_unreleased in (False, True):
                student_totals(
                    categories=categories,
                    items=items,
                    cells=cells,
                    weighted=True,
                    now=NOW,
                    include_unreleased=include_unreleased,
                )
        timings.append(time.perf_counter() - start)
    per_student = min(timings) / students / 2 * 1e6
    print(f"python {sys.version.split()[0]}, {students} students x {n_items} items, both views")
    best, median = min(timings) * 1000, statistics.median(timings) * 1000
    print(f"course: best {best:.1f} ms, median {median:.1f} ms over {repeat} repeats")
    print(f"one student's totals (one view): {per_student:.0f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--items", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    run(args.students, args.items, args.repeat)


if __name__ == "__main__":
    main()
