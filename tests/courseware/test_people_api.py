"""`/api/v1/courses/{code}/members/` per role: instructors list, add, update, unenrol and
re-enrol; everyone else gets a `{"code", "message"}` error; no other course's people leak."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient

from courseware.models import Membership
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db
Role = Membership.Role


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = "https://coursebench.example.edu"


@pytest.fixture
def ta(course):
    return MembershipFactory(course=course, role=Role.TEACHING_ASSISTANT).user


@pytest.fixture
def other_instructor(other_course):
    return MembershipFactory(course=other_course, role=Role.INSTRUCTOR).user


def list_url(course) -> str:
    return reverse("courseware_api:member-list", kwargs={"code": course.slug})


def detail_url(course, user) -> str:
    return reverse("courseware_api:member-detail", kwargs={"code": course.slug, "user_id": user.pk})


def invitation_url(course, user) -> str:
    kwargs = {"code": course.slug, "user_id": user.pk}
    return reverse("courseware_api:member-invitation", kwargs=kwargs)


def client_for(request, who: str) -> APIClient:
    client = APIClient()
    if who != "anonymous":
        client.force_authenticate(request.getfixturevalue(who))
    return client


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert {"code", "message"} <= set(body), body
    assert body["code"] == code and body["message"]


REFUSED = [
    ("anonymous", 401, "not_authenticated"),
    ("other_student", 404, "not_found"),
    ("other_instructor", 404, "not_found"),
    ("student", 403, "permission_denied"),
    ("ta", 403, "permission_denied"),
]
CALLS = {
    "list": lambda c, course, user: c.get(list_url(course)),
    "add": lambda c, course, user: c.post(list_url(course), {"email": "n@example.edu"}),
    "get": lambda c, course, user: c.get(detail_url(course, user)),
    "patch": lambda c, course, user: c.patch(detail_url(course, user), {"role": "instructor"}),
    "delete": lambda c, course, user: c.delete(detail_url(course, user)),
    "invite": lambda c, course, user: c.post(invitation_url(course, user)),
}


@pytest.mark.parametrize(("who", "status", "code"), REFUSED)
@pytest.mark.parametrize("call", CALLS)
def test_only_instructors_use_the_members_api(request, who, status, code, call, course, student):
    response = CALLS[call](client_for(request, who), course, student)

    assert_error(response, status, code)
    membership = Membership.objects.get(user=student, course=course)
    assert (membership.role, membership.is_active) == (Role.STUDENT, True)
    assert not Membership.objects.filter(user__email="n@example.edu").exists()
    assert mail.outbox == []


def test_an_instructor_lists_the_courses_people_paginated(
    instructor, student, course, other_student
):
    client = APIClient()
    client.force_authenticate(instructor)

    body = client.get(list_url(course), {"page_size": 1}).json()

    assert body["count"] == 2 and body["next"]
    first = body["results"][0]
    assert first["user_id"] == instructor.pk and first["role"] == "instructor"
    assert set(first) >= {"email", "section", "status", "last_login", "invited_at", "url"}
    every = client.get(list_url(course)).json()["results"]
    assert other_student.pk not in {m["user_id"] for m in every}


def test_the_list_filters_by_role_status_and_section(instructor, student, course):
    MembershipFactory(course=course, section="Tue")
    client = APIClient()
    client.force_authenticate(instructor)

    students = client.get(list_url(course), {"role": "student", "section": "Tue"}).json()

    assert [m["section"] for m in students["results"]] == ["Tue"]
    assert_error(client.get(list_url(course), {"status": "gone"}), 400, "invalid_input")


def test_an_instructor_adds_a_new_person_who_is_invited(instructor, course):
    client = APIClient()
    client.force_authenticate(instructor)

    response = client.post(
        list_url(course),
        {"email": "linus@example.edu", "role": "ta", "section": "B"},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["invited"], body["status"], body["role"], body["section"]) == (
        True,
        "invited",
        "ta",
        "B",
    )
    assert [m.to for m in mail.outbox] == [["linus@example.edu"]]


def test_adding_someone_enrolled_is_a_clear_error(instructor, student, course):
    client = APIClient()
    client.force_authenticate(instructor)

    assert_error(client.post(list_url(course), {"email": student.email}), 400, "already_member")
    assert_error(client.post(list_url(course), {"email": "nope"}), 400, "invalid_input")


def test_patch_changes_role_and_section(instructor, student, course):
    client = APIClient()
    client.force_authenticate(instructor)

    body = client.patch(detail_url(course, student), {"role": "ta", "section": "C"}).json()

    assert (body["role"], body["section"]) == ("ta", "C")


def test_delete_unenrols_and_patch_re_enrols(instructor, student, course):
    client = APIClient()
    client.force_authenticate(instructor)

    gone = client.delete(detail_url(course, student))
    assert gone.status_code == 200
    assert (gone.json()["status"], gone.json()["is_active"]) == ("unenrolled", False)
    assert gone.json()["unenrolled_at"]
    assert client.get(detail_url(course, student)).json()["status"] == "unenrolled"

    back = client.patch(detail_url(course, student), {"is_active": True}, format="json").json()
    assert (back["status"], back["unenrolled_at"]) == ("active", None)


def test_the_last_instructor_stays(instructor, course):
    client = APIClient()
    client.force_authenticate(instructor)

    assert_error(client.delete(detail_url(course, instructor)), 400, "last_instructor")
    assert_error(
        client.patch(detail_url(course, instructor), {"role": "student"}), 400, "last_instructor"
    )


def test_a_person_of_another_course_is_not_found(instructor, course, other_student):
    client = APIClient()
    client.force_authenticate(instructor)

    assert_error(client.get(detail_url(course, other_student)), 404, "not_found")
    assert_error(client.delete(detail_url(course, other_student)), 404, "not_found")
    assert Membership.objects.get(user=other_student).is_active


def test_an_instructor_resends_an_invitation(instructor, course):
    client = APIClient()
    client.force_authenticate(instructor)
    added = client.post(list_url(course), {"email": "linus@example.edu"}).json()
    linus = Membership.objects.get(user_id=added["user_id"]).user

    response = client.post(invitation_url(course, linus))

    assert response.status_code == 200 and response.json()["status"] == "invited"
    assert len(mail.outbox) == 2


def test_someone_with_a_password_is_not_re_invited(instructor, student, course):
    client = APIClient()
    client.force_authenticate(instructor)

    assert_error(client.post(invitation_url(course, student)), 400, "already_active")
    assert mail.outbox == []
