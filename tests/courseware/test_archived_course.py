"""An archived course is read-only for everyone: every write service refuses with
`course_archived` (409), whoever asks; reads keep working; SYSTEM (commands) may still write."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework.test import APIClient

from core.actors import SYSTEM
from core.exceptions import ApplicationError
from courseware import permissions, services
from courseware.models import Course, HomeworkCompletion, Membership
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def archived(course):
    course.state = Course.State.ARCHIVED
    course.save(update_fields=["state"])
    return course


def _first_task(session):
    return session.homework.order_by("position").first()


def test_require_writable_refuses_an_archived_course_with_409(archived, instructor):
    with pytest.raises(ApplicationError) as excinfo:
        permissions.require_writable(actor=instructor, course=archived)

    assert excinfo.value.code == "course_archived"
    assert excinfo.value.status_code == 409
    assert "ICTSS00120 is archived (read-only)" in excinfo.value.message


@pytest.mark.parametrize("state", [Course.State.PUBLISHED, Course.State.DRAFT])
def test_require_writable_lets_other_states_through(course, instructor, state):
    course.state = state
    permissions.require_writable(actor=instructor, course=course)  # no error


def test_a_student_cannot_tick_homework_in_an_archived_course(archived, session12, student):
    with pytest.raises(ApplicationError) as excinfo:
        services.homework_completion_set(actor=student, task=_first_task(session12), done=True)

    assert excinfo.value.code == "course_archived"
    assert not HomeworkCompletion.objects.exists()


def test_an_instructor_changes_nothing_in_an_archived_course(
    archived, session12, instructor, seed_deck_source
):
    task = _first_task(session12)
    writes = [
        lambda: services.homework_due_set(actor=instructor, task=task, due_at=None),
        lambda: services.session_import_deck(
            actor=instructor, course=archived, source=seed_deck_source
        ),
        lambda: services.membership_set(
            actor=instructor, course=archived, user=UserFactory(), role=Membership.Role.STUDENT
        ),
    ]
    for write in writes:
        with pytest.raises(ApplicationError) as excinfo:
            write()
        assert excinfo.value.code == "course_archived"
    assert archived.memberships.count() == 1  # only the instructor


def test_system_may_still_write_to_an_archived_course(archived, session12, student):
    services.homework_completion_set(
        actor=SYSTEM, task=_first_task(session12), student=student, done=True
    )
    assert HomeworkCompletion.objects.filter(student=student).count() == 1


def test_the_portal_answers_a_refused_tick_with_409_and_the_reason(
    client, archived, session12, student
):
    client.force_login(student)
    response = client.post(
        reverse("homework-toggle", args=[_first_task(session12).pk]), {"done": "1"}
    )
    assert response.status_code == 409
    assert "is archived (read-only)" in response.content.decode()


def test_an_archived_course_is_still_readable_and_its_ticks_listed(
    client, archived, session12, student, instructor
):
    task = _first_task(session12)
    HomeworkCompletion.objects.create(task=task, student=student)
    client.force_login(instructor)
    assert client.get(reverse("course-detail", args=[archived.slug])).status_code == 200

    api = APIClient()
    api.force_authenticate(instructor)
    response = api.get(f"/api/v1/homework/{task.pk}/completions/")
    assert response.status_code == 200
    assert [row["username"] for row in response.json()["results"]] == [student.username]


def test_the_api_refuses_a_write_with_course_archived(archived, session12, student):
    api = APIClient()
    api.force_authenticate(student)
    response = api.put(f"/api/v1/homework/{_first_task(session12).pk}/completion/")
    assert response.status_code == 409
    assert response.json()["code"] == "course_archived"


def test_the_roster_and_enrolment_of_an_archived_course_are_frozen_too(
    archived, instructor, student
):
    from courseware.services import enrolment, people, roster

    membership = Membership.objects.get(course=archived, user=student)
    attempts = [
        lambda: people.member_add(actor=instructor, course=archived, email="new@example.edu"),
        lambda: people.member_unenrol(actor=instructor, membership=membership),
        lambda: people.member_update(actor=instructor, membership=membership, section="B"),
        lambda: roster.roster_import(
            actor=instructor, course=archived, data=b"email\nnew@example.edu\n"
        ),
        lambda: enrolment.join_code_rotate(actor=instructor, course=archived),
    ]
    before = (Membership.objects.count(), get_user_model().objects.count())

    for attempt in attempts:
        with pytest.raises(ApplicationError) as refused:
            attempt()
        assert refused.value.code == "course_archived"

    assert (Membership.objects.count(), get_user_model().objects.count()) == before
    membership.refresh_from_db()
    assert membership.is_active and membership.section == ""


def test_every_course_page_says_the_course_is_archived(client, archived, session12, student):
    client.force_login(student)

    for url in (
        reverse("course-detail", args=[archived.slug]),
        reverse("session-detail", args=[archived.slug, session12.number]),
    ):
        html = client.get(url).content.decode()
        assert "data-archived" in html and "nothing can be changed" in html


def test_a_published_course_page_carries_no_state_banner(client, course, session12, student):
    client.force_login(student)

    html = client.get(reverse("course-detail", args=[course.slug])).content.decode()

    assert "data-archived" not in html and "data-draft" not in html
