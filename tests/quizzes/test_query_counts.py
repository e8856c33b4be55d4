"""The instructor's quiz list pages cost the same number of queries for a 30-student and a
300-student class (no query per student, attempt or question): results (whole class, a
section) and their CSV, statistics (first, all and highest attempts, a section), the essay
queue, the overrides page, and the API's results, statistics and essay queue. Both classes
are built once for all the pages: a 300-student quiz takes seconds to write."""

import pytest

from tests.builders import (
    LARGE,
    SMALL,
    address,
    class_build,
    quiz_build,
    uneven_query_counts,
)

pytestmark = pytest.mark.django_db

PAGES = [
    ("quiz-results", ""),
    ("quiz-results", "?section=Tue"),
    ("quiz-results-csv", ""),
    ("quiz-statistics", ""),
    ("quiz-statistics", "?attempts=all"),
    ("quiz-statistics", "?attempts=highest&section=Mon"),
    ("quiz-essays", ""),
    ("quiz-overrides", ""),
    # The API's lists, by path (their URL names repeat the portal's).
    ("/api/v1/quizzes/{}/results/", ""),
    ("/api/v1/quizzes/{}/statistics/", "?attempts=all"),
    ("/api/v1/quizzes/{}/essays/", ""),
]


def test_every_quiz_list_page_costs_the_same_queries_for_30_and_300_students(client):
    (small, small_quiz), (large, large_quiz) = [
        (klass, quiz_build(klass))
        for klass in (class_build(size, code=f"QUIZ{size}") for size in (SMALL, LARGE))
    ]
    pages = [
        (
            small.instructor,
            large.instructor,
            [address(name, quiz.pk) + query for quiz in (small_quiz, large_quiz)],
        )
        for name, query in PAGES
    ]

    assert uneven_query_counts(client, pages) == {}
    # What was counted is a page that shows the whole class, not an empty one.
    client.force_login(large.instructor)
    body = client.get(address("quiz-results", large_quiz.pk)).content.decode()
    assert body.count('<th scope="row" class="grid-student">') == LARGE
