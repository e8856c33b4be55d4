"""Every API error body is `{"code", "message"}` (plus `fields` for invalid input)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import reverse
from rest_framework import exceptions
from rest_framework.test import APIClient

from core.actors import SYSTEM
from core.api import exception_handler
from core.exceptions import ApplicationError, NotFoundError, PermissionDeniedError
from courseware import services
from courseware.api import TokenObtainThrottle

pytestmark = pytest.mark.django_db

TOKEN_URL = reverse("courseware_api:token-obtain")
COURSES_URL = reverse("courseware_api:course-list")


@pytest.fixture(autouse=True)
def _fresh_token_throttle():
    throttle = TokenObtainThrottle()
    cache.delete(throttle.cache_format % {"scope": throttle.scope, "ident": "127.0.0.1"})


@pytest.fixture
def client(student) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {services.api_token_create(actor=student).key}")
    return client


def body_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()


# --- Through the API ------------------------------------------------------------------------


def test_not_authenticated_tells_the_client_how_to_authenticate():
    body = body_of(APIClient().get(COURSES_URL), 401)

    assert body == {
        "code": "not_authenticated",
        "message": "Authentication required: send `Authorization: Token <key>` "
        "(create a token in the portal under Account → API token).",
    }


def test_an_unknown_token_is_authentication_failed_with_a_challenge():
    response = APIClient().get(COURSES_URL, HTTP_AUTHORIZATION="Token not-a-real-key")

    assert body_of(response, 401) == {"code": "authentication_failed", "message": "Invalid token."}
    assert response["WWW-Authenticate"] == 'Token realm="api"'


def test_a_malformed_authorization_header_is_authentication_failed():
    response = APIClient().get(COURSES_URL, HTTP_AUTHORIZATION="Token two words")

    body = body_of(response, 401)
    assert set(body) == {"code", "message"}
    assert body["code"] == "authentication_failed"


def test_an_unsupported_method_is_method_not_allowed(client):
    body = body_of(client.patch(COURSES_URL, {}, format="json"), 405)

    assert body == {"code": "method_not_allowed", "message": 'Method "PATCH" not allowed.'}


def test_malformed_json_is_a_parse_error():
    response = APIClient().post(TOKEN_URL, '{"username": "ada",', content_type="application/json")

    body = body_of(response, 400)
    assert set(body) == {"code", "message"}
    assert body["code"] == "parse_error"
    assert body["message"].startswith("JSON parse error")


def test_an_unsupported_content_type_is_named():
    response = APIClient().post(TOKEN_URL, "username=ada", content_type="text/plain")

    body = body_of(response, 415)
    assert set(body) == {"code", "message"}
    assert body["code"] == "unsupported_media_type"


def test_invalid_input_carries_the_field_errors():
    body = body_of(APIClient().post(TOKEN_URL, {"username": "ada"}, format="json"), 400)

    assert body == {
        "code": "invalid_input",
        "message": "Invalid input. password: This field is required.",
        "fields": {"password": ["This field is required."]},
    }


def test_an_application_error_keeps_its_code_and_message(db):
    response = APIClient().post(TOKEN_URL, {"username": "ada", "password": "x"}, format="json")

    assert body_of(response, 400) == {
        "code": "invalid_credentials",
        "message": "Unable to log in with the username and password given.",
    }


def test_throttling_has_the_error_shape():
    for _ in range(10):
        APIClient().post(TOKEN_URL, {"username": "ada", "password": "x"}, format="json")

    response = APIClient().post(TOKEN_URL, {"username": "ada", "password": "x"}, format="json")

    body = body_of(response, 429)
    assert set(body) == {"code", "message"}
    assert body["code"] == "throttled"


# --- The handler on its own -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "status", "expected"),
    [
        (Http404("gone"), 404, {"code": "not_found", "message": "Not found."}),
        (
            DjangoPermissionDenied(),
            403,
            {
                "code": "permission_denied",
                "message": "You do not have permission to perform this action.",
            },
        ),
        (NotFoundError("No course X."), 404, {"code": "not_found", "message": "No course X."}),
        (
            PermissionDeniedError("Only instructors."),
            403,
            {"code": "permission_denied", "message": "Only instructors."},
        ),
        (
            ApplicationError("deck_invalid", "No title.", status_code=422),
            422,
            {"code": "deck_invalid", "message": "No title."},
        ),
        (
            exceptions.NotAcceptable(),
            406,
            {"code": "not_acceptable", "message": "Could not satisfy the request Accept header."},
        ),
    ],
    ids=["http404", "django-permission", "not-found", "permission", "application", "406"],
)
def test_errors_become_code_and_message(exc, status, expected):
    response = exception_handler(exc, {})

    assert response.status_code == status
    assert response.data == expected


def test_a_django_validation_error_becomes_invalid_input_with_fields():
    response = exception_handler(DjangoValidationError({"title": ["Too long."]}), {})

    assert response.status_code == 400
    assert response.data == {
        "code": "invalid_input",
        "message": "Invalid input. title: Too long.",
        "fields": {"title": ["Too long."]},
    }


def test_a_django_validation_error_without_fields_is_non_field_errors():
    response = exception_handler(DjangoValidationError("Nope."), {})

    assert response.data == {
        "code": "invalid_input",
        "message": "Invalid input. Nope.",
        "fields": {"non_field_errors": ["Nope."]},
    }


def test_other_exceptions_are_left_to_django():
    assert exception_handler(RuntimeError("boom"), {}) is None


def test_only_forbidden_and_not_found_errors_deny_access():
    assert NotFoundError().denies_access and PermissionDeniedError().denies_access
    assert ApplicationError("gone", "Moved.", status_code=404).denies_access
    assert not ApplicationError("quota_exceeded", "No more today.", status_code=429).denies_access
    assert not ApplicationError("invalid", "Fix the form.").denies_access


# --- Hostile or odd requests ----------------------------------------------------------------

#: About 2 KB of JSON nested 1,000 levels deep: Python's json module raises RecursionError.
DEEP_JSON = '{"a":' * 1000 + "1" + "}" * 1000


@pytest.fixture
def attempt(session12, student):
    from django.utils import timezone

    from quizzes.services import attempt_start, question_create, quiz_question_add
    from tests.quizzes.conftest import QuizFactory, true_false

    now = timezone.now()
    quiz = QuizFactory(
        session=session12,
        opens_at=now - timezone.timedelta(hours=1),
        closes_at=now + timezone.timedelta(days=1),
    )
    question = question_create(course=session12.course, content=true_false())
    quiz_question_add(actor=SYSTEM, quiz=quiz, question=question)
    return attempt_start(quiz=quiz, actor=student)


def _too_deep(body: dict) -> None:
    assert body["code"] == "parse_error"
    assert "nested more than 32 levels deep" in body["message"]
    assert set(body) == {"code", "message"}


def test_deeply_nested_json_is_a_parse_error_anonymously():
    response = APIClient().post(TOKEN_URL, DEEP_JSON, content_type="application/json")

    _too_deep(body_of(response, 400))


def test_deeply_nested_json_is_a_parse_error_on_answer_and_submit(client, attempt):
    answer = reverse("quizzes_api:answer-save", kwargs={"attempt_id": attempt.pk, "slot": 1})
    submit = reverse("quizzes_api:attempt-submit", kwargs={"attempt_id": attempt.pk})

    _too_deep(body_of(client.put(answer, DEEP_JSON, content_type="application/json"), 400))
    _too_deep(body_of(client.post(submit, DEEP_JSON, content_type="application/json"), 400))


def test_json_deeper_than_the_limit_is_refused_before_the_recursion_limit():
    body = '{"username": ' + "[" * 40 + "1" + "]" * 40 + ', "password": "x"}'

    _too_deep(body_of(APIClient().post(TOKEN_URL, body, content_type="application/json"), 400))


def test_json_at_the_depth_limit_is_parsed():
    body = '{"username": ' + "[" * 31 + '"ada"' + "]" * 31 + ', "password": "x"}'

    response = APIClient().post(TOKEN_URL, body, content_type="application/json")

    assert body_of(response, 400)["code"] == "invalid_input"  # parsed; a list is no username


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/quizzes/abc/",
        "/api/v1/attempts/1.5/submit/",
        "/api/v1/labs/x/submissions/",
        "/api/v1/no-such-endpoint/",
        "/api/nothing/",
    ],
)
def test_an_unknown_api_address_is_a_json_not_found(client, path):
    body = body_of(client.get(path), 404)

    assert body["code"] == "not_found"
    assert body["message"].startswith(f"No API endpoint at {path}")
    assert set(body) == {"code", "message"}


def test_an_unknown_api_address_is_json_anonymously_too():
    assert body_of(APIClient().post("/api/v1/quizzes/abc/results/"), 404)["code"] == "not_found"


def test_an_unknown_portal_address_is_still_the_html_page(client):
    response = client.get("/courses/x/sessions/abc/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "Back to my courses" in response.content.decode()


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5"])
def test_a_page_that_is_not_a_page_number_is_invalid_page(client, course, page):
    body = body_of(client.get(COURSES_URL, {"page": page}), 400)

    expected = f"?page={page} is not a page number: pages are numbered from 1 (or use `last`)."
    assert body == {"code": "invalid_page", "message": expected}


def test_the_first_and_last_pages_are_found(client, course):
    assert body_of(client.get(COURSES_URL, {"page": "1"}), 200)["count"] == 1
    assert body_of(client.get(COURSES_URL, {"page": "last"}), 200)["count"] == 1


def test_a_page_past_the_end_is_not_found(client, course):
    body = body_of(client.get(COURSES_URL, {"page": "5"}), 404)

    assert body["code"] == "not_found"
