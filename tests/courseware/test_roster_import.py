"""`courseware.services.roster`: roster preview and import (who may, what changes, errors)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core import mail

from accounts.models import Profile
from accounts.services import profile_get_or_create
from core.actors import SYSTEM
from core.exceptions import NotFoundError, PermissionDeniedError
from courseware.models import Membership
from courseware.services.roster import RosterInvalid, roster_import, roster_preview
from tests.factories import MembershipFactory, UserFactory

Role = Membership.Role
EXCEL = (
    "\ufeffE-mail;Given name;Surname;Student ID;Role;Section\r\n"
    "ann.lee@example.edu;Ann;Lee;S1001;Learner;Tue lab\r\n"
    "bo.chen@example.edu;Bo;Chen;S1002;TA;\r\n"
).encode()


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Import as a real request would: the transaction commits, invitations go out."""

    def run_import(*, actor, course, data):
        with django_capture_on_commit_callbacks(execute=True):
            return roster_import(actor=actor, course=course, data=data)

    return run_import


def state(course) -> set[tuple]:
    return {
        (m.user.email, m.role, m.section, m.is_active)
        for m in Membership.objects.filter(course=course).select_related("user")
    }


def test_it_creates_invites_and_enrols_the_people_of_an_excel_file(run, course, instructor):
    result = run(actor=instructor, course=course, data=EXCEL)

    assert result.as_dict() == {"created": 2, "updated": 0, "unchanged": 0, "invited": 2}
    assert state(course) >= {
        ("ann.lee@example.edu", Role.STUDENT, "Tue lab", True),
        ("bo.chen@example.edu", Role.TEACHING_ASSISTANT, "", True),
    }
    ann = Membership.objects.get(course=course, user__email="ann.lee@example.edu").user
    assert (ann.first_name, ann.last_name, ann.profile.student_id) == ("Ann", "Lee", "S1001")
    assert not ann.has_usable_password()
    assert sorted(m.to[0] for m in mail.outbox) == ["ann.lee@example.edu", "bo.chen@example.edu"]
    assert ann.profile.invited_by == instructor


def test_reimporting_the_same_file_changes_nothing_and_sends_no_email(run, course, instructor):
    run(actor=instructor, course=course, data=EXCEL)
    before = state(course)
    mail.outbox.clear()

    result = run(actor=instructor, course=course, data=EXCEL)

    assert result.as_dict() == {"created": 0, "updated": 0, "unchanged": 2, "invited": 0}
    assert state(course) == before
    assert mail.outbox == []


def test_the_preview_counts_without_writing(course, instructor):
    plan = roster_preview(actor=instructor, course=course, data=EXCEL)

    assert (plan.created, plan.updated, plan.unchanged, plan.invited) == (2, 0, 0, 2)
    assert plan.errors == []
    assert not Membership.objects.filter(course=course, role=Role.STUDENT).exists()
    assert not Profile.objects.filter(student_id="S1001").exists()


def test_it_matches_by_student_id_when_the_email_is_new(run, course, instructor):
    known = UserFactory(email="old.address@example.edu")
    profile = profile_get_or_create(user=known)
    profile.student_id = "S1001"
    profile.save()

    result = run(actor=instructor, course=course, data=b"email,student_id\nann@new.edu,S1001\n")

    assert result.as_dict() == {"created": 1, "updated": 0, "unchanged": 0, "invited": 0}
    assert Membership.objects.get(course=course, user=known).role == Role.STUDENT
    known.refresh_from_db()
    assert known.email == "old.address@example.edu"  # an instructor never changes an email
    assert mail.outbox == []


def test_it_matches_email_case_insensitively_and_updates_role_and_section(
    run, course, instructor, student
):
    data = f"email,role,section\n{student.email.upper()},ta,Wed\n".encode()

    result = run(actor=instructor, course=course, data=data)

    assert result.as_dict() == {"created": 0, "updated": 1, "unchanged": 0, "invited": 0}
    membership = Membership.objects.get(course=course, user=student)
    assert (membership.role, membership.section) == (Role.TEACHING_ASSISTANT, "Wed")


