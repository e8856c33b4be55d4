"""An instructor's reference submission (the baseline students try to beat): who may create one,
and that it is graded and shown as a labelled leaderboard line but never counted in anyone's
quota, rank, per-student statistics or student filter."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.exceptions import ApplicationError, NotFoundError, PermissionDeniedError
from courseware.models import Membership
from labs import selectors
from labs.models import Submission
from labs.services import submission_create_reference
from tests.factories import MembershipFactory, SubmissionFactory
from tests.labs.conftest import model_zip

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_storage", "task_queue")]


def upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("baseline.zip", model_zip(), content_type="application/zip")


def scored(lab, user, score: float, **fields) -> Submission:
    now = timezone.now()
    metrics = {"n": 12, "accuracy": score, "macro_f1": score, "weighted_f1": score}
    return SubmissionFactory(
        lab=lab,
        student=user,
        status=Submission.Status.SCORED,
        metrics_public=metrics,
        metrics_private=metrics,
        started_at=now - timedelta(seconds=5),
        finished_at=now,
        **fields,
    )


@pytest.fixture
def second_student(course):
    return MembershipFactory(course=course, role=Membership.Role.STUDENT).user


# --- creating one, per role -------------------------------------------------------------------


def test_an_instructor_creates_a_queued_uncharged_reference(lab, instructor, task_queue):
    reference = submission_create_reference(
        lab=lab, actor=instructor, upload=upload(), filename="baseline.zip"
    )

    assert (reference.student, reference.is_reference, reference.charged) == (
        instructor,
        True,
        False,
    )
    assert reference.status == Submission.Status.QUEUED
    assert reference.artifact_name == "baseline.zip"


def test_a_student_cannot_create_a_reference(lab, student):
    with pytest.raises(PermissionDeniedError):
        submission_create_reference(
            lab=lab, actor=student, upload=upload(), filename="baseline.zip"
        )
    assert not Submission.objects.exists()


def test_a_non_member_cannot_create_a_reference(lab, other_student):
    with pytest.raises(NotFoundError):
        submission_create_reference(
            lab=lab, actor=other_student, upload=upload(), filename="baseline.zip"
        )


def test_a_reference_is_taken_after_the_deadline_but_not_without_a_dataset(lab, instructor):
    lab.closes_at = timezone.now() - timedelta(minutes=1)
    lab.save()
    assert submission_create_reference(
        lab=lab, actor=instructor, upload=upload(), filename="baseline.zip"
    ).is_reference

    lab.datasets.all().delete()
    with pytest.raises(ApplicationError, match="held-out dataset first") as caught:
        submission_create_reference(
            lab=lab, actor=instructor, upload=upload(), filename="baseline.zip"
        )
    assert caught.value.code == "no_dataset"


def test_a_reference_archive_is_checked_like_a_submission(lab, instructor):
    empty = SimpleUploadedFile("baseline.zip", b"", content_type="application/zip")
    with pytest.raises(ApplicationError) as caught:
        submission_create_reference(
            lab=lab, actor=instructor, upload=empty, filename="baseline.zip"
        )
    assert caught.value.code == "invalid_archive"


# --- never counted ------------------------------------------------------------------------------


def test_a_reference_uses_no_quota(lab, instructor):
    # An instructor who is also enrolled as a student elsewhere must not lose quota either.
    SubmissionFactory(lab=lab, student=instructor, is_reference=True, charged=True)
    quota = selectors.quota_status(lab=lab, student=instructor)
    assert (quota.used_today, quota.used_total, quota.left_today) == (0, 0, lab.daily_quota)


def test_the_leaderboard_ranks_students_only_and_places_the_reference_line(
    lab, instructor, student, second_student
):
    scored(lab, student, 0.80)
    scored(lab, second_student, 0.40)
    scored(lab, instructor, 0.55, is_reference=True)
    scored(lab, instructor, 0.60, is_reference=True)  # the best reference counts

    rows = selectors.leaderboard(lab=lab, part="public", viewer=student)
    reference = selectors.leaderboard_reference(lab=lab, part="public", rows=rows)

    assert [(r.rank, r.student_id) for r in rows] == [(1, student.pk), (2, second_student.pk)]
    assert (reference.label, reference.score, reference.position) == (
        "Baseline (instructor reference)",
        0.60,
        1,
    )


def test_a_student_level_with_the_reference_is_listed_above_it(lab, instructor, student):
    scored(lab, student, 0.5)
    scored(lab, instructor, 0.5, is_reference=True)
    rows = selectors.leaderboard(lab=lab, part="public", viewer=student)
    assert selectors.leaderboard_reference(lab=lab, part="public", rows=rows).position == 1


def test_no_reference_line_until_a_reference_is_scored(lab, instructor, student):
    SubmissionFactory(lab=lab, student=instructor, is_reference=True)  # queued
    rows = selectors.leaderboard(lab=lab, part="public", viewer=student)
    assert selectors.leaderboard_reference(lab=lab, part="public", rows=rows) is None


def test_dashboard_statistics_and_student_filter_leave_the_reference_out(lab, instructor, student):
    scored(lab, student, 0.7)
    scored(lab, instructor, 0.9, is_reference=True)

    stats = selectors.lab_dashboard(lab=lab)

    assert (stats.students_submitted, stats.students_scored) == (1, 1)
    assert stats.status_counts["scored"] == 2  # the queue and outcomes still count it
    assert sum(stats.score_histogram["public"]) == 1
    assert stats.best_over_time["public"] == [0.7]
    assert selectors.lab_submitters(lab=lab) == [student]


def test_the_results_export_marks_the_reference(lab, instructor, student):
    mine = scored(lab, student, 0.7)
    reference = scored(lab, instructor, 0.9, is_reference=True)
    columns, rows = selectors.lab_results_table(lab=lab)
    flag = {row[0]: row[columns.index("is_reference")] for row in rows}
    assert flag == {mine.pk: False, reference.pk: True}


# --- pages and API, per role -------------------------------------------------------------------


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("who", ["student", "instructor"])
def test_the_leaderboard_page_shows_the_labelled_line_to_every_member(
    request, who, lab, instructor, student
):
    scored(lab, student, 0.8)
    scored(lab, instructor, 0.6, is_reference=True)

    page = _client(request.getfixturevalue(who)).get(reverse("labs:leaderboard", args=[lab.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert html.count("data-reference") == 1
    assert "Baseline (instructor reference)" in html and "0.600" in html
    # The line comes after the student who beat it.
    assert html.index("data-reference") > html.index(student.first_name)


def test_the_leaderboard_page_shows_the_line_before_any_student_scores(lab, instructor, student):
    scored(lab, instructor, 0.6, is_reference=True)
    html = _client(student).get(reverse("labs:leaderboard", args=[lab.pk])).content.decode()
    assert "data-reference" in html and "No scored submissions yet" not in html


def test_the_leaderboard_api_has_the_reference_apart_from_the_rows(lab, instructor, student):
    scored(lab, student, 0.8)
    scored(lab, instructor, 0.6, is_reference=True)

    body = _client(student).get(f"/api/v1/labs/{lab.pk}/leaderboard/").json()

    assert [row["rank"] for row in body["rows"]] == [1]
    assert body["reference"] == {
        "label": "Baseline (instructor reference)",
        "score": 0.6,
        "position": 1,
    }


def test_a_student_cannot_open_the_reference_submission(lab, instructor, student):
    reference = scored(lab, instructor, 0.6, is_reference=True)
    page = _client(student).get(reverse("labs:submission-detail", args=[reference.pk]))
    assert page.status_code == 404
    assert selectors.submission_list(lab=lab, user=student, role="student").count() == 0


def test_the_dashboard_labels_the_reference(lab, instructor, student):
    scored(lab, instructor, 0.6, is_reference=True)
    scored(lab, student, 0.5)
    html = _client(instructor).get(reverse("labs:dashboard", args=[lab.pk])).content.decode()
    assert html.count("Reference (baseline)") == 1


def test_the_results_csv_download_has_the_flag(lab, instructor):
    scored(lab, instructor, 0.6, is_reference=True)
    response = _client(instructor).get(reverse("labs:results-csv", args=[lab.pk]))
    text = b"".join(response.streaming_content if response.streaming else [response.content])
    rows = list(csv.DictReader(io.StringIO(text.decode("utf-8-sig"))))
    assert [row["is_reference"] for row in rows] == ["yes"]
