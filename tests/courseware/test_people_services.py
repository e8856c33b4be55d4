"""People services and selectors: adding by email (with an invitation for a new account),
changing role and section, unenrolling (work kept) and re-enrolling, resending invitations;
instructors only, and a course always keeps an instructor."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core.actors import SYSTEM
from core.exceptions import ApplicationError, NotFoundError, PermissionDeniedError
from courseware.models import HomeworkCompletion, Membership
from courseware.permissions import course_role
from courseware.selectors import people as selectors
from courseware.selectors.people import Status
from courseware.services import people as services
from tests.factories import CourseFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
SITE = "https://coursebench.example.edu"
Role = Membership.Role


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def ta(course):
    return MembershipFactory(course=course, role=Role.TEACHING_ASSISTANT).user


@pytest.fixture
def other_instructor(other_course):
    return MembershipFactory(course=other_course, role=Role.INSTRUCTOR).user


def membership_of(user, course) -> Membership:
    return Membership.objects.select_related("user", "course").get(user=user, course=course)


def invitation_link() -> str:
    link = re.search(rf"{SITE}(/accounts/invitation/\S+)", mail.outbox[-1].body)
    assert link, mail.outbox[-1].body
    return link.group(1)


# --- Adding a person -----------------------------------------------------------------------


def test_adding_an_existing_account_enrols_it_without_an_invitation(instructor, course):
    grace = UserFactory(email="grace@example.edu")

    membership, invited = services.member_add(
        actor=instructor, course=course, email="GRACE@example.edu", section=" Tue lab "
    )

    assert (membership.user, membership.role, membership.section) == (
        grace,
        Role.STUDENT,
        "Tue lab",
    )
    assert invited is False
    assert mail.outbox == []


def test_adding_a_new_email_creates_an_account_and_emails_a_working_link(instructor, course):
    membership, invited = services.member_add(
        actor=instructor, course=course, email="linus@example.edu", first_name="Linus"
    )

    assert invited is True
    assert membership.user.first_name == "Linus"
    assert not membership.user.has_usable_password()
    assert [m.to for m in mail.outbox] == [["linus@example.edu"]]
    client = Client()
    response = client.get(invitation_link())
    assert response.status_code == 302
    password = "a-brand-new-passphrase"
    client.post(response["Location"], {"new_password1": password, "new_password2": password})
    membership.user.refresh_from_db()
    assert membership.user.check_password(password)


def test_adding_someone_already_enrolled_says_so(instructor, student, course):
    with pytest.raises(ApplicationError) as exc:
        services.member_add(
            actor=instructor, course=course, email=student.email, role=Role.TEACHING_ASSISTANT
        )
    assert exc.value.code == "already_member"
    assert membership_of(student, course).role == Role.STUDENT


def test_adding_an_unenrolled_member_re_enrols_them_with_the_new_role(instructor, student, course):
    services.member_unenrol(actor=instructor, membership=membership_of(student, course))

    membership, invited = services.member_add(
        actor=instructor, course=course, email=student.email, role=Role.TEACHING_ASSISTANT
    )

    assert membership.is_active and membership.unenrolled_at is None
    assert membership.role == Role.TEACHING_ASSISTANT and not invited
    assert Membership.objects.filter(user=student, course=course).count() == 1


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"email": "not an email"}, "invalid_email"),
        ({"email": "x@example.edu", "role": "owner"}, "invalid_role"),
        ({"email": "x@example.edu", "section": "S" * 61}, "invalid_section"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(instructor, course, fields, code):
    with pytest.raises(ApplicationError) as exc:
        services.member_add(actor=instructor, course=course, **fields)
    assert exc.value.code == code
    assert exc.value.message
    assert not Membership.objects.filter(course=course, user__email="x@example.edu").exists()
    assert mail.outbox == []


# --- Who may -------------------------------------------------------------------------------


def _add(actor, course, membership):
    return services.member_add(actor=actor, course=course, email="new@example.edu")


def _update(actor, course, membership):
    return services.member_update(actor=actor, membership=membership, section="A")


def _unenrol(actor, course, membership):
    return services.member_unenrol(actor=actor, membership=membership)


def _reenrol(actor, course, membership):
    return services.member_reenrol(actor=actor, membership=membership)


def _resend(actor, course, membership):
    membership.user.set_unusable_password()
    membership.user.save()
    return services.member_invite_resend(actor=actor, membership=membership)


WRITES = {
    "member_add": _add,
    "member_update": _update,
    "member_unenrol": _unenrol,
    "member_reenrol": _reenrol,
    "member_invite_resend": _resend,
}


@pytest.mark.parametrize("write", WRITES)
@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("student", PermissionDeniedError),
        ("ta", PermissionDeniedError),
        ("other_student", NotFoundError),
        ("other_instructor", NotFoundError),
    ],
)
def test_only_the_courses_instructors_manage_its_people(
    request, write, who, error, student, course
):
    actor = request.getfixturevalue(who)
    membership = membership_of(student, course)
    before = (membership.role, membership.section, membership.is_active)

    with pytest.raises(error):
        WRITES[write](actor, course, membership)

    membership.refresh_from_db()
    assert (membership.role, membership.section, membership.is_active) == before
    assert mail.outbox == []


@pytest.mark.parametrize("write", WRITES)
@pytest.mark.parametrize("who", ["instructor", "system"])
def test_an_instructor_or_system_may(request, write, who, student, course):
    actor = SYSTEM if who == "system" else request.getfixturevalue(who)
    WRITES[write](actor, course, membership_of(student, course))


def test_anonymous_may_not_add_people(course):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(NotFoundError):
        services.member_add(actor=AnonymousUser(), course=course, email="x@example.edu")


# --- Role, section, the last instructor ----------------------------------------------------


def test_an_instructor_changes_a_role_and_section(instructor, student, course):
    membership = services.member_update(
        actor=instructor,
        membership=membership_of(student, course),
        role=Role.TEACHING_ASSISTANT,
        section="B",
    )

    assert (membership.role, membership.section) == (Role.TEACHING_ASSISTANT, "B")
    assert course_role(user=student, course=course) == Role.TEACHING_ASSISTANT


def test_the_last_instructor_cannot_be_demoted(instructor, course):
    with pytest.raises(ApplicationError) as exc:
        services.member_update(
            actor=instructor, membership=membership_of(instructor, course), role=Role.STUDENT
        )
    assert exc.value.code == "last_instructor"
    assert "add another instructor" in exc.value.message
    assert membership_of(instructor, course).role == Role.INSTRUCTOR


def test_the_last_instructor_cannot_be_unenrolled(instructor, course):
    with pytest.raises(ApplicationError) as exc:
        services.member_unenrol(actor=instructor, membership=membership_of(instructor, course))
    assert exc.value.code == "last_instructor"
    assert membership_of(instructor, course).is_active


def test_an_unenrolled_instructor_does_not_count_as_another(instructor, course):
    gone = MembershipFactory(course=course, role=Role.INSTRUCTOR, is_active=False)

    with pytest.raises(ApplicationError):
        services.member_unenrol(actor=instructor, membership=membership_of(instructor, course))
    assert not Membership.objects.get(pk=gone.pk).is_active


def test_with_a_second_instructor_one_may_step_down(instructor, course):
    MembershipFactory(course=course, role=Role.INSTRUCTOR)

    services.member_update(
        actor=instructor, membership=membership_of(instructor, course), role=Role.STUDENT
    )

    assert course_role(user=instructor, course=course) == Role.STUDENT


# --- Unenrol and re-enrol ------------------------------------------------------------------


def test_unenrolling_keeps_the_work_and_takes_away_access(instructor, student, course, session12):
    task = session12.homework.first()
    HomeworkCompletion.objects.create(task=task, student=student)

    membership = services.member_unenrol(
        actor=instructor, membership=membership_of(student, course)
    )

    assert not membership.is_active and membership.unenrolled_at is not None
    assert course_role(user=student, course=course) is None
    assert HomeworkCompletion.objects.filter(student=student).count() == 1


def test_re_enrolling_restores_role_section_and_access(instructor, student, course):
    services.member_update(actor=instructor, membership=membership_of(student, course), section="C")
    services.member_unenrol(actor=instructor, membership=membership_of(student, course))

    membership = services.member_reenrol(
        actor=instructor, membership=membership_of(student, course)
    )

    assert membership.is_active and membership.unenrolled_at is None
    assert (membership.role, membership.section) == (Role.STUDENT, "C")
    assert course_role(user=student, course=course) == Role.STUDENT


def test_member_change_re_enrols_and_changes_role_at_once(instructor, student, course):
    services.member_unenrol(actor=instructor, membership=membership_of(student, course))

    services.member_change(
        actor=instructor,
        membership=membership_of(student, course),
        is_active=True,
        role=Role.TEACHING_ASSISTANT,
    )

    assert course_role(user=student, course=course) == Role.TEACHING_ASSISTANT


# --- Invitations ---------------------------------------------------------------------------


def test_resending_an_invitation_sends_a_new_link_and_ends_the_old_one(instructor, course):
    membership, _ = services.member_add(actor=instructor, course=course, email="l@example.edu")
    old = invitation_link()

    services.member_invite_resend(actor=instructor, membership=membership)

    new = invitation_link()
    assert len(mail.outbox) == 2 and new != old
    assert "expired or was already used" in Client().get(old, follow=True).content.decode()
    assert Client().get(new).status_code == 302


def test_someone_with_a_password_is_not_re_invited(instructor, student, course):
    with pytest.raises(ApplicationError) as exc:
        services.member_invite_resend(actor=instructor, membership=membership_of(student, course))
    assert exc.value.code == "already_active"
    assert mail.outbox == []


def test_an_unenrolled_member_is_not_invited(instructor, course):
    membership, _ = services.member_add(actor=instructor, course=course, email="l@example.edu")
    services.member_unenrol(actor=instructor, membership=membership)

    with pytest.raises(ApplicationError) as exc:
        services.member_invite_resend(actor=instructor, membership=membership)
    assert exc.value.code == "not_enrolled"
    assert len(mail.outbox) == 1


# --- The list --------------------------------------------------------------------------------


def test_the_list_says_each_persons_status(instructor, student, course):
    invited, _ = services.member_add(actor=instructor, course=course, email="l@example.edu")
    gone = MembershipFactory(course=course, is_active=False)

    statuses = {m.user_id: m.status for m in selectors.member_list(actor=instructor, course=course)}

    assert statuses == {
        instructor.pk: Status.ACTIVE,
        student.pk: Status.ACTIVE,
        invited.user_id: Status.INVITED,
        gone.user_id: Status.UNENROLLED,
    }


def test_the_list_puts_instructors_first_and_filters(instructor, student, ta, course):
    MembershipFactory(course=course, section="Tue")
    MembershipFactory(course=course, is_active=False, section="Tue")

    every = selectors.member_list(actor=instructor, course=course)
    roles = [m.role for m in every]
    assert roles[:2] == [Role.INSTRUCTOR, Role.TEACHING_ASSISTANT]
    assert set(roles[2:]) == {Role.STUDENT}
    assert [m.user for m in selectors.member_list(actor=instructor, course=course, role="ta")] == [
        ta
    ]
    tue = selectors.member_list(actor=instructor, course=course, section="Tue", status="active")
    assert [m.section for m in tue] == ["Tue"]
    assert selectors.member_sections(actor=instructor, course=course) == ["Tue"]


def test_the_list_never_shows_another_courses_people(instructor, course, other_student):
    people = {m.user for m in selectors.member_list(actor=instructor, course=course)}
    assert other_student not in people
    with pytest.raises(NotFoundError):
        selectors.member_get(actor=instructor, course=course, user_id=other_student.pk)


def test_an_unknown_filter_value_is_refused(instructor, course):
    with pytest.raises(ApplicationError) as exc:
        selectors.member_list(actor=instructor, course=course, status="gone")
    assert exc.value.code == "invalid_status"


@pytest.mark.parametrize("who", ["student", "ta", "other_instructor"])
def test_only_instructors_list_people(request, who, course):
    with pytest.raises((PermissionDeniedError, NotFoundError)):
        selectors.member_list(actor=request.getfixturevalue(who), course=course)


def _list_queries(actor, course) -> int:
    with CaptureQueriesContext(connection) as queries:
        rows = [
            (m.user.email, m.status, m.invited_at, m.user.last_login, m.course.slug)
            for m in selectors.member_list(actor=actor, course=course)
        ]
    assert rows
    return len(queries)


def test_the_list_takes_the_same_queries_for_30_and_300_members():
    small, large = CourseFactory(code="SMALL1"), CourseFactory(code="LARGE1")
    counts = {}
    for course, size in ((small, 30), (large, 300)):
        boss = MembershipFactory(course=course, role=Role.INSTRUCTOR).user
        users = [UserFactory.build(username=f"{course.code}-{i}") for i in range(size)]
        for user in users:
            user.set_unusable_password()
        users = type(boss).objects.bulk_create(users)
        Membership.objects.bulk_create(
            Membership(course=course, user=u, role="student") for u in users
        )
        counts[size] = _list_queries(boss, course)
    assert counts[30] == counts[300]
