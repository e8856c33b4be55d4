"""The instructor's gradebook pages cost the same number of queries for a 30-student and a
300-student course (weighted categories, a dropped lowest score, late and excused cells):
the gradebook (whole course, a section), its exports, the objectives heat map, and the API's
gradebook and mastery."""

import pytest

from tests.builders import (
    LARGE,
    SMALL,
    address,
    class_build,
    gradebook_build,
    uneven_query_counts,
)

pytestmark = pytest.mark.django_db

PAGES = [
    ("gradebook", ""),
    ("gradebook", "?section=Mon"),
    ("/courses/{}/gradebook/export/plain.csv", ""),
    ("/courses/{}/gradebook/export/moodle.csv", ""),
    ("gradebook-objectives", ""),
    ("/api/v1/courses/{}/gradebook/", ""),
    ("/api/v1/courses/{}/mastery/", ""),
]


def test_every_gradebook_page_costs_the_same_queries_for_30_and_300_students(client):
    small, large = [class_build(size, code=f"GB{size}") for size in (SMALL, LARGE)]
    for klass in (small, large):
        gradebook_build(klass)
    pages = [
        (
            small.instructor,
            large.instructor,
            [address(name, k.course.slug) + query for k in (small, large)],
        )
        for name, query in PAGES
    ]

    assert uneven_query_counts(client, pages) == {}
    client.force_login(large.instructor)
    body = client.get(address("gradebook", large.course.slug)).content.decode()
    assert sum(s.username in body or s.last_name in body for s in large.students) == LARGE
