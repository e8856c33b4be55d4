"""How long the instructor's quiz results and statistics pages take for a real class: 300
students, a 20-question quiz of mixed types.

    DATABASE_URL=postgres://... .venv/bin/python bench/quiz_pages.py [--students 300]
        [--questions 20] [--repeat 15] [--profile results|statistics]

Builds the class with `tests.builders` (the data the query-count tests use) in a throwaway
database (`bench_quiz_<name>`, created and dropped by this script as the test runner does):
300 students in 3 sections, a quiz with a description, an essay and the auto-graded types
(single and multiple choice, true/false, short answer, numerical, matching), about 90% of
students finished (a fifth of them twice), a few essays unmarked. Then it serves
`/quizzes/<id>/results/` and `/quizzes/<id>/statistics/` to the instructor through Django's
test client: one warm-up request each, then `--repeat` timed requests, and prints the median,
min and max, the query count and the page size. `--profile` prints a pyinstrument (or
cProfile) profile of one more request of that page.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
    override_settings,
    setup_test_environment,
)
from django.urls import reverse  # noqa: E402

from quizzes.models import Attempt  # noqa: E402
from tests.builders import class_build, quiz_build  # noqa: E402

PAGES = ("results", "statistics")


def _profile(client: Client, address: str) -> None:
    try:
        from pyinstrument import Profiler
    except ImportError:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        client.get(address)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
        return
    profiler = Profiler()
    profiler.start()
    client.get(address)
    profiler.stop()
    print(profiler.output_text(unicode=True, color=False))


def _time(client: Client, address: str, repeat: int) -> tuple[list[float], int, int]:
    response = client.get(address)  # warm: templates compiled, connection open
    assert response.status_code == 200, response.status_code
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(address)
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        client.get(address)
    return times, len(queries), len(response.content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", choices=PAGES)
    args = parser.parse_args()

    setup_test_environment()
    # As the test suite: without DEBUG the manifest storage would need `collectstatic` first;
    # static URLs are no part of what is measured.
    plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    override_settings(STORAGES={**settings.STORAGES, "staticfiles": plain}).enable()
    # Its own throwaway database, never the test runner's `test_<name>`.
    connection.settings_dict.setdefault("TEST", {})["NAME"] = (
        f"bench_quiz_{connection.settings_dict['NAME']}"
    )
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        started = time.perf_counter()
        klass = class_build(args.students, seed=args.seed)
        quiz = quiz_build(klass, n_questions=args.questions, seed=args.seed)
        print(
            f"setup: {args.students} students, {args.questions} questions, "
            f"{Attempt.objects.filter(quiz=quiz).count()} finished attempts, "
            f"{time.perf_counter() - started:.1f} s"
        )
        client = Client()
        client.force_login(klass.instructor)
        for page in PAGES:
            address = reverse(f"quiz-{page}", args=[quiz.pk])
            times, queries, size = _time(client, address, args.repeat)
            print(
                f"{page}: median {statistics.median(times):.0f} ms (min {min(times):.0f}, "
                f"max {max(times):.0f}, n={args.repeat}), {queries} queries, "
                f"{size / 1024:.0f} KiB, load {os.getloadavg()[0]:.2f}"
            )
            if args.profile == page:
                _profile(client, address)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
