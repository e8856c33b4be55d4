"""Lab leaderboards, the dashboard (submissions, statistics, the student filter), the results
CSV and the submissions API leave out unenrolled students (whose submissions are kept), take
a `?section=` filter, and hold a teaching assistant with a section to it."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from core.exceptions import PermissionDeniedError
from courseware import services as courseware_services
from courseware.models import Membership
from courseware.selectors.students import student_scope
from labs import selectors
from labs.models import Submission
from tests.factories import MembershipFactory, SubmissionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_storage")]

STUDENT = Membership.Role.STUDENT


def scored(lab, user, score: float, **fields):
    return SubmissionFactory(
        lab=lab,
        student=user,
        status="scored",
        metrics_public={"macro_f1": score},
        metrics_private={"macro_f1": score},
        **fields,
    )


@pytest.fixture
def klass(lab, course):
    """ann (A), cat (B) and dan (A, unenrolled after submitting the best model)."""
    members = {
        name: MembershipFactory(course=course, role=STUDENT, section=section, user__username=name)
        for name, section in (("ann", "A"), ("cat", "B"), ("dan", "A"))
    }
    for score, name in ((0.5, "ann"), (0.6, "cat"), (0.9, "dan")):
        scored(lab, members[name].user, score)
    members["dan"].is_active = False
    members["dan"].save()
    return members


def board(lab, part="public") -> list[str]:
    return [r.username for r in selectors.leaderboard(lab=lab, part=part, viewer=None)]


def test_unenrolled_students_leave_both_leaderboards_and_come_back(lab, klass):
    assert board(lab) == board(lab, "private") == ["cat", "ann"]
    assert Submission.objects.filter(student=klass["dan"].user).count() == 1

    klass["dan"].is_active = True
    klass["dan"].save()
    assert board(lab) == ["dan", "cat", "ann"]


def test_the_dashboard_lists_and_counts_current_students_only(lab, klass):
    assert {s.student.username for s in selectors.submission_filter(lab=lab)} == {"ann", "cat"}
    assert [u.username for u in selectors.lab_submitters(lab=lab)] == ["ann", "cat"]
    stats = selectors.lab_dashboard(lab=lab)
    assert (stats.students_submitted, stats.status_counts["scored"]) == (2, 2)
    _columns, rows = selectors.lab_results_table(lab=lab)
    assert sorted(row[1] for row in rows) == ["ann", "cat"]


def test_reference_submissions_stay_on_the_whole_course_dashboard(lab, instructor, klass):
    scored(lab, instructor, 0.7, is_reference=True)
    assert selectors.submission_filter(lab=lab).filter(is_reference=True).count() == 1
    scope = student_scope(user=instructor, course=lab.session.course, section="A")
    assert not selectors.submission_filter(lab=lab, scope=scope).filter(is_reference=True)


def test_a_section_scope_narrows_the_dashboard_and_export(lab, course, instructor, klass):
    scope = student_scope(user=instructor, course=course, section="B")

    assert [s.student.username for s in selectors.submission_filter(lab=lab, scope=scope)] == [
        "cat"
    ]
    assert [u.username for u in selectors.lab_submitters(lab=lab, scope=scope)] == ["cat"]
    assert selectors.lab_dashboard(lab=lab, scope=scope).students_submitted == 1
    _columns, rows = selectors.lab_results_table(lab=lab, scope=scope)
    assert [row[1] for row in rows] == ["cat"]


def test_a_teaching_assistant_with_a_section_sees_only_it(lab, course, klass):
    ta = MembershipFactory(course=course, role=Membership.Role.TEACHING_ASSISTANT, section="A")

    scope = student_scope(user=ta.user, course=course)
    _columns, rows = selectors.lab_results_table(lab=lab, scope=scope)
    assert [row[1] for row in rows] == ["ann"]
    with pytest.raises(PermissionDeniedError):
        student_scope(user=ta.user, course=course, section="B")


def test_a_teaching_assistant_without_a_section_sees_the_whole_course(lab, course, klass):
    ta = MembershipFactory(course=course, role=Membership.Role.TEACHING_ASSISTANT)

    scope = student_scope(user=ta.user, course=course)
    assert [u.username for u in selectors.lab_submitters(lab=lab, scope=scope)] == ["ann", "cat"]


def _dashboard_queries(lab, scope) -> int:
    with CaptureQueriesContext(connection) as ctx:
        list(selectors.submission_filter(lab=lab, scope=scope))
        selectors.lab_submitters(lab=lab, scope=scope)
        selectors.lab_dashboard(lab=lab, scope=scope)
        selectors.lab_results_table(lab=lab, scope=scope)
    return len(ctx.captured_queries)


@pytest.mark.parametrize("section", ["", "A"])
def test_the_dashboard_costs_the_same_queries_whatever_the_class_size(
    lab, course, instructor, klass, section
):
    scope = student_scope(user=instructor, course=course, section=section)
    small = _dashboard_queries(lab, scope)
    for i in range(8):
        user = MembershipFactory(course=course, role=STUDENT, section="A").user
        scored(lab, user, i / 10)
    assert _dashboard_queries(lab, scope) == small


# --- pages and the API, per role ---------------------------------------------------------


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_dashboard_page_and_csv_honour_the_section(lab, instructor, klass):
    client = logged_in(instructor)
    page = client.get(reverse("labs:dashboard", args=[lab.pk]), {"section": "B"})
    html = page.content.decode()
    assert '<option value="B" selected>' in html
    assert [c.submission.student.username for c in page.context["cards"]] == ["cat"]
    assert f"{reverse('labs:results-csv', args=[lab.pk])}?section=B" in html

    response = client.get(reverse("labs:results-csv", args=[lab.pk]), {"section": "B"})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert [row[1] for row in rows[1:]] == ["cat"]
    assert "results-section-b.csv" in response["Content-Disposition"]

    live = client.get(reverse("labs:dashboard-live", args=[lab.pk]), {"section": "Z"})
    assert live.status_code == 400


def test_a_section_link_opens_only_that_sections_students(lab, instructor, klass):
    client = logged_in(instructor)
    url = reverse("labs:student-detail", args=[lab.pk, klass["ann"].user.pk])
    assert client.get(url, {"section": "A"}).status_code == 200
    assert client.get(url, {"section": "B"}).status_code == 404
    unenrolled = reverse("labs:student-detail", args=[lab.pk, klass["dan"].user.pk])
    assert client.get(unenrolled).status_code == 200  # their work is kept, and reachable


def test_students_are_refused_the_dashboard_and_csv(lab, klass):
    client = logged_in(klass["ann"].user)
    for name in ("labs:dashboard", "labs:results-csv"):
        assert client.get(reverse(name, args=[lab.pk]), {"section": "A"}).status_code == 403


def test_the_submissions_api_takes_a_section_and_hides_unenrolled_students(lab, instructor, klass):
    api = APIClient()
    api.credentials(
        HTTP_AUTHORIZATION=f"Token {courseware_services.api_token_create(actor=instructor).key}"
    )
    url = reverse("labs_api:lab-submissions", kwargs={"lab_id": lab.pk})

    assert sorted(r["student"] for r in api.get(url).json()["results"]) == ["ann", "cat"]
    assert [r["student"] for r in api.get(url, {"section": "A"}).json()["results"]] == ["ann"]
    assert api.get(url, {"section": "Z"}).json()["code"] == "unknown_section"
    board = api.get(reverse("labs_api:lab-leaderboard", kwargs={"lab_id": lab.pk})).json()
    assert [r["username"] for r in board["rows"]] == ["cat", "ann"]


def test_a_student_asking_the_api_for_a_section_gets_their_own_submissions(lab, klass):
    api = APIClient()
    ann = klass["ann"].user
    api.credentials(
        HTTP_AUTHORIZATION=f"Token {courseware_services.api_token_create(actor=ann).key}"
    )
    url = reverse("labs_api:lab-submissions", kwargs={"lab_id": lab.pk})
    body = api.get(url, {"section": "B"}).json()
    assert [r["id"] for r in body["results"]] == [ann.lab_submissions.get().pk]
