"""The course pages that list the whole class cost the same number of queries for a
30-student and a 300-student course: the instructor's course page with its student x
homework completion grid (whole course and one section), the People page and the API's
member list."""

import pytest

from tests.builders import LARGE, SMALL, address, class_build, uneven_query_counts

pytestmark = pytest.mark.django_db

PAGES = [
    ("course-detail", ""),
    ("course-detail", "?section=Tue"),
    ("course-people", ""),
    ("/api/v1/courses/{}/members/", ""),
]


def test_every_course_list_page_costs_the_same_queries_for_30_and_300_students(client):
    small, large = [class_build(size, code=f"CW{size}") for size in (SMALL, LARGE)]
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
    body = client.get(address("course-people", large.course.slug)).content.decode()
    assert sum(s.email in body for s in large.students) == LARGE
