"""`POST /api/v1/courses/{code}/roster/`: multipart or text/csv, dry_run, roster_invalid."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts.models import Profile
from courseware.models import Membership
from tests.courseware.test_roster_import import EXCEL
from tests.factories import MembershipFactory

URL = "/api/v1/courses/ICTSS00120/roster/"


@pytest.fixture
def api(instructor) -> APIClient:
    client = APIClient()
    client.force_authenticate(instructor)
    return client


def post_csv(client: APIClient, data: bytes, query: str = ""):
    return client.generic("POST", URL + query, data, content_type="text/csv")


def test_dry_run_counts_and_writes_nothing(api, course):
    response = post_csv(api, EXCEL, "?dry_run=true")

    assert response.status_code == 200
    assert response.json() == {
        "dry_run": True, "created": 2, "updated": 0, "unchanged": 0, "invited": 2,
    }  # fmt: skip
    assert not Profile.objects.filter(student_id="S1001").exists()


def test_a_multipart_import_then_the_same_again(api, course, django_capture_on_commit_callbacks):
    def send():
        with django_capture_on_commit_callbacks(execute=True):
            return api.post(URL, {"file": SimpleUploadedFile("c.csv", EXCEL, "text/csv")})

    first, second = send(), send()

    assert first.json() == {
        "dry_run": False, "created": 2, "updated": 0, "unchanged": 0, "invited": 2,
    }  # fmt: skip
    assert second.json()["unchanged"] == 2
    assert len(mail.outbox) == 2


def test_multipart_dry_run_field(api, course):
    response = api.post(
        URL, {"file": SimpleUploadedFile("c.csv", EXCEL, "text/csv"), "dry_run": "true"}
    )

    assert response.json()["dry_run"] is True
    assert Membership.objects.filter(course=course).count() == 1


def test_row_errors_are_a_400_with_the_rows(api, course):
    response = post_csv(api, b"email,role\nok@example.edu,\nbad,wizard\n")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "roster_invalid"
    assert [(r["row"], r["column"]) for r in body["rows"]] == [(3, "email"), (3, "role")]
    assert Membership.objects.filter(course=course).count() == 1


def test_no_file_is_a_clear_400(api, course):
    response = api.post(URL, {"dry_run": "true"})

    assert response.status_code == 400
    assert "multipart field `file`" in response.json()["message"]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 401),
        ("other_student", 404),
        ("student", 403),
        ("ta", 403),
        ("other_instructor", 404),
    ],
)
def test_only_the_courses_instructors_may_import(
    course, other_course, student, other_student, who, status
):
    users = {
        "student": student,
        "other_student": other_student,
        "ta": MembershipFactory(course=course, role="ta").user,
        "other_instructor": MembershipFactory(course=other_course, role="instructor").user,
    }
    client = APIClient()
    if who != "anonymous":
        client.force_authenticate(users[who])

    response = post_csv(client, EXCEL, "?dry_run=true")

    assert response.status_code == status
    assert not Profile.objects.filter(student_id="S1001").exists()


def test_the_endpoint_is_in_the_schema(db):
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()

    operation = schema["paths"]["/api/v1/courses/{code}/roster/"]["post"]
    assert operation["operationId"] == "course_roster_import"
    assert set(operation["requestBody"]["content"]) == {"multipart/form-data", "text/csv"}
    assert "rows" in schema["components"]["schemas"]["RosterInvalidError"]["properties"]
