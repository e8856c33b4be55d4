"""NRPS roster sync from a real LMS (lti1p3platform token, paged memberships on loopback)."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test import Client
from lti_tool.models import LtiMembership, LtiUser

from config.celery import app as celery_app
from core.exceptions import ApplicationError, PermissionDeniedError
from courseware.models import Membership
from lti.models import CourseLink
from lti.services import roster_sync
from lti.tasks import roster_sync_linked
from tests.factories import MembershipFactory, UserFactory
from tests.lti.platform import INSTRUCTOR, LEARNER, MENTOR, TEACHING_ASSISTANT

pytestmark = [pytest.mark.lti, pytest.mark.django_db]


def member(sub: str, roles: list[str], status: str = "Active", **extra) -> dict:
    return {
        "user_id": sub,
        "roles": roles,
        "status": status,
        "name": f"Person {sub}",
        "given_name": "Person",
        "family_name": sub,
        "email": f"{sub}@uni.example",
        **extra,
    }


@pytest.fixture
def linked(lms, login_url):
    lms.launch(Client(), login_url=login_url, user_id="t-1", roles=[INSTRUCTOR])
    lms.tool_jwks = Client().get("/lti/jwks/").json()
    link = CourseLink.objects.get()
    teacher = link.course.memberships.get(role="instructor").user
    return link.course, teacher


def _roles(course) -> dict[str, tuple[str, bool]]:
    return {
        m.user.lti_users.get().sub: (m.role, m.is_active)
        for m in Membership.objects.filter(course=course).select_related("user")
        if m.user.lti_users.exists()
    }


def test_every_page_of_members_is_enrolled_with_their_role(lms, linked):
    course, teacher = linked
    lms.members = [
        member("t-1", [INSTRUCTOR]),
        member("s-1", [LEARNER]),
        member("s-2", [LEARNER]),
        member("ta-1", [TEACHING_ASSISTANT]),
        member("s-3", [LEARNER]),
        member("m-1", [MENTOR]),
    ]
    result = roster_sync(actor=teacher, course=course)
    assert result.members == 6
    # Three pages of two: PyLTI1p3 followed the Link headers.
    assert sum(1 for path in lms.requests_seen if path.startswith("/memberships")) == 3
    assert _roles(course) == {
        "t-1": ("instructor", True),
        "s-1": ("student", True),
        "s-2": ("student", True),
        "s-3": ("student", True),
        "ta-1": ("ta", True),
    }
    assert result.skipped == ["Person m-1"]
    s1 = Membership.objects.get(course=course, user__lti_users__sub="s-1").user
    assert (s1.first_name, s1.last_name, s1.email) == ("Person", "s-1", "s-1@uni.example")


def test_members_who_left_or_are_inactive_are_unenrolled_and_keep_their_work(lms, linked):
    course, teacher = linked
    lms.members = [member("t-1", [INSTRUCTOR]), member("s-1", [LEARNER]), member("s-2", [LEARNER])]
    roster_sync(actor=teacher, course=course)
    local = MembershipFactory(course=course)  # joined Coursebench with a join code, not the LMS
    lms.members = [member("t-1", [INSTRUCTOR]), member("s-2", [LEARNER], status="Inactive")]
    result = roster_sync(actor=teacher, course=course)
    roles = _roles(course)
    assert roles["s-1"] == ("student", False) and roles["s-2"] == ("student", False)
    assert sorted(result.unenrolled) == ["Person s-1", "Person s-2"]
    # Unenrolled, not deleted: the membership rows (and the work tied to the account) remain.
    assert Membership.objects.filter(course=course, user__lti_users__sub="s-1").exists()
    local.refresh_from_db()
    assert local.is_active
    # Back in the LMS: re-enrolled.
    lms.members = [member("t-1", [INSTRUCTOR]), member("s-1", [LEARNER])]
    roster_sync(actor=teacher, course=course)
    assert _roles(course)["s-1"] == ("student", True)


def test_the_last_instructor_is_never_unenrolled_by_a_sync(lms, linked):
    course, teacher = linked
    lms.members = [member("s-1", [LEARNER])]
    result = roster_sync(actor=teacher, course=course)
    assert _roles(course)["t-1"] == ("instructor", True)
    assert result.skipped == [teacher.get_full_name() or teacher.get_username()]


def test_only_instructors_sync(lms, linked):
    course, _teacher = linked
    student = MembershipFactory(course=course).user
    with pytest.raises(PermissionDeniedError):
        roster_sync(actor=student, course=course)


def test_an_lms_that_refuses_says_so(lms, linked):
    course, teacher = linked
    lms.tool_jwks = {"keys": []}  # the LMS cannot check our client assertion: no token
    with pytest.raises(ApplicationError) as error:
        roster_sync(actor=teacher, course=course)
    assert error.value.code == "roster_unavailable"


def _state(course) -> dict:
    """Everything a sync may change: Coursebench memberships, django-lti's LMS users and
    LMS memberships."""
    return {
        "roles": _roles(course),
        "lti_users": sorted(LtiUser.objects.values_list("sub", flat=True)),
        "lti_memberships": sorted(LtiMembership.objects.values_list("user__sub", "is_active")),
    }


def test_an_lms_failing_on_page_two_changes_nothing(lms, linked):
    course, teacher = linked
    lms.members = [member("t-1", [INSTRUCTOR]), member("s-1", [LEARNER]), member("s-2", [LEARNER])]
    roster_sync(actor=teacher, course=course)
    before = _state(course)
    # Page 1 changes (s-1 left, s-3 joined) and page 2 fails: none of it is applied.
    lms.members = [
        member("t-1", [INSTRUCTOR]),
        member("s-3", [LEARNER]),
        member("s-2", [LEARNER]),
        member("s-4", [LEARNER]),
    ]
    lms.members_fail_from = 2
    with pytest.raises(ApplicationError) as error:
        roster_sync(actor=teacher, course=course)
    assert error.value.code == "roster_unavailable"
    assert "page 2" in error.value.message and "nothing was changed" in error.value.message
    assert _state(course) == before
    # The LMS recovers: the next sync applies the whole list.
    lms.members_fail_from = None
    roster_sync(actor=teacher, course=course)
    roles = _roles(course)
    assert roles["s-1"] == ("student", False)
    assert roles["s-3"] == roles["s-4"] == ("student", True)


@pytest.mark.django_db(transaction=True)
def test_no_database_transaction_is_open_while_the_lms_answers(lms, linked):
    course, teacher = linked
    lms.members = [member("t-1", [INSTRUCTOR]), member("s-1", [LEARNER]), member("s-2", [LEARNER])]
    tool_connection = connection  # the test thread's connection, looked at from the LMS's thread
    in_transaction: list[bool] = []
    lms.on_members_page = lambda _start: in_transaction.append(tool_connection.in_atomic_block)
    roster_sync(actor=teacher, course=course)
    assert in_transaction == [False, False]  # two pages, neither fetched inside a transaction
    assert _roles(course)["s-2"] == ("student", True)


def test_an_lms_that_does_not_answer_in_time_changes_nothing(lms, linked, settings):
    course, teacher = linked
    lms.members = [member("t-1", [INSTRUCTOR]), member("s-1", [LEARNER]), member("s-2", [LEARNER])]
    before = _state(course)
    settings.LTI_SERVICE_TIMEOUT_S = 1
    lms.on_members_page = lambda start: time.sleep(3) if start == 2 else None
    started = time.monotonic()
    with pytest.raises(ApplicationError) as error:
        roster_sync(actor=teacher, course=course)
    assert time.monotonic() - started < 2.5  # gave up after the timeout, not after the LMS
    assert error.value.code == "roster_unavailable"
    assert "did not answer within 1 s" in error.value.message
    assert _state(course) == before


def test_the_periodic_task_syncs_every_linked_course(lms, linked):
    course, _teacher = linked
    lms.members = [member("t-1", [INSTRUCTOR]), member("s-9", [LEARNER])]
    celery_app.conf.task_always_eager = True
    try:
        roster_sync_linked.delay()
    finally:
        celery_app.conf.task_always_eager = False
    assert _roles(course)["s-9"] == ("student", True)


def test_the_course_lms_page_and_sync_button_per_role(lms, linked):
    course, teacher = linked
    lms.members = [member("t-1", [INSTRUCTOR]), member("s-1", [LEARNER])]
    student = MembershipFactory(course=course).user
    ta = MembershipFactory(course=course, role=Membership.Role.TEACHING_ASSISTANT).user
    outsider = UserFactory()
    url = f"/courses/{course.slug}/lti/"
    for user, status in ((outsider, 404), (student, 403), (ta, 403), (teacher, 200)):
        client = Client()
        client.force_login(user)
        assert client.get(url).status_code == status
        if status != 200:
            assert client.post(f"{url}roster/").status_code == status
    assert Client().get(url).status_code == 302
    assert "s-1" not in _roles(course)
    client = Client()
    client.force_login(teacher)
    response = client.post(f"/courses/{course.slug}/lti/roster/", follow=True)
    assert b"2 members in the LMS" in response.content
    assert _roles(course)["s-1"] == ("student", True)
