"""The instructor's gradebook page costs the same number of queries for a 30-student and a
300-student course (weighted categories, a dropped lowest score, late and excused cells)."""

import pytest
from django.urls import reverse

from tests.builders import LARGE, SMALL, class_build, gradebook_build, page_queries

pytestmark = pytest.mark.django_db


@pytest.fixture
def classes():
    built = []
    for size in (SMALL, LARGE):
        klass = class_build(size, code=f"GB{size}")
        gradebook_build(klass)
        built.append(klass)
    return built


@pytest.mark.parametrize("query", ["", "?section=Mon"])
def test_the_gradebook_costs_the_same_queries_for_30_and_300_students(client, classes, query):
    counts = [
        page_queries(client, k.instructor, reverse("gradebook", args=[k.course.slug]) + query)
        for k in classes
    ]
    assert counts[0] == counts[1], f"gradebook{query}: {counts[0]} at 30, {counts[1]} at 300"


def test_the_large_gradebook_lists_every_student(client, classes):
    klass = classes[1]
    client.force_login(klass.instructor)
    body = client.get(reverse("gradebook", args=[klass.course.slug])).content.decode()
    assert sum(s.username in body or s.last_name in body for s in klass.students) == LARGE
