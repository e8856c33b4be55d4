"""How long a student's grade-changing writes take on the server: a homework tick and a quiz
submit, in a demo course of 300 students whose gradebook and mastery pages have been opened.

    DATABASE_URL=postgres://... .venv/bin/python bench/student_writes.py [--students 300]
        [--repeat 15] [--profile]

Builds the load benchmark's data (bench/load/fixture.py: the demo course, the students, a
20-question timed quiz) in a throwaway database (Django's test database for DATABASE_URL,
created and destroyed by this script), opens the instructor's gradebook and mastery views
once (so the grade events have stored results to keep up to date, as on a real course), then
serves through Django's test client, each as a different student:

- `POST /homework/<task>/completion/` (HTMX), `--repeat` times;
- `POST /quizzes/attempts/<id>/submit/` after an (untimed) start, `--repeat` times.

It prints the median, min and max server time and the query count of each (on-commit work
included: the refresh request and the task's message to the broker), then the same for the
student refresh task those writes queue (`gradebook.refresh.refresh_request_run`, what the
worker runs). `--profile` prints a cProfile profile of one more tick and submit, `--sql` one
tick's queries. CELERY_BROKER_URL should point at a Redis db of your own (or leave it unset:
the filesystem broker); no worker is needed.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from bench.load import fixture  # noqa: E402
from courseware.models import Course  # noqa: E402
from gradebook import mastery, refresh, services  # noqa: E402


def _timed(client: Client, path: str, data: dict, headers: dict, expect: int):
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.post(path, data, headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == expect, (path, response.status_code)
    return elapsed, len(queries)


def _line(name: str, times: list[float], counts: list[int]) -> str:
    return (
        f"{name}: median {statistics.median(times):.1f} ms (min {min(times):.1f}, "
        f"max {max(times):.1f}, n={len(times)}), queries {min(counts)}-{max(counts)}"
    )


def _profile(call) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    call()
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sql", action="store_true", help="print one tick's queries")
    args = parser.parse_args()

    setup_test_environment()
    connection.settings_dict.setdefault("TEST", {})["NAME"] = (
        f"bench_writes_{connection.settings_dict['NAME']}"
    )
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        started = time.perf_counter()
        plan = fixture.build(quiz_takers=args.students, browsers=0, uploaders=0)
        course = Course.objects.get(slug=plan["course_slug"])
        services.gradebook_ensure_fresh(course=course)
        mastery.mastery_ensure_fresh(course=course)
        print(f"setup: {args.students} students, {time.perf_counter() - started:.1f} s")
        users = list(
            get_user_model().objects.filter(username__in=plan["users"]["quiz"]).order_by("pk")
        )
        htmx = {"HX-Request": "true"}
        task = plan["homework_task_ids"][0]
        quiz = plan["quiz_id"]

        def tick(user) -> tuple[float, int]:
            client = Client()
            client.force_login(user)
            return _timed(client, f"/homework/{task}/completion/", {"done": "1"}, htmx, 200)

        def submit(user) -> tuple[float, int]:
            client = Client()
            client.force_login(user)
            response = client.post(f"/quizzes/{quiz}/start/")
            assert response.status_code == 302, response.status_code
            attempt = response["Location"].rstrip("/").rsplit("/", 1)[-1]
            return _timed(client, f"/quizzes/attempts/{attempt}/submit/", {}, {}, 302)

        tick(users[-1])  # warm: templates compiled, connection open
        submit(users[-1])
        for name, call in (("homework tick", tick), ("quiz submit", submit)):
            runs = [call(user) for user in users[: args.repeat]]
            print(_line(name, [t for t, _ in runs], [q for _, q in runs]))
        # The worker's side: the refresh task each of those writes queued (no worker runs
        # here; the broker just keeps the messages), run the way the task runs it.
        times, counts = [], []
        for user in users[: args.repeat]:
            version = refresh.refresh_request_add(course_id=course.pk, student_id=user.pk)
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                refresh.refresh_request_run(
                    course_id=course.pk, student_id=user.pk, version=version
                )
                times.append((time.perf_counter() - started) * 1000)
            counts.append(len(queries))
        print(_line("refresh task (worker)", times, counts))
        print(f"load {os.getloadavg()[0]:.2f}")
        if args.sql:
            client = Client()
            client.force_login(users[args.repeat + 1])
            with CaptureQueriesContext(connection) as queries:
                client.post(f"/homework/{task}/completion/", {"done": "1"}, headers=htmx)
            for query in queries:
                print(f"{query['time']}  {query['sql'][:300]}")
        if args.profile:
            _profile(lambda: tick(users[args.repeat]))
            _profile(lambda: submit(users[args.repeat]))
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
