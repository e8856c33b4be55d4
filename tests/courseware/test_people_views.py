"""The People page per role, and each row action: add, change role and section, unenrol,
re-enrol, resend an invitation. Instructors only; other courses' people never show."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from courseware.models import Membership
from tests.factories import MembershipFactory, UserFactory

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


def client_for(request, who: str) -> Client:
    client = Client()
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    return client


def people_url(course) -> str:
    return reverse("course-people", args=[course.slug])


def action_url(name: str, course, user) -> str:
    return reverse(name, args=[course.slug, user.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


ROLE_STATUS = [
    ("anonymous", 302),
    ("other_student", 404),
    ("other_instructor", 404),
    ("student", 403),
    ("ta", 403),
    ("instructor", 200),
]


@pytest.mark.parametrize(("who", "status"), ROLE_STATUS)
def test_only_instructors_open_the_people_page(request, who, status, course, student):
    response = client_for(request, who).get(people_url(course))

    assert response.status_code == status
    if who == "anonymous":
        assert response["Location"].startswith(reverse("login"))


ACTIONS = [
    "course-person-update",
    "course-person-unenrol",
    "course-person-reenrol",
    "course-person-invite",
]


@pytest.mark.parametrize(("who", "status"), [rs for rs in ROLE_STATUS if rs[1] != 200])
@pytest.mark.parametrize("action", [*ACTIONS, "add"])
def test_only_instructors_act_on_people(request, who, status, action, course, student):
    client = client_for(request, who)
    if action == "add":
        response = client.post(people_url(course), {"email": "new@example.edu", "role": "student"})
    else:
        response = client.post(
            action_url(action, course, student), {"role": "instructor", "section": "X"}
        )

    assert response.status_code == status
    membership = Membership.objects.get(user=student, course=course)
    assert (membership.role, membership.section, membership.is_active) == ("student", "", True)
    assert not Membership.objects.filter(user__email="new@example.edu").exists()
    assert mail.outbox == []


def test_the_page_lists_role_section_status_and_last_login(client, instructor, student, course):
    Membership.objects.filter(user=student).update(section="Tue lab")
    gone = MembershipFactory(course=course, is_active=False).user
    client.force_login(instructor)

    html = client.get(people_url(course)).content.decode()

    assert student.email in html and "Tue lab" in html
    assert "Unenrolled" in html and action_url("course-person-reenrol", course, gone) in html
    assert "Last login" in html and "Never" in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_the_page_never_shows_another_courses_people(client, instructor, course, other_student):
    client.force_login(instructor)

    assert other_student.email not in client.get(people_url(course)).content.decode()


def test_the_course_page_links_instructors_to_people(client, instructor, student, course):
    client.force_login(instructor)
    assert (
        people_url(course)
        in client.get(reverse("course-detail", args=[course.slug])).content.decode()
    )
    client.force_login(student)
    assert (
        people_url(course)
        not in client.get(reverse("course-detail", args=[course.slug])).content.decode()
    )


def test_adding_a_new_person_invites_them(client, instructor, course):
    client.force_login(instructor)

    response = client.post(
        people_url(course),
        {"email": "linus@example.edu", "first_name": "Linus", "role": "ta", "section": "B"},
        follow=True,
    )

    assert messages_of(response) == [
        "Added Linus as teaching assistant and emailed an invitation to set a password."
    ]
    membership = Membership.objects.get(course=course, user__email="linus@example.edu")
    assert (membership.role, membership.section) == (Role.TEACHING_ASSISTANT, "B")
    assert [m.to for m in mail.outbox] == [["linus@example.edu"]]
    assert (
        "Invited" in response.content.decode() and "Resend invitation" in response.content.decode()
    )


def test_adding_a_bad_email_says_what_to_fix(client, instructor, course):
    client.force_login(instructor)

    response = client.post(people_url(course), {"email": "not-an-email", "role": "student"})

    assert response.status_code == 400
    assert "That is not an email address" in response.content.decode()
    assert Membership.objects.filter(course=course).count() == 1


def test_adding_someone_already_enrolled_is_a_clear_message(client, instructor, student, course):
    client.force_login(instructor)

    response = client.post(people_url(course), {"email": student.email, "role": "student"})

    assert response.status_code == 400
    assert "is already in ICTSS00120 as student" in messages_of(response)[0]


def test_changing_role_and_section_keeps_the_filters(client, instructor, student, course):
    client.force_login(instructor)
    back = people_url(course) + "?role=student"

    response = client.post(
        action_url("course-person-update", course, student),
        {"role": "ta", "section": "Wed", "next": back},
    )

    assert response.status_code == 302 and response["Location"] == back
    membership = Membership.objects.get(user=student, course=course)
    assert (membership.role, membership.section) == (Role.TEACHING_ASSISTANT, "Wed")


def test_a_next_off_the_site_is_ignored(client, instructor, student, course):
    client.force_login(instructor)

    response = client.post(
        action_url("course-person-unenrol", course, student), {"next": "https://evil.example/"}
    )

    assert response["Location"] == people_url(course)


def test_demoting_the_last_instructor_is_refused_with_a_message(client, instructor, course):
    client.force_login(instructor)

    response = client.post(
        action_url("course-person-update", course, instructor),
        {"role": "student", "section": ""},
        follow=True,
    )

    assert "add another instructor" in messages_of(response)[0]
    assert Membership.objects.get(user=instructor, course=course).role == Role.INSTRUCTOR


def test_an_unknown_role_is_refused_with_a_message(client, instructor, student, course):
    client.force_login(instructor)

    response = client.post(
        action_url("course-person-update", course, student), {"role": "owner"}, follow=True
    )

    assert "Choose instructor, teaching assistant or student." in messages_of(response)[0]


def test_unenrol_then_re_enrol(client, instructor, student, course):
    client.force_login(instructor)

    response = client.post(action_url("course-person-unenrol", course, student), follow=True)
    assert "their work is kept" in messages_of(response)[0]
    assert not Membership.objects.get(user=student, course=course).is_active
    student_client = Client()
    student_client.force_login(student)
    assert student_client.get(reverse("course-detail", args=[course.slug])).status_code == 404

    client.post(action_url("course-person-reenrol", course, student))
    assert student_client.get(reverse("course-detail", args=[course.slug])).status_code == 200


def test_the_status_filter_lists_those_who_have_not_accepted(client, instructor, student, course):
    client.force_login(instructor)
    client.post(people_url(course), {"email": "linus@example.edu", "role": "student"})

    html = client.get(people_url(course), {"status": "invited"}).content.decode()

    assert "linus@example.edu" in html and student.email not in html


def test_resending_an_invitation(client, instructor, course):
    client.force_login(instructor)
    client.post(people_url(course), {"email": "linus@example.edu", "role": "student"})
    linus = UserFactory._meta.model.objects.get(email="linus@example.edu")

    response = client.post(action_url("course-person-invite", course, linus), follow=True)

    assert messages_of(response)[-1] == "Sent linus a new invitation to linus@example.edu."
    assert len(mail.outbox) == 2


def test_a_person_of_another_course_is_not_found(client, instructor, course, other_student):
    client.force_login(instructor)

    response = client.post(action_url("course-person-unenrol", course, other_student))

    assert response.status_code == 404
    assert Membership.objects.get(user=other_student).is_active


def test_actions_need_csrf(instructor, student, course):
    client = Client(enforce_csrf_checks=True)
    client.force_login(instructor)

    response = client.post(action_url("course-person-unenrol", course, student))

    assert response.status_code == 403
    assert Membership.objects.get(user=student, course=course).is_active


def test_an_instructor_who_steps_down_lands_on_my_courses(client, instructor, course):
    MembershipFactory(course=course, role=Role.INSTRUCTOR)
    client.force_login(instructor)

    response = client.post(
        action_url("course-person-update", course, instructor), {"role": "student"}
    )

    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert Membership.objects.get(user=instructor, course=course).role == Role.STUDENT
