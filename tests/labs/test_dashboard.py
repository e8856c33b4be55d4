"""The instructor's lab dashboard: queue and workers, outcomes per day and per error code,
grading times, charts, the filtered submission list, the per-student view and the warning when
no worker takes work."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.models import WorkerPing
from courseware.models import Membership
from labs import selectors
from labs.models import Submission
from tests.factories import LabFactory, MembershipFactory, SubmissionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_storage")]

HTMX = {"HTTP_HX_REQUEST": "true"}


def body(response) -> str:
    return response.content.decode()


def enrol(course, username: str, name: str = ""):
    first, _, last = name.partition(" ")
    return MembershipFactory(
        course=course,
        role=Membership.Role.STUDENT,
        user__username=username,
        user__first_name=first,
        user__last_name=last,
    ).user


def finished(lab, student, status: str, *, seconds: float, ago: timedelta, **fields):
    end = timezone.now() - ago
    return SubmissionFactory(
        lab=lab,
        student=student,
        status=status,
        queued_at=end - timedelta(seconds=seconds + 2),
        started_at=end - timedelta(seconds=seconds),
        finished_at=end,
        **fields,
    )


def scored(lab, student, public: float, private: float, *, seconds=10.0, ago=timedelta(0)):
    return finished(
        lab,
        student,
        "scored",
        seconds=seconds,
        ago=ago,
        metrics_public={"macro_f1": public, "accuracy": public},
        metrics_private={"macro_f1": private, "accuracy": private},
    )


@pytest.fixture
def busy_lab(lab, student, course):
    """Two days of activity: scored, failed (two codes), cancelled, queued and running."""
    ada = enrol(course, "ada", "Ada Lovelace")
    bob = enrol(course, "bob", "Bob Builder")
    yesterday = timedelta(days=1)
    scored(lab, student, 0.40, 0.35, seconds=10, ago=yesterday)
    scored(lab, ada, 0.55, 0.60, seconds=30, ago=yesterday)
    finished(lab, bob, "failed", seconds=5, ago=yesterday, error_code="unsafe_weights")
    scored(lab, ada, 0.75, 0.72, seconds=20, ago=timedelta(0))
    finished(lab, bob, "failed", seconds=600, ago=timedelta(0), error_code="timeout")
    finished(lab, bob, "failed", seconds=2, ago=timedelta(0), error_code="timeout")
    SubmissionFactory(lab=lab, student=bob, status="cancelled", finished_at=timezone.now())
    SubmissionFactory(lab=lab, student=student, status="queued")
    SubmissionFactory(
        lab=lab,
        student=ada,
        status="running",
        worker_host="gpu-worker-7",
        started_at=timezone.now() - timedelta(seconds=95),
        heartbeat_at=timezone.now() - timedelta(seconds=3),
    )
    return lab


def instructor_client(instructor) -> Client:
    client = Client()
    client.force_login(instructor)
    return client


def test_the_dashboard_summarises_the_queue_workers_and_outcomes(busy_lab, instructor):
    html = body(instructor_client(instructor).get(reverse("labs:dashboard", args=[busy_lab.pk])))

    tiles = dict(re.findall(r'data-stat="(\w+)">([^<]+)<', html))
    assert tiles["queued"] == "1"
    assert tiles["running"] == "1"
    assert tiles["scored"] == "3"
    assert tiles["failed"] == "3"
    assert tiles["median"] == "15 s"  # of 10, 30, 5, 20, 600, 2 s
    assert "gpu-worker-7" in html
    assert re.search(r"<td>1 min 3\d s</td>", html)  # elapsed on the running submission
    assert "Ada Lovelace" in html
    counts = re.search(r'id="error-counts".*?</table>', html, re.S).group(0)
    assert re.findall(r"<code>(\w+)</code></td><td>(\d+)</td>", counts) == [
        ("timeout", "2"),
        ("unsafe_weights", "1"),
    ]
    assert "No worker seems to be taking work" not in html


def test_outcomes_are_counted_per_day_and_error_code(busy_lab):
    stats = selectors.lab_dashboard(lab=busy_lab)
    assert [(d.scored, d.failed, d.cancelled) for d in stats.days] == [
        (2, {"unsafe_weights": 1}, 0),
        (1, {"timeout": 2}, 1),
    ]
    assert stats.error_codes == ["timeout", "unsafe_weights"]
    assert stats.students_submitted == 3
    assert stats.students_scored == 2
    assert stats.median_grading_s == 15
    # Best per student (public): 0.40 and 0.75; private: 0.35 and 0.72.
    assert stats.score_histogram["public"][4] == 1 and stats.score_histogram["public"][7] == 1
    assert sum(stats.score_histogram["private"]) == 2
    assert stats.best_over_time["public"] == [0.55, 0.75]
    assert stats.best_over_time["private"] == [0.60, 0.72]


def test_the_charts_get_their_data_and_chartjs_is_served_locally(busy_lab, instructor):
    html = body(instructor_client(instructor).get(reverse("labs:dashboard", args=[busy_lab.pk])))

    assert "/static/vendor/chart.umd.min.js" in html
    assert "cdn" not in html.lower()
    data = json.loads(
        re.search(
            r'<script id="lab-chart-data" type="application/json">(.*?)</script>', html
        ).group(1)
    )
    assert data["metric"] == "Macro-F1"
    assert data["days"]["scored"] == [2, 1]
    assert data["days"]["failed"] == {"timeout": [0, 2], "unsafe_weights": [1, 0]}
    assert data["best"]["public"] == [0.55, 0.75]
    for canvas in ("score-histogram", "best-over-time", "per-day"):
        assert f'id="{canvas}"' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, 9),
        ({"status": "failed"}, 3),
        ({"status": "failed", "error": "timeout"}, 2),
        ({"status": "scored"}, 3),
        ({"status": "bogus"}, 9),  # an invalid filter is ignored, not an error
    ],
)
def test_the_submission_list_filters_by_status_and_error_code(
    busy_lab, instructor, query, expected
):
    html = body(
        instructor_client(instructor).get(reverse("labs:dashboard", args=[busy_lab.pk]), query)
    )
    assert len(re.findall(r'<tr id="row-\d+"', html)) == expected


def test_the_submission_list_filters_by_student(busy_lab, instructor):
    bob = busy_lab.session.course.memberships.get(user__username="bob").user
    html = body(
        instructor_client(instructor).get(
            reverse("labs:dashboard", args=[busy_lab.pk]), {"student": bob.pk}
        )
    )
    rows = re.findall(r'<tr id="row-(\d+)"', html)
    assert sorted(int(r) for r in rows) == sorted(
        Submission.objects.filter(student=bob).values_list("pk", flat=True)
    )


def test_queued_and_running_submissions_have_cancel_buttons(busy_lab, instructor):
    html = body(instructor_client(instructor).get(reverse("labs:dashboard", args=[busy_lab.pk])))
    for submission in Submission.objects.filter(status__in=["queued", "running"]):
        assert reverse("labs:submission-cancel", args=[submission.pk]) in html
    for submission in Submission.objects.filter(status="scored"):
        assert reverse("labs:submission-cancel", args=[submission.pk]) not in html
    assert reverse("labs:regrade", args=[busy_lab.pk]) in html


def test_the_live_fragment_keeps_polling_and_shows_the_running_worker(busy_lab, instructor):
    client = instructor_client(instructor)
    page = body(client.get(reverse("labs:dashboard", args=[busy_lab.pk])))
    live_url = reverse("labs:dashboard-live", args=[busy_lab.pk])
    assert f'hx-get="{live_url}" hx-trigger="every 5s"' in page

    html = body(client.get(live_url, **HTMX))
    assert "gpu-worker-7" in html
    assert "<html" not in html


def test_a_stall_warning_when_work_waits_and_no_worker_takes_it(lab, student, instructor):
    SubmissionFactory(lab=lab, student=student, queued_at=timezone.now() - timedelta(minutes=5))
    WorkerPing.objects.create(answered_at=timezone.now() - timedelta(hours=2), worker_host="w")
    client = instructor_client(instructor)

    html = body(client.get(reverse("labs:dashboard", args=[lab.pk])))

    assert "No worker seems to be taking work" in html
    assert "no grading has started yet" in html
    assert "A worker last answered a ping 2\xa0hours ago" in html


def test_no_stall_warning_while_work_is_being_taken(lab, student):
    now = timezone.now()
    SubmissionFactory(lab=lab, student=student, queued_at=now - timedelta(minutes=5))
    assert selectors.grading_stalled(now=now) is not None
    # Fresh work just queued is not a stall.
    assert selectors.grading_stalled(now=now - timedelta(minutes=4)) is None
    # A worker started something a moment ago: not stalled.
    SubmissionFactory(
        lab=lab, student=student, status="scored", started_at=now - timedelta(seconds=30)
    )
    assert selectors.grading_stalled(now=now) is None


def test_a_long_running_grade_with_a_live_heartbeat_is_not_a_stall(lab, student):
    now = timezone.now()
    SubmissionFactory(lab=lab, student=student, queued_at=now - timedelta(minutes=5))
    SubmissionFactory(
        lab=lab,
        student=student,
        status="running",
        started_at=now - timedelta(minutes=8),
        heartbeat_at=now - timedelta(seconds=5),
    )
    assert selectors.grading_stalled(now=now) is None


def test_the_per_student_view(busy_lab, instructor):
    ada = busy_lab.session.course.memberships.get(user__username="ada").user
    client = instructor_client(instructor)

    html = body(client.get(reverse("labs:student-detail", args=[busy_lab.pk, ada.pk])))

    assert "Ada Lovelace" in html
    assert html.count('class="card sub-card') == 3
    assert "0.750" in html  # best public
    assert "0.720" in html  # instructors see the private part too
    best = Submission.objects.filter(student=ada, metrics_public__macro_f1=0.75).get()
    assert reverse("labs:submission-detail", args=[best.pk]) in html


def test_the_per_student_view_is_404_for_someone_outside_the_lab(lab, instructor, other_student):
    client = instructor_client(instructor)
    response = client.get(reverse("labs:student-detail", args=[lab.pk, other_student.pk]))
    assert response.status_code == 404


def test_an_instructor_of_another_course_sees_nothing(busy_lab, other_course):
    outsider = MembershipFactory(course=other_course, role=Membership.Role.INSTRUCTOR).user
    client = instructor_client(outsider)
    for name in ("labs:dashboard", "labs:dashboard-live", "labs:results-csv"):
        assert client.get(reverse(name, args=[busy_lab.pk])).status_code == 404


def test_an_empty_lab_has_a_calm_dashboard(instructor, session12):
    lab = LabFactory(session=session12)
    html = body(instructor_client(instructor).get(reverse("labs:dashboard", args=[lab.pk])))
    assert "No submissions" in html
    assert "Nothing is being graded" in html
    assert "Nothing finished yet." in html


def test_the_dashboard_paginates_long_lists(lab, student, instructor):
    for _ in range(55):
        SubmissionFactory(lab=lab, student=student, status="cancelled")
    client = instructor_client(instructor)
    url = reverse("labs:dashboard", args=[lab.pk])
    first = body(client.get(url, {"status": "cancelled"}))
    assert len(re.findall(r'<tr id="row-\d+"', first)) == 50
    assert "Page 1 of 2" in first
    assert "status=cancelled&amp;page=2" in first
    second = body(client.get(url, {"status": "cancelled", "page": 2}))
    assert len(re.findall(r'<tr id="row-\d+"', second)) == 5


def test_a_teaching_assistant_gets_the_dashboard_without_the_setup_buttons(
    busy_lab, teaching_assistant
):
    html = body(
        instructor_client(teaching_assistant).get(reverse("labs:dashboard", args=[busy_lab.pk]))
    )
    for submission in Submission.objects.filter(status__in=["queued", "running"]):
        assert reverse("labs:submission-cancel", args=[submission.pk]) in html
    assert reverse("labs:regrade", args=[busy_lab.pk]) in html
    assert reverse("labs:results-csv", args=[busy_lab.pk]) in html
    assert reverse("labs:lab-edit", args=[busy_lab.pk]) not in html
    assert reverse("labs:dataset", args=[busy_lab.pk]) not in html
