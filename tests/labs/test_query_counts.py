"""The lab pages that list the class cost the same number of queries for a 30-student and a
300-student course: the instructor's dashboard (whole course, one section, a status filter),
its live fragment, the leaderboard (public and private parts), the results CSV, and the
API's submission list and leaderboard."""

import pytest

from tests.builders import (
    LARGE,
    SMALL,
    address,
    class_build,
    lab_build,
    uneven_query_counts,
)

pytestmark = pytest.mark.django_db

PAGES = [
    ("labs:dashboard", ""),
    ("labs:dashboard", "?section=Wed"),
    ("labs:dashboard", "?status=failed"),
    ("labs:dashboard-live", ""),
    ("labs:leaderboard", ""),
    ("labs:leaderboard", "?part=private"),
    ("labs:results-csv", ""),
    ("/api/v1/labs/{}/submissions/", ""),
    ("/api/v1/labs/{}/leaderboard/", ""),
]


def test_every_lab_list_page_costs_the_same_queries_for_30_and_300_students(client):
    (small, small_lab), (large, large_lab) = [
        (klass, lab_build(klass))
        for klass in (class_build(size, code=f"LAB{size}") for size in (SMALL, LARGE))
    ]
    pages = [
        (
            small.instructor,
            large.instructor,
            [address(name, lab.pk) + query for lab in (small_lab, large_lab)],
        )
        for name, query in PAGES
    ]

    assert uneven_query_counts(client, pages) == {}
    client.force_login(large.instructor)
    body = client.get(address("labs:leaderboard", large_lab.pk)).content.decode()
    assert sum(s.username in body or s.last_name in body for s in large.students) > LARGE // 2
