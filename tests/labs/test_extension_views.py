"""Deadline extensions in the portal: instructors set and remove them from the dashboard or a
student's page (CSRF-protected posts); the extended student's lab page shows their own
deadline and takes their upload; nobody else sees private scores while it runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from courseware.models import Membership
from labs.models import LabExtension
from tests.factories import MembershipFactory
from tests.labs.test_views import HTMX, body, scored

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_storage", "task_queue")]


@pytest.fixture
def classmate(course):
    return MembershipFactory(course=course, role=Membership.Role.STUDENT).user


def _client(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def _post_extension(client, lab, student, *, back: str = "", days: int = 3):
    closes = timezone.localtime(lab.closes_at + timedelta(days=days))
    data = {
        "student": student.pk,
        "closes_at": closes.strftime("%Y-%m-%dT%H:%M"),
        "reason": "Medical certificate",
        "back": back,
    }
    return client.post(reverse("labs:extension-set", args=[lab.pk]), data)


def test_an_instructor_extends_from_the_dashboard_and_sees_it_listed(lab, student, instructor):
    client = _client(instructor)
    response = _post_extension(client, lab, student)
    assert response.status_code == 302
    assert response["Location"].endswith(reverse("labs:dashboard", args=[lab.pk]) + "#extensions")
    extension = LabExtension.objects.get(lab=lab, student=student)
    assert extension.reason == "Medical certificate" and extension.created_by == instructor

    html = body(client.get(reverse("labs:dashboard", args=[lab.pk])))
    assert f'data-extension="{student.pk}"' in html and "Medical certificate" in html
    assert "data-extension-form" in html


def test_an_instructor_extends_and_removes_from_the_students_page(lab, student, instructor):
    client = _client(instructor)
    page = reverse("labs:student-detail", args=[lab.pk, student.pk])
    assert "data-extension-form" in body(client.get(page))

    response = _post_extension(client, lab, student, back="student")
    assert response["Location"].endswith(page)
    assert "Medical certificate" in body(client.get(page))

    delete = reverse("labs:extension-delete", args=[lab.pk, student.pk])
    response = client.post(delete, {"back": "student"})
    assert response["Location"].endswith(page)
    assert not LabExtension.objects.exists()


def test_a_bad_date_comes_back_as_a_message(lab, student, instructor):
    client = _client(instructor)
    response = _post_extension(client, lab, student, days=-1, back="student")
    assert response.status_code == 302
    html = body(client.get(response["Location"]))
    assert "must end after the lab&#x27;s own close" in html
    assert not LabExtension.objects.exists()


@pytest.mark.parametrize("who", ["student", "teaching_assistant"])
def test_students_and_teaching_assistants_cannot_extend(request, lab, student, who):
    client = _client(request.getfixturevalue(who))
    assert _post_extension(client, lab, student).status_code == 403
    LabExtension.objects.create(lab=lab, student=student, closes_at=lab.closes_at + timedelta(1))
    delete = reverse("labs:extension-delete", args=[lab.pk, student.pk])
    assert client.post(delete).status_code == 403
    assert LabExtension.objects.count() == 1


def test_a_teaching_assistant_sees_extensions_but_no_form(lab, student, teaching_assistant):
    LabExtension.objects.create(
        lab=lab, student=student, closes_at=lab.closes_at + timedelta(1), reason="Sick"
    )
    html = body(_client(teaching_assistant).get(reverse("labs:dashboard", args=[lab.pk])))
    assert "Sick" in html and "data-extension-form" not in html


def test_the_extension_post_needs_a_csrf_token(lab, student, instructor):
    client = _client(instructor, enforce_csrf_checks=True)
    assert _post_extension(client, lab, student).status_code == 403
    assert not LabExtension.objects.exists()


def test_the_extended_students_lab_page_shows_their_deadline_and_takes_uploads(
    lab, student, classmate
):
    extended_until = timezone.now() + timedelta(days=1)
    LabExtension.objects.create(lab=lab, student=student, closes_at=extended_until)
    lab.closes_at = timezone.now() - timedelta(minutes=1)
    lab.save(update_fields=["closes_at"])
    page = reverse("labs:lab-detail", args=[lab.pk])

    mine = body(_client(student).get(page))
    assert "Your deadline" in mine and "(extended)" in mine
    assert "Submit for grading" in mine

    theirs = body(_client(classmate).get(page))
    assert "Your deadline" not in theirs and "Submit for grading" not in theirs
    assert "once every student's deadline has passed" in theirs


def test_no_student_page_shows_private_scores_while_an_extension_runs(lab, student, classmate):
    submission = scored(lab, classmate)  # private 0.988 (rounded), public 0.612
    LabExtension.objects.create(
        lab=lab, student=student, closes_at=timezone.now() + timedelta(hours=2)
    )
    lab.closes_at = timezone.now() - timedelta(minutes=1)
    lab.save(update_fields=["closes_at"])

    for viewer in (classmate, student):
        client = _client(viewer)
        pages = [
            client.get(reverse("labs:leaderboard", args=[lab.pk])),
            client.get(reverse("labs:lab-detail", args=[lab.pk])),
            client.get(reverse("labs_api:lab-leaderboard", args=[lab.pk])),
        ]
        if viewer == classmate:
            pages.append(client.get(reverse("labs:submission-card", args=[submission.pk]), **HTMX))
            pages.append(client.get(reverse("labs_api:submission-detail", args=[submission.pk])))
        for response in pages:
            assert response.status_code == 200
            assert "0.988" not in body(response) and "0.9876" not in body(response)
        forced = client.get(reverse("labs:leaderboard", args=[lab.pk]), {"part": "private"})
        assert forced.status_code == 403