def test_blank_cells_keep_what_an_existing_member_has(run, course, instructor):
    ta = MembershipFactory(course=course, role=Role.TEACHING_ASSISTANT, section="Tue").user

    result = run(
        actor=instructor, course=course, data=f"email,role,section\n{ta.email},,\n".encode()
    )

    assert result.unchanged == 1
    membership = Membership.objects.get(course=course, user=ta)
    assert (membership.role, membership.section) == (Role.TEACHING_ASSISTANT, "Tue")


def test_a_row_for_an_unenrolled_member_reenrols_them(run, course, instructor, student):
    Membership.objects.filter(user=student).update(is_active=False)

    result = run(actor=instructor, course=course, data=f"email\n{student.email}\n".encode())

    assert result.updated == 1
    assert Membership.objects.get(course=course, user=student).is_active


def test_the_uploader_is_never_demoted(run, course, instructor):
    result = run(
        actor=instructor, course=course, data=f"email,role\n{instructor.email},student\n".encode()
    )

    assert result.unchanged == 1
    assert Membership.objects.get(course=course, user=instructor).role == Role.INSTRUCTOR


@pytest.mark.parametrize(
    ("rows", "column"),
    [
        ("nobody-at-example,,", "email"),
        ("a@example.edu,,wizard", "role"),
        ("a@example.edu,,\nA@EXAMPLE.EDU,,", "email"),
        ("taken@example.edu,S9,", "student_id"),
    ],
    ids=["bad email", "unknown role", "duplicate email", "student id of another account"],
)
def test_a_bad_row_names_row_and_column_and_nothing_is_written(
    run, course, instructor, rows, column
):
    holder = profile_get_or_create(user=UserFactory(email="holder@example.edu"))
    holder.student_id = "S9"
    holder.save()
    UserFactory(email="taken@example.edu")
    data = f"email,student_id,role\ngood@example.edu,S1,\n{rows}\n".encode()
    before = (state(course), Profile.objects.count())

    with pytest.raises(RosterInvalid) as info:
        run(actor=instructor, course=course, data=data)

    assert info.value.code == "roster_invalid"
    (error,) = info.value.errors
    assert (error.row, error.column) == (4 if "\n" in rows else 3, column)
    assert info.value.as_dict()["rows"] == [
        {"row": error.row, "column": column, "message": error.message}
    ]
    assert (state(course), Profile.objects.count()) == before
    assert mail.outbox == []


def test_an_account_whose_student_id_differs_is_a_row_error(run, course, instructor, student):
    profile = profile_get_or_create(user=student)
    profile.student_id = "S1"
    profile.save()

    with pytest.raises(RosterInvalid) as info:
        run(
            actor=instructor, course=course, data=f"email,student_id\n{student.email},S2\n".encode()
        )

    assert [(e.row, e.column) for e in info.value.errors] == [(2, "student_id")]


def test_two_rows_for_one_account_are_a_row_error(run, course, instructor, student):
    profile = profile_get_or_create(user=student)
    profile.student_id = "S1"
    profile.save()
    data = f"email,student_id\n{student.email},\nnew@example.edu,S1\n".encode()

    with pytest.raises(RosterInvalid) as info:
        run(actor=instructor, course=course, data=data)

    assert [(e.row, e.column) for e in info.value.errors] == [(3, "email")]


def test_system_may_import(run, course):
    assert run(actor=SYSTEM, course=course, data=EXCEL).created == 2


@pytest.mark.parametrize("who", ["student", "ta", "other_instructor", "other_student"])
def test_only_the_courses_instructors_may_preview_or_import(
    course, other_course, student, other_student, who
):
    actor = {
        "student": student,
        "other_student": other_student,
        "ta": MembershipFactory(course=course, role=Role.TEACHING_ASSISTANT).user,
        "other_instructor": MembershipFactory(course=other_course, role=Role.INSTRUCTOR).user,
    }[who]
    expected = PermissionDeniedError if who in {"student", "ta"} else NotFoundError
    for service in (roster_preview, roster_import):
        with pytest.raises(expected):
            service(actor=actor, course=course, data=EXCEL)
    assert not Profile.objects.filter(student_id="S1001").exists()


def test_anonymous_may_not_import(course):
    with pytest.raises(NotFoundError):
        roster_import(actor=AnonymousUser(), course=course, data=EXCEL)
