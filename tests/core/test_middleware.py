"""ApplicationErrorMiddleware: the one place a portal ApplicationError becomes a response;
RequestSizeLimitMiddleware: an over-large body is refused before it is read."""

from __future__ import annotations

import socket

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import RequestFactory
from rest_framework.test import APIClient

from core.exceptions import ApplicationError, NotFoundError, PermissionDeniedError
from core.middleware import ApplicationErrorMiddleware, RequestSizeLimitMiddleware
from courseware import services as courseware_services
from labs.models import Submission
from tests.factories import LabFactory


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


# --- RequestSizeLimitMiddleware -------------------------------------------------------------

TOO_LARGE = "this site accepts at most 4.0 KB in one upload"


@pytest.fixture
def small_request_limit(settings):
    settings.REQUEST_MAX_BYTES = 4096


def _archive(size: int) -> SimpleUploadedFile:
    return SimpleUploadedFile("model.zip", b"\0" * size, "application/zip")


@pytest.mark.django_db
def test_an_over_limit_api_upload_is_a_json_413(small_request_limit, session12, student):
    lab = LabFactory(session=session12)
    client = APIClient()
    key = courseware_services.api_token_create(actor=student).key
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    response = client.post(
        f"/api/v1/labs/{lab.pk}/submissions/", {"artifact": _archive(8192)}, format="multipart"
    )

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "too_large"
    assert TOO_LARGE in body["message"]
    assert not Submission.objects.exists()


@pytest.mark.django_db
def test_an_over_limit_portal_upload_is_a_readable_page(
    small_request_limit, client, session12, student
):
    lab = LabFactory(session=session12)
    client.force_login(student)

    response = client.post(f"/labs/{lab.pk}/submit/", {"artifact": _archive(8192)})

    assert response.status_code == 413
    html = response.content.decode()
    assert "<html" in html and TOO_LARGE in html
    assert not Submission.objects.exists()


@pytest.mark.django_db
def test_an_over_limit_htmx_upload_is_a_fragment(small_request_limit, client, session12, student):
    lab = LabFactory(session=session12)
    client.force_login(student)

    response = client.post(
        f"/labs/{lab.pk}/submit/", {"artifact": _archive(8192)}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 413
    assert TOO_LARGE in response.content.decode()
    assert response["HX-Retarget"] == "#htmx-errors"


def test_a_request_within_the_limit_passes(small_request_limit, rf: RequestFactory):
    middleware = RequestSizeLimitMiddleware(lambda request: HttpResponse("ok"))
    request = rf.post("/labs/1/submit/", b"x" * 4096, content_type="application/octet-stream")

    assert middleware(request).content == b"ok"


def test_the_limit_is_refused_before_the_body_is_read(live_server, settings):
    """A real HTTP request announcing 5 GB but sending 10 bytes: were the body read, the
    server would wait for the rest and this would time out instead of getting a 413."""
    settings.REQUEST_MAX_BYTES = 1024 * 1024
    host, port = live_server.thread.host, live_server.thread.port
    with socket.create_connection((host, port), timeout=10) as connection:
        connection.sendall(
            b"POST /api/v1/labs/1/submissions/ HTTP/1.1\r\n"
            b"Host: localhost\r\n"
            b"Content-Type: application/zip\r\n"
            b"Content-Length: 5368709120\r\n"
            b"\r\n"
            b"PK\x03\x04partial"
        )
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = connection.recv(65536)
            if not chunk:
                break
            answer += chunk

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), head
    assert b'"code": "too_large"' in body
    assert b"this site accepts at most 1.0 MB in one upload" in body
