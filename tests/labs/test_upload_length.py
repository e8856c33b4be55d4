"""A lab's upload limit is applied to the Content-Length, before the body is read
(labs.uploads): the portal's submission and held-out uploads and the API's submission upload.

The end-to-end tests send a real HTTP request that announces far more than the lab accepts but
sends a few bytes: had anything read the body (the form, DRF's parser, the CSRF check), the
server would wait for the rest and the read here would time out instead of getting the 413.
"""

from __future__ import annotations

import socket

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from django.urls import reverse

from core.exceptions import ApplicationError
from courseware import services as courseware_services
from labs import selectors
from labs.models import HeldOutDataset, Submission
from labs.uploads import MULTIPART_ALLOWANCE_BYTES, upload_check_length
from tests.labs.conftest import model_zip

LIMIT = 2 * 2**20  # the lab's max_upload_bytes in these tests: 2 MB
ANNOUNCED = 50 * 2**20  # what the requests say they send (under REQUEST_MAX_BYTES)
ARCHIVE_TOO_LARGE = (
    "The archive is 50.0 MB; this lab accepts at most 2 MB. Remove optimizer states and "
    "checkpoints (keep only the save_pretrained files)."
)
DATASET_TOO_LARGE = "The held-out file is 50.0 MB; this lab accepts at most 2 MB in one upload."
BOUNDARY = "cbboundary"
PARTIAL_BODY = (
    f"--{BOUNDARY}\r\n"
    'Content-Disposition: form-data; name="archive"; filename="model.zip"\r\n'
    "Content-Type: application/zip\r\n\r\nPK\x03\x04partial"
).encode()


@pytest.fixture
def small_lab(lab):
    lab.max_upload_bytes = LIMIT
    lab.save()
    return lab


def _raw_post(live_server, path: str, headers: dict[str, str]) -> tuple[int, str]:
    """POST PARTIAL_BODY announcing ANNOUNCED bytes; the status and body of the answer."""
    head = {
        "Host": "localhost",
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Content-Length": str(ANNOUNCED),
        **headers,
    }
    request = f"POST {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in head.items())
    host, port = live_server.thread.host, live_server.thread.port
    with socket.create_connection((host, port), timeout=20) as connection:
        connection.sendall(request.encode() + b"\r\n" + PARTIAL_BODY)
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += connection.recv(65536)
        status_line, _, rest = answer.partition(b"\r\n")
        header_block, _, content = rest.partition(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in header_block.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        while len(content) < length:
            content += connection.recv(65536)
    return int(status_line.split()[1]), content.decode()


def _session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def _quota_unused(lab, student) -> bool:
    quota = selectors.quota_status(lab=lab, student=student)
    return quota.left == lab.daily_quota


def test_the_api_refuses_an_archive_over_the_labs_limit_before_reading_it(
    live_server, small_lab, student
):
    key = courseware_services.api_token_create(actor=student).key

    status, content = _raw_post(
        live_server,
        f"/api/v1/labs/{small_lab.pk}/submissions/",
        {"Authorization": f"Token {key}"},
    )

    assert status == 413, content
    assert '"code": "too_large"' in content or '"code":"too_large"' in content
    assert ARCHIVE_TOO_LARGE in content
    assert not Submission.objects.exists()
    assert _quota_unused(small_lab, student)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx-fragment"])
def test_the_portal_refuses_an_archive_over_the_labs_limit_before_reading_it(
    live_server, small_lab, student, htmx
):
    headers = {"Cookie": _session_cookie(student)}
    if htmx:
        headers["HX-Request"] = "true"

    status, content = _raw_post(
        live_server, reverse("labs:submission-create", args=[small_lab.pk]), headers
    )

    assert status == 413, content
    assert 'data-code="too_large"' in content
    assert ARCHIVE_TOO_LARGE in content
    assert ("<html" in content) is not htmx
    assert not Submission.objects.exists()
    assert _quota_unused(small_lab, student)


def test_the_heldout_upload_refuses_a_file_over_the_labs_limit_before_reading_it(
    live_server, small_lab, instructor
):
    status, content = _raw_post(
        live_server,
        reverse("labs:dataset", args=[small_lab.pk]),
        {"Cookie": _session_cookie(instructor)},
    )

    assert status == 413, content
    assert "too_large" in content
    assert DATASET_TOO_LARGE in content
    assert "raise the lab&#x27;s upload limit on its edit page" in content
    assert list(HeldOutDataset.objects.filter(lab=small_lab).values_list("version", flat=True)) == [
        1
    ]


def test_a_non_member_is_told_not_found_not_the_labs_limit(live_server, small_lab, other_student):
    key = courseware_services.api_token_create(actor=other_student).key

    api_status, api_content = _raw_post(
        live_server,
        f"/api/v1/labs/{small_lab.pk}/submissions/",
        {"Authorization": f"Token {key}"},
    )
    portal_status, portal_content = _raw_post(
        live_server,
        reverse("labs:submission-create", args=[small_lab.pk]),
        {"Cookie": _session_cookie(other_student)},
    )

    assert api_status == 404 and portal_status == 404
    assert "2 MB" not in api_content and "2 MB" not in portal_content


@pytest.mark.django_db
def test_the_allowance_covers_the_multipart_overhead_and_not_a_byte_more(small_lab):
    fits = RequestFactory().post("/", CONTENT_LENGTH=str(LIMIT + MULTIPART_ALLOWANCE_BYTES))
    over = RequestFactory().post("/", CONTENT_LENGTH=str(LIMIT + MULTIPART_ALLOWANCE_BYTES + 1))

    upload_check_length(lab=small_lab, request=fits)
    with pytest.raises(ApplicationError) as refused:
        upload_check_length(lab=small_lab, request=over)

    assert refused.value.code == "too_large" and refused.value.status_code == 413


@pytest.mark.django_db
@pytest.mark.parametrize("length", ["", "not-a-number", "-5"])
def test_a_missing_or_unparsable_length_is_left_to_the_check_after_the_upload(small_lab, length):
    request = RequestFactory().post("/", CONTENT_LENGTH=length)

    upload_check_length(lab=small_lab, request=request)  # does not raise

    assert request.META["CONTENT_LENGTH"] == length


# The upload views check CSRF themselves, after the size check: a normal-sized form post
# without the token is still refused and changes nothing.


@pytest.mark.django_db
def test_a_submission_upload_without_a_csrf_token_is_still_refused(small_lab, student):
    client = Client(enforce_csrf_checks=True)
    client.force_login(student)
    archive = model_zip()

    response = client.post(
        reverse("labs:submission-create", args=[small_lab.pk]),
        {"archive": SimpleUploadedFile("model.zip", archive)},
    )

    assert response.status_code == 403
    assert not Submission.objects.exists()


@pytest.mark.django_db
def test_a_heldout_upload_without_a_csrf_token_is_still_refused(small_lab, instructor):
    client = Client(enforce_csrf_checks=True)
    client.force_login(instructor)

    response = client.post(
        reverse("labs:dataset", args=[small_lab.pk]),
        {"dataset": SimpleUploadedFile("heldout.csv", b"text,label\nfine,neutral\n")},
    )

    assert response.status_code == 403
    assert HeldOutDataset.objects.filter(lab=small_lab).count() == 1
