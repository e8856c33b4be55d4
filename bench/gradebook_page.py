"""How long the instructor's gradebook page takes for a real course: 300 students x 60 items.

    DATABASE_URL=postgres://... .venv/bin/python bench/gradebook_page.py [--students 300]
        [--items 60] [--repeat 15] [--profile]

Builds a seeded course in a throwaway database (Django's test database for DATABASE_URL,
created and destroyed by this script, like the test runner does): 4 weighted categories (drop
lowest, late policies), 60 manual items, 300 students in 3 sections, cells mixing on-time,
late, missing, excused and overridden work, then computes every student's stored totals once
(`gradebook_course_refresh`). Then it serves `/courses/<code>/gradebook/` to the instructor
through Django's test client: one warm-up request, then `--repeat` timed requests, and
prints the median, min and max, the query count and the page size. `--profile` prints a
pyinstrument (or cProfile) profile of one more request.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
    override_settings,
    setup_test_environment,
)
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from core.actors import SYSTEM  # noqa: E402
from courseware.models import Course, Membership  # noqa: E402
from gradebook import services  # noqa: E402
from gradebook.models import GradeCategory, GradeCell, GradeItem  # noqa: E402

CATEGORIES = (
    # name, weight, drop lowest, late % per day
    ("Homework", 20.0, 2, 10.0),
    ("Quizzes", 30.0, 1, None),
    ("Labs", 30.0, 0, 5.0),
    ("Exams", 20.0, 0, None),
)


def build(n_students: int, n_items: int, seed: int) -> tuple[Course, object]:
    """The course, its instructor and a full grid, written with bulk_create."""
    rng = random.Random(seed)
    now = timezone.now()
    User = get_user_model()
    course = Course.objects.create(code="BENCH101", slug="bench101", title="Gradebook bench")
    instructor = User.objects.create_user("instructor", "instructor@example.edu", "x")
    Membership.objects.create(course=course, user=instructor, role=Membership.Role.INSTRUCTOR)
    students = User.objects.bulk_create(
        User(
            username=f"s{n:04d}",
            first_name=f"First{n}",
            last_name=f"Last{rng.randint(0, 999):03d}",
            email=f"s{n:04d}@example.edu",
        )
        for n in range(n_students)
    )
    Membership.objects.bulk_create(
        Membership(course=course, user=s, role=Membership.Role.STUDENT, section=f"T{n % 3}")
        for n, s in enumerate(students)
    )
    services.gradebook_settings_update(actor=SYSTEM, course=course, weighted=True)
    GradeCategory.objects.filter(course=course).delete()
    categories = [
        services.grade_category_save(
            actor=SYSTEM,
            course=course,
            name=name,
            weight=weight,
            drop_lowest=drop,
            late_deduct_percent=late,
            position=position,
        )
        for position, (name, weight, drop, late) in enumerate(CATEGORIES)
    ]
    items = GradeItem.objects.bulk_create(
        GradeItem(
            course=course,
            kind=GradeItem.Kind.MANUAL,
            title=f"Item {n + 1}",
            position=n,
            category=categories[n % len(categories)],
            points_possible=rng.choice([5.0, 10.0, 20.0, 100.0]),
            points_set=True,
            due_at=now + timedelta(days=rng.randint(-30, 30)),
            released=rng.random() < 0.8,
            never_drop=n == 0,
        )
        for n in range(n_items)
    )
    cells = []
    for student in students:
        for item in items:
            roll = rng.random()
            if roll < 0.08:
                continue  # no cell yet: missing or not due
            late = item.due_at + timedelta(hours=rng.randint(1, 72)) if roll < 0.2 else None
            cells.append(
                GradeCell(
                    item=item,
                    student=student,
                    score=round(rng.uniform(0, item.points_possible), 1),
                    submitted_at=late or item.due_at - timedelta(hours=1),
                    excused=roll > 0.98,
                    override=item.points_possible if 0.96 < roll <= 0.98 else None,
                    override_reason="bench" if 0.96 < roll <= 0.98 else "",
                )
            )
    GradeCell.objects.bulk_create(cells, batch_size=5000)
    services.gradebook_course_refresh(course=course)
    return course, instructor


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--items", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    setup_test_environment()
    # As the test suite: without DEBUG the manifest storage would need `collectstatic` first;
    # static URLs are no part of what is measured.
    plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    override_settings(STORAGES={**settings.STORAGES, "staticfiles": plain}).enable()
    # Its own throwaway database, never the test runner's `test_<name>`.
    connection.settings_dict.setdefault("TEST", {})["NAME"] = (
        f"bench_gradebook_{connection.settings_dict['NAME']}"
    )
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        started = time.perf_counter()
        course, instructor = build(args.students, args.items, args.seed)
        print(
            f"setup: {args.students} students x {args.items} items, "
            f"{GradeCell.objects.filter(item__course=course).count()} cells, "
            f"{time.perf_counter() - started:.1f} s"
        )
        client = Client()
        client.force_login(instructor)
        address = reverse("gradebook", kwargs={"code": course.slug})
        response = client.get(address)  # warm: templates compiled, connection open
        assert response.status_code == 200, response.status_code
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            response = client.get(address)
            times.append((time.perf_counter() - started) * 1000)
        with CaptureQueriesContext(connection) as queries:
            client.get(address)
        print(
            f"page: median {statistics.median(times):.0f} ms (min {min(times):.0f}, "
            f"max {max(times):.0f}, n={args.repeat}), {len(queries)} queries, "
            f"{len(response.content) / 1024:.0f} KiB, load {os.getloadavg()[0]:.2f}"
        )
        if args.profile:
            _profile(client, address)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
