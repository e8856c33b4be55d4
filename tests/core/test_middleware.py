"""ApplicationErrorMiddleware: the one place a portal ApplicationError becomes a response."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from core.exceptions import ApplicationError, NotFoundError, PermissionDeniedError
from core.middleware import ApplicationErrorMiddleware


@pytest.fixture
def middleware() -> ApplicationErrorMiddleware:
    return ApplicationErrorMiddleware(lambda request: HttpResponse("ok"))


@pytest.mark.parametrize(
    ("exc", "status", "heading"),
    [
        (NotFoundError("No course XYZ among your courses."), 404, "Not found"),
        (PermissionDeniedError("Only instructors of XYZ can do this."), 403, "Not allowed"),
        (ApplicationError("invalid_input", "Send done=1 or done=0."), 400, "That did not work"),
        (ApplicationError("conflict", "Already graded.", status_code=409), 409, "did not work"),
    ],
)
def test_error_page_has_status_and_message(middleware, rf: RequestFactory, exc, status, heading):
    response = middleware.process_exception(rf.get("/courses/XYZ/"), exc)
    assert response is not None
    assert response.status_code == status
    html = response.content.decode()
    assert exc.message in html
    assert heading in html
    assert "<html" in html and "Coursebench" in html
    assert "HX-Retarget" not in response


def test_htmx_request_gets_a_fragment(middleware, rf: RequestFactory):
    request = rf.post("/homework/1/completion/", HTTP_HX_REQUEST="true")
    response = middleware.process_exception(request, PermissionDeniedError("Only students."))
    assert response.status_code == 403
    html = response.content.decode()
    assert "Only students." in html
    assert "<html" not in html and "<body" not in html
    assert response["HX-Retarget"] == "#htmx-errors"
    assert response["HX-Reswap"] == "innerHTML"


def test_message_is_escaped(middleware, rf: RequestFactory):
    response = middleware.process_exception(
        rf.get("/"), ApplicationError("bad", "<script>alert(1)</script>")
    )
    assert "<script>alert(1)</script>" not in response.content.decode()
    assert "&lt;script&gt;" in response.content.decode()


def test_other_exceptions_are_left_alone(middleware, rf: RequestFactory):
    assert middleware.process_exception(rf.get("/"), ValueError("boom")) is None


def test_passes_requests_through(middleware, rf: RequestFactory):
    assert middleware(rf.get("/")).content == b"ok"


def test_installed_last_so_views_errors_reach_it(settings):
    assert settings.MIDDLEWARE[-1] == "core.middleware.ApplicationErrorMiddleware"


@pytest.mark.django_db
def test_end_to_end_through_a_portal_view(client, other_student):
    client.force_login(other_student)
    response = client.get("/courses/NOSUCH1/")
    assert response.status_code == 404
    assert "No course NOSUCH1 among your courses." in response.content.decode()
