"""Launches from a real LMS (lti1p3platform on loopback): who gets which account, course and
role, and where the link opens."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from lti_tool.models import LtiUser

from courseware.models import Membership
from lti.models import CourseLink, LinkTarget
from lti.services.launch import context_role
from tests.factories import LabFactory, SessionFactory, UserFactory
from tests.lti.platform import INSTRUCTOR, LEARNER, MENTOR, TEACHING_ASSISTANT

pytestmark = [pytest.mark.lti, pytest.mark.django_db]
User = get_user_model()


def _launch(lms, login_url, client=None, **kwargs):
    client = client or Client()
    response = lms.launch(client, login_url=login_url, **kwargs)
    return client, response


def test_an_instructors_first_launch_creates_their_account_and_the_course(lms, login_url):
    client, response = _launch(
        lms,
        login_url,
        user_id="t-1",
        roles=[INSTRUCTOR],
        name="Ada Lovelace",
        email="ada@uni.example",
    )
    assert response.status_code == 302
    link = CourseLink.objects.get()
    course = link.course
    assert (course.code, course.title) == ("ML101", "Machine learning")
    assert response["Location"] == f"/courses/{course.slug}/"
    user = LtiUser.objects.get(sub="t-1").auth_user
    assert (user.first_name, user.last_name, user.email) == ("Ada", "Lovelace", "ada@uni.example")
    assert not user.has_usable_password()
    membership = Membership.objects.get(course=course, user=user)
    assert membership.role == Membership.Role.INSTRUCTOR and membership.is_active
    # Logged in: the course page answers in the same session.
    assert client.get(response["Location"]).status_code == 200
    # The platform's key set was fetched over HTTP from the LMS's own server.
    assert "/jwks" in lms.requests_seen


def test_a_second_launch_matches_the_same_account_and_course(lms, login_url):
    _launch(lms, login_url, user_id="t-1", roles=[INSTRUCTOR], name="Ada Lovelace")
    _launch(lms, login_url, user_id="t-1", roles=[INSTRUCTOR], name="Ada Lovelace")
    assert LtiUser.objects.count() == 1 and User.objects.count() == 1
    assert CourseLink.objects.count() == 1


def test_a_students_launch_enrols_them_in_the_linked_course(lms, login_url):
    _launch(lms, login_url, user_id="t-1", roles=[INSTRUCTOR])
    client, response = _launch(
        lms, login_url, user_id="s-1", roles=[LEARNER], name="Grace Hopper", email="g@uni.example"
    )
    course = CourseLink.objects.get().course
    assert response.status_code == 302 and response["Location"] == f"/courses/{course.slug}/"
    student = LtiUser.objects.get(sub="s-1").auth_user
    assert Membership.objects.get(course=course, user=student).role == Membership.Role.STUDENT
    assert client.get(response["Location"]).status_code == 200


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        ([TEACHING_ASSISTANT], Membership.Role.TEACHING_ASSISTANT),
        ([INSTRUCTOR, TEACHING_ASSISTANT], Membership.Role.TEACHING_ASSISTANT),
        (["Learner"], Membership.Role.STUDENT),
        ([INSTRUCTOR], Membership.Role.INSTRUCTOR),
    ],
)
def test_lti_roles_map_to_coursebench_roles(lms, login_url, roles, expected):
    _launch(lms, login_url, user_id="t-1", roles=[INSTRUCTOR])
    _launch(lms, login_url, user_id="x-1", roles=roles)
    user = LtiUser.objects.get(sub="x-1").auth_user
    assert Membership.objects.get(user=user).role == expected


def test_the_lms_role_wins_at_the_next_launch_and_re_enrols(lms, login_url):
    _launch(lms, login_url, user_id="t-1", roles=[INSTRUCTOR])
    _launch(lms, login_url, user_id="s-1", roles=[LEARNER])
    membership = Membership.objects.get(user__lti_users__sub="s-1")
    membership.is_active = False
    membership.save()
    _launch(lms, login_url, user_id="s-1", roles=[TEACHING_ASSISTANT])
    membership.refresh_from_db()
    assert (membership.role, membership.is_active) == (Membership.Role.TEACHING_ASSISTANT, True)


def test_an_email_that_belongs_to_an_account_is_not_taken_over(lms, login_url):
    owner = UserFactory(email="ada@uni.example")
    client, response = _launch(
        lms, login_url, user_id="t-1", roles=[INSTRUCTOR], name="Ada", email="ada@uni.example"
    )
    assert response.status_code == 302
    launched = LtiUser.objects.get(sub="t-1").auth_user
    assert launched.pk != owner.pk and launched.email == ""
    assert int(client.session["_auth_user_id"]) == launched.pk
    assert not Membership.objects.filter(user=owner).exists()


def test_a_launch_with_no_coursebench_role_is_refused(lms, login_url):
    _client, response = _launch(lms, login_url, user_id="m-1", roles=[MENTOR])
    assert response.status_code == 403
    assert b"Failed check: role" in response.content
    assert not User.objects.exists()


def test_the_resource_link_opens_the_session_or_lab_it_names(lms, login_url):
    _launch(lms, login_url, user_id="t-1", roles=[INSTRUCTOR])
    course = CourseLink.objects.get().course
    session = SessionFactory(course=course, number=3)
    lab = LabFactory(session=session)
    _c, response = _launch(
        lms,
        login_url,
        user_id="s-1",
        roles=[LEARNER],
        resource_link_id="rl-session",
        custom={"resource": "session:3"},
    )
    assert response["Location"] == f"/courses/{course.slug}/sessions/3/"
    _c, response = _launch(
        lms,
        login_url,
        user_id="s-1",
        roles=[LEARNER],
        resource_link_id="rl-lab",
        custom={"resource": f"lab:{lab.pk}"},
    )
    assert response["Location"] == f"/labs/{lab.pk}/"
    assert LinkTarget.objects.count() == 2


def test_a_resource_link_to_another_courses_lab_is_refused(lms, login_url):
    _launch(lms, login_url, user_id="t-1", roles=[INSTRUCTOR])
    foreign_lab = LabFactory()
    _c, response = _launch(
        lms, login_url, user_id="s-1", roles=[LEARNER], custom={"resource": f"lab:{foreign_lab.pk}"}
    )
    assert response.status_code == 404
    assert b"Failed check: resource" in response.content
    assert not LtiUser.objects.filter(sub="s-1").exists()


def test_the_login_url_that_names_the_registration_works_too(lms, registration):
    login_url = f"http://127.0.0.1:8000/lti/login/{registration.uuid}/"
    _client, response = _launch(lms, login_url, user_id="t-1", roles=[INSTRUCTOR])
    assert response.status_code == 302 and CourseLink.objects.count() == 1


def test_a_login_naming_another_registration_is_refused(lms, registration):
    login_url = "http://127.0.0.1:8000/lti/login/00000000-0000-0000-0000-000000000000/"
    response = lms.login(Client(), login_url=login_url, user_id="t-1")
    assert response.status_code == 400 and b"Failed check: login" in response.content


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        (["http://purl.imsglobal.org/vocab/lis/v2/membership#Administrator"], "instructor"),
        (["http://purl.imsglobal.org/vocab/lis/v2/membership#ContentDeveloper"], "instructor"),
        (["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Instructor"], None),
        (["http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"], None),
        ([], None),
        ([LEARNER, "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student"], "student"),
    ],
)
def test_context_roles_only_decide_the_coursebench_role(roles, expected):
    assert context_role(roles) == expected
