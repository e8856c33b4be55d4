"""Self-enrolment services: instructors set up and rotate the join code; a signed-in person
joins as a student with it, within the email domain, in the join section."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from core.actors import SYSTEM
from core.exceptions import ApplicationError, NotFoundError, PermissionDeniedError
from courseware.models import Course, Membership
from courseware.services import enrolment
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ta(course):
    return MembershipFactory(course=course, role=Membership.Role.TEACHING_ASSISTANT).user


@pytest.fixture
def open_course(course):
    enrolment.join_settings_update(
        actor=SYSTEM, course=course, enabled=True, email_domain="", section=""
    )
    course.refresh_from_db()
    return course


def newcomer(email: str = "new@student.example.edu"):
    return UserFactory(email=email)


def test_turning_self_enrolment_on_makes_a_readable_code(course, instructor):
    enrolment.join_settings_update(
        actor=instructor, course=course, enabled=True, email_domain="", section=""
    )

    course.refresh_from_db()
    assert course.join_enabled
    assert re.fullmatch(r"[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{8}", course.join_code)


def test_the_domain_is_stored_without_the_at_and_a_bad_one_is_refused(course, instructor):
    enrolment.join_settings_update(
        actor=instructor, course=course, enabled=True, email_domain=" @Example.EDU ", section="A"
    )
    course.refresh_from_db()
    assert (course.join_email_domain, course.join_section) == ("example.edu", "A")

    with pytest.raises(ApplicationError) as exc:
        enrolment.join_settings_update(
            actor=instructor, course=course, enabled=True, email_domain="not a domain", section=""
        )
    assert exc.value.code == "invalid_email_domain" and "after the @" in exc.value.message


@pytest.mark.parametrize("who", ["student", "ta", "other_student"])
def test_only_instructors_change_join_settings_or_rotate(request, course, who):
    actor = request.getfixturevalue(who)
    expected = NotFoundError if who == "other_student" else PermissionDeniedError

    with pytest.raises(expected):
        enrolment.join_settings_update(
            actor=actor, course=course, enabled=True, email_domain="", section=""
        )
    with pytest.raises(expected):
        enrolment.join_code_rotate(actor=actor, course=course)
    course.refresh_from_db()
    assert not course.join_enabled and course.join_code == ""


def test_rotating_invalidates_the_old_code(open_course, instructor):
    old = open_course.join_code

    new = enrolment.join_code_rotate(actor=instructor, course=open_course)

    assert new != old and len(new) == 8
    with pytest.raises(ApplicationError) as exc:
        enrolment.course_join(actor=newcomer(), code=old)
    assert exc.value.code == "join_code_invalid"
    assert enrolment.course_join(actor=newcomer("b@x.edu"), code=new).course == open_course


def test_codes_are_unique_among_courses(open_course, other_course, monkeypatch):
    picks = iter(open_course.join_code + "BBBBBBBB")
    monkeypatch.setattr(enrolment.secrets, "choice", lambda alphabet: next(picks))

    code = enrolment.join_code_rotate(actor=SYSTEM, course=other_course)

    assert code == "BBBBBBBB"


def test_a_person_joins_as_a_student_with_the_code_typed_loosely(open_course):
    user = newcomer()
    typed = f" {open_course.join_code[:4].lower()}-{open_course.join_code[4:]} "

    membership = enrolment.course_join(actor=user, code=typed)

    assert (membership.course, membership.user, membership.role) == (
        open_course,
        user,
        Membership.Role.STUDENT,
    )
    assert membership.is_active
    # Joining again is harmless.
    assert enrolment.course_join(actor=user, code=open_course.join_code).pk == membership.pk


def test_a_wrong_code_and_a_switched_off_code_get_the_same_message(open_course, instructor):
    with pytest.raises(ApplicationError) as wrong:
        enrolment.course_join(actor=newcomer(), code="ZZZZZZZZ")
    enrolment.join_settings_update(
        actor=instructor, course=open_course, enabled=False, email_domain="", section=""
    )
    with pytest.raises(ApplicationError) as off:
        enrolment.course_join(actor=newcomer("b@x.edu"), code=open_course.join_code)

    assert (wrong.value.code, wrong.value.message) == (off.value.code, off.value.message)
    assert wrong.value.code == "join_code_invalid"
    assert not Membership.objects.filter(course=open_course, role="student").exists()


@pytest.mark.parametrize("state", [Course.State.DRAFT, Course.State.ARCHIVED])
def test_a_draft_or_archived_course_cannot_be_joined(open_course, state):
    Course.objects.filter(pk=open_course.pk).update(state=state)

    with pytest.raises(ApplicationError) as exc:
        enrolment.course_join(actor=newcomer(), code=open_course.join_code)
    assert exc.value.code == "join_code_invalid"


def test_the_email_domain_restriction_names_the_domain(open_course, instructor):
    enrolment.join_settings_update(
        actor=instructor,
        course=open_course,
        enabled=True,
        email_domain="example.edu",
        section="",
    )

    with pytest.raises(ApplicationError) as exc:
        enrolment.course_join(actor=newcomer("x@gmail.com"), code=open_course.join_code)
    assert exc.value.code == "join_email_domain" and "@example.edu" in exc.value.message
    assert enrolment.course_join(actor=newcomer("a@example.edu"), code=open_course.join_code)
    # A subdomain of the institution's domain is in; a look-alike domain is not.
    assert enrolment.course_join(
        actor=newcomer("b@student.example.edu"), code=open_course.join_code
    )
    with pytest.raises(ApplicationError):
        enrolment.course_join(actor=newcomer("c@badexample.edu"), code=open_course.join_code)


def test_joiners_land_in_the_join_section(open_course, instructor):
    enrolment.join_settings_update(
        actor=instructor, course=open_course, enabled=True, email_domain="", section="Tue lab"
    )

    membership = enrolment.course_join(actor=newcomer(), code=open_course.join_code)

    assert membership.section == "Tue lab"


def test_rejoining_reactivates_an_unenrolled_student_keeping_the_row(open_course, student):
    Membership.objects.filter(user=student).update(is_active=False, unenrolled_at=timezone.now())
    before = Membership.objects.get(user=student)

    membership = enrolment.course_join(actor=student, code=open_course.join_code)

    assert membership.pk == before.pk and membership.is_active
    assert membership.unenrolled_at is None


@pytest.mark.parametrize("who", ["instructor", "ta"])
def test_staff_cannot_join_their_own_course_as_students(request, open_course, who):
    user = request.getfixturevalue(who)
    role = Membership.objects.get(user=user).role

    with pytest.raises(ApplicationError) as exc:
        enrolment.course_join(actor=user, code=open_course.join_code)

    assert exc.value.code == "already_staff"
    assert Membership.objects.get(user=user).role == role


def test_a_student_of_another_course_joins_this_one(open_course, other_student):
    membership = enrolment.course_join(actor=other_student, code=open_course.join_code)
    assert membership.course == open_course and membership.role == Membership.Role.STUDENT


@pytest.mark.parametrize("actor", [AnonymousUser(), SYSTEM])
def test_joining_needs_a_signed_in_person(open_course, actor):
    with pytest.raises(PermissionDeniedError):
        enrolment.course_join(actor=actor, code=open_course.join_code)
