"""The course pages that list the whole class cost the same number of queries for a
30-student and a 300-student course: the instructor's course page with its student x
homework completion grid (whole course and one section), the People page and the API's
member list."""

import pytest
from django.urls import reverse

from tests.builders import LARGE, SMALL, address, class_build, page_queries

pytestmark = pytest.mark.django_db


@pytest.fixture
def classes():
    return [class_build(size, code=f"CW{size}") for size in (SMALL, LARGE)]


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("course-detail", ""),
        ("course-detail", "?section=Tue"),
        ("course-people", ""),
        ("/api/v1/courses/{}/members/", ""),
    ],
)
def test_a_course_list_page_costs_the_same_queries_for_30_and_300_students(
    client, classes, name, query
):
    counts = [
        page_queries(client, klass.instructor, address(name, klass.course.slug) + query)
        for klass in classes
    ]
    assert counts[0] == counts[1], f"{name}{query}: {counts[0]} queries at 30, {counts[1]} at 300"


def test_the_large_people_page_lists_every_student(client, classes):
    klass = classes[1]
    client.force_login(klass.instructor)
    body = client.get(reverse("course-people", args=[klass.course.slug])).content.decode()
    assert sum(s.email in body for s in klass.students) == LARGE
