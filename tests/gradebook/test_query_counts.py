"""The instructor's gradebook page costs the same number of queries for a 30-student and a
300-student course (with quiz and lab items as well as the class)."""

import pytest
from django.urls import reverse

from tests.builders import LARGE, SMALL, class_build, page_queries

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("query", ["", "?section=Mon"])
def test_the_gradebook_costs_the_same_queries_for_30_and_300_students(client, query):
    classes = [class_build(size, code=f"GB{size}") for size in (SMALL, LARGE)]
    counts = [
        page_queries(client, k.instructor, reverse("gradebook", args=[k.course.slug]) + query)
        for k in classes
    ]
    assert counts[0] == counts[1], f"gradebook{query}: {counts[0]} at 30, {counts[1]} at 300"
    assert LARGE > SMALL
