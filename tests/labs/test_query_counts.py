"""The lab pages that list the class cost the same number of queries for a 30-student and a
300-student course: the instructor's dashboard (whole course, one section, a status filter),
its live fragment, the leaderboard (public and private parts), the results CSV, and the
API's submission list and leaderboard."""

import pytest
from django.urls import reverse

from tests.builders import LARGE, SMALL, address, class_build, lab_build, page_queries

pytestmark = pytest.mark.django_db


@pytest.fixture
def classes():
    built = []
    for size in (SMALL, LARGE):
        klass = class_build(size, code=f"LAB{size}")
        built.append((klass, lab_build(klass)))
    return built


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("labs:dashboard", ""),
        ("labs:dashboard", "?section=Wed"),
        ("labs:dashboard", "?status=failed"),
        ("labs:dashboard-live", ""),
        ("labs:leaderboard", ""),
        ("labs:leaderboard", "?part=private"),
        ("labs:results-csv", ""),
        ("/api/v1/labs/{}/submissions/", ""),
        ("/api/v1/labs/{}/leaderboard/", ""),
    ],
)
def test_a_lab_page_costs_the_same_queries_for_30_and_300_students(client, classes, name, query):
    counts = [
        page_queries(client, klass.instructor, address(name, lab.pk) + query)
        for klass, lab in classes
    ]
    assert counts[0] == counts[1], f"{name}{query}: {counts[0]} queries at 30, {counts[1]} at 300"


def test_the_large_leaderboard_ranks_the_class(client, classes):
    klass, lab = classes[1]
    client.force_login(klass.instructor)
    body = client.get(reverse("labs:leaderboard", args=[lab.pk])).content.decode()
    ranked = sum(s.username in body or s.last_name in body for s in klass.students)
    assert ranked > LARGE // 2
