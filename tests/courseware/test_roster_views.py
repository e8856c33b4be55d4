"""The roster import page (`roster-import`): upload → preview → confirm → counts."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Profile
from courseware.models import Membership
from tests.courseware.test_roster_import import EXCEL
from tests.factories import MembershipFactory

URL = reverse("roster-import", kwargs={"code": "ICTSS00120"})


def upload(client, data: bytes = EXCEL):
    return client.post(URL, {"roster_file": SimpleUploadedFile("class.csv", data, "text/csv")})


def payload_of(response) -> str:
    return re.search(r'name="payload" value="([^"]+)"', response.content.decode()).group(1)


def test_an_instructor_previews_then_confirms(
    client, course, instructor, django_capture_on_commit_callbacks
):
    client.force_login(instructor)

    preview = upload(client)

    assert preview.status_code == 200
    assert b"ann.lee@example.edu" in preview.content
    assert b"<strong>2</strong> to add" in preview.content
    assert not Profile.objects.filter(student_id="S1001").exists()  # nothing written yet

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(URL, {"payload": payload_of(preview)})

    assert done.status_code == 200
    assert b"2 added, 0 updated, 0 unchanged; 2 invitations sent." in done.content
    assert Membership.objects.filter(course=course, role="student").count() == 1
    assert len(mail.outbox) == 2


def test_a_file_with_a_bad_row_shows_row_and_column_and_offers_no_confirm(
    client, course, instructor
):
    client.force_login(instructor)

    response = upload(client, b"email,role\nok@example.edu,\nok2@example.edu,wizard\n")

    assert response.status_code == 400
    body = response.content.decode()
    assert "<td>3</td><td>role</td>" in body
    assert 'name="payload"' not in body
    assert Membership.objects.filter(course=course).count() == 1


def test_a_tampered_payload_imports_nothing(client, course, instructor):
    client.force_login(instructor)
    payload = payload_of(upload(client))

    response = client.post(URL, {"payload": payload[:-3] + "abc"})

    assert response.status_code == 400
    assert b"did not come back intact" in response.content
    assert not Profile.objects.filter(student_id="S1001").exists()


def test_a_payload_signed_for_another_instructor_is_refused(client, course, instructor):
    other = MembershipFactory(course=course, role="instructor").user
    client.force_login(other)
    payload = payload_of(upload(client))
    client.force_login(instructor)

    response = client.post(URL, {"payload": payload})

    assert response.status_code == 400
    assert not Profile.objects.filter(student_id="S1001").exists()


def test_a_non_utf8_file_says_save_as_csv_utf8(client, course, instructor):
    client.force_login(instructor)

    response = upload(client, "email,last_name\na@example.edu,Müller\n".encode("cp1252"))

    assert response.status_code == 400
    assert "CSV UTF-8" in response.content.decode()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 302),
        ("other_student", 404),
        ("student", 403),
        ("ta", 403),
        ("instructor", 200),
    ],
)
def test_only_instructors_reach_the_page(
    client, course, instructor, student, other_student, who, status
):
    users = {
        "student": student,
        "other_student": other_student,
        "ta": MembershipFactory(course=course, role="ta").user,
        "instructor": instructor,
    }
    if who != "anonymous":
        client.force_login(users[who])

    assert client.get(URL).status_code == status
    assert upload(client).status_code in {status, 200 if who == "instructor" else status}
    assert not Profile.objects.filter(student_id="S1001").exists()
