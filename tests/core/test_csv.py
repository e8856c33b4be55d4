"""CSV exports: the API's table renderer and every CSV endpoint answer non-GET requests
without a server error (an OPTIONS request used to be a KeyError in the CSV renderer)."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from rest_framework.response import Response
from rest_framework.test import APIClient

from core.csv import TableCSVRenderer, table_csv
from courseware import services
from tests.factories import LabFactory
from tests.quizzes.conftest import QuizFactory

pytestmark = pytest.mark.django_db


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {services.api_token_create(actor=user).key}")
    return client


@pytest.fixture
def quiz(session12):
    return QuizFactory(session=session12)


# --- The renderer on its own ------------------------------------------------------------------


def test_a_table_becomes_csv_with_safe_cells():
    data = {"columns": ["name", "passed"], "rows": [{"name": "=cmd", "passed": True}]}

    text = TableCSVRenderer().render(data).decode()

    assert list(csv.reader(io.StringIO(text))) == [["name", "passed"], ["'=cmd", "yes"]]


@pytest.mark.parametrize(
    "data",
    [
        {"name": "Quiz results", "renders": ["application/json", "text/csv"]},
        {"code": "not_found", "message": "Not found."},
        [1, 2],
    ],
    ids=["options-metadata", "error", "list"],
)
def test_anything_but_a_table_is_rendered_as_json(data):
    response = Response(data)
    response["Content-Disposition"] = 'attachment; filename="x.csv"'

    body = TableCSVRenderer().render(data, renderer_context={"response": response})

    assert response["Content-Type"] == "application/json"
    assert "Content-Disposition" not in response
    assert body.startswith((b"{", b"["))


def test_no_body_stays_empty():
    assert TableCSVRenderer().render(None, renderer_context={"response": Response()}) == b""


def test_table_csv_writes_a_header_then_rows():
    assert table_csv(["a", "b"], [[1, None]]) == "a,b\r\n1,\r\n"


# --- Every CSV endpoint -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "negotiation",
    [{"query": "?format=csv"}, {"accept": "text/csv"}],
    ids=["format-query", "accept-header"],
)
@pytest.mark.parametrize("role", ["student", "instructor"])
def test_options_on_the_quiz_results_api_is_json_metadata(
    request, quiz, student, instructor, negotiation, role
):
    user = {"student": student, "instructor": instructor}[role]
    url = reverse("quizzes_api:quiz-results", kwargs={"quiz_id": quiz.pk})
    url += negotiation.get("query", "")

    response = token_client(user).options(url, HTTP_ACCEPT=negotiation.get("accept", "*/*"))

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    assert "text/csv" in response.json()["renders"]


@pytest.mark.parametrize("method", ["options", "head", "post"])
def test_the_quiz_results_api_answers_other_methods_with_json(quiz, instructor, method):
    url = reverse("quizzes_api:quiz-results", kwargs={"quiz_id": quiz.pk}) + "?format=csv"

    response = getattr(token_client(instructor), method)(url)

    assert response.status_code in (200, 405), response.content
    if method == "post":
        assert response["Content-Type"] == "application/json"
        assert response.json()["code"] == "method_not_allowed"


def test_the_quiz_results_api_still_downloads_csv(quiz, instructor):
    url = reverse("quizzes_api:quiz-results", kwargs={"quiz_id": quiz.pk}) + "?format=csv"

    response = token_client(instructor).get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.decode().startswith("username,")


@pytest.mark.parametrize("endpoint", ["quiz", "lab"])
@pytest.mark.parametrize("method", ["options", "post", "put", "delete"])
def test_portal_csv_downloads_refuse_other_methods(client, session12, instructor, endpoint, method):
    if endpoint == "quiz":
        url = reverse("quiz-results-csv", kwargs={"quiz_id": QuizFactory(session=session12).pk})
    else:
        url = reverse("labs:results-csv", kwargs={"lab_id": LabFactory(session=session12).pk})
    client.force_login(instructor)

    response = getattr(client, method)(url)

    assert response.status_code == 405
    assert response["Allow"] == "GET"
