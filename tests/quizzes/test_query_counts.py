"""The instructor's quiz list pages cost the same number of queries for a 30-student and a
300-student class (no query per student, attempt or question): results, their CSV,
statistics (attempt choices, a section), the essay queue and the overrides page, and
the API's results, statistics and essay queue."""

import pytest
from django.urls import reverse

from tests.builders import LARGE, SMALL, address, class_build, page_queries, quiz_build

pytestmark = pytest.mark.django_db


@pytest.fixture
def classes():
    """(small class, its quiz), (large class, its quiz)."""
    built = []
    for size in (SMALL, LARGE):
        klass = class_build(size, code=f"QUIZ{size}")
        built.append((klass, quiz_build(klass)))
    return built


@pytest.mark.parametrize(
    ("name", "query"),
    [
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
    ],
)
def test_a_quiz_page_costs_the_same_queries_for_30_and_300_students(client, classes, name, query):
    counts = [
        page_queries(client, klass.instructor, address(name, quiz.pk) + query)
        for klass, quiz in classes
    ]
    assert counts[0] == counts[1], f"{name}{query}: {counts[0]} queries at 30, {counts[1]} at 300"


def test_the_large_results_page_lists_every_student(client, classes):
    """The count above is of a page that really shows the class (not an empty one)."""
    klass, quiz = classes[1]
    client.force_login(klass.instructor)
    body = client.get(reverse("quiz-results", args=[quiz.pk])).content.decode()
    assert body.count('<th scope="row" class="grid-student">') == LARGE
