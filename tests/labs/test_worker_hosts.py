"""Worker hosts on the lab dashboard: each worker's row (heartbeat, state, queues, current
job), a drain seen from the worker's own consumers, and what the staff of one course may see
of another course's work. The real worker processes are in test_worker_drain.py and
test_multihost.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from courseware.models import Membership
from labs import selectors
from labs.models import WorkerHost
from labs.services import hosts
from labs.services.jobs import GradingJob, JobOutcome, grading_job_run
from tests.factories import LabFactory, MembershipFactory, SessionFactory, SubmissionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_storage")]

HTMX = {"HTTP_HX_REQUEST": "true"}


def start(name: str, queues=("celery", "grading", "grading_low"), **fields) -> WorkerHost:
    host = hosts.worker_host_start(name=name, hostname=name.split("@")[-1], pid=42, queues=queues)
    if fields:
        WorkerHost.objects.filter(pk=host.pk).update(**fields)
        host.refresh_from_db()
    return host


def rows(course) -> dict[str, selectors.WorkerHostRow]:
    return {row.name: row for row in selectors.worker_host_list(course=course)}


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- the row a worker keeps -------------------------------------------------------------------


def test_a_started_worker_is_online_with_its_queues_and_no_job(course):
    start("grading@gpu-box")

    row = rows(course)["grading@gpu-box"]

    assert (row.state, row.hostname, row.job) == ("online", "gpu-box", "idle")
    assert row.queues == ["celery", "grading", "grading_low"]
    assert row.cancelled_queues == []


def test_a_worker_whose_consumer_was_cancelled_reports_itself_draining(course):
    start("grading@gpu-box")

    hosts.worker_host_heartbeat(
        name="grading@gpu-box", queues={"celery"}, cancelled_queues={"grading", "grading_low"}
    )

    row = rows(course)["grading@gpu-box"]
    assert row.state == "draining"
    assert (row.queues, row.cancelled_queues) == (["celery"], ["grading", "grading_low"])


def test_a_heartbeat_older_than_three_intervals_is_offline(course, settings):
    settings.GRADING_HEARTBEAT_INTERVAL_S = 10
    now = timezone.now()
    start("grading@fresh", heartbeat_at=now - timedelta(seconds=29))
    start("grading@silent", heartbeat_at=now - timedelta(seconds=31))

    found = {r.name: r.state for r in selectors.worker_host_list(course=course, now=now)}

    assert found == {"grading@fresh": "online", "grading@silent": "offline"}


def test_a_warm_shutdown_is_offline_at_once_and_a_restart_is_online_again(course):
    start("grading@gpu-box")
    hosts.worker_host_drain_mark(name="grading@gpu-box")

    hosts.worker_host_stop(name="grading@gpu-box")
    assert rows(course)["grading@gpu-box"].state == "offline"

    start("grading@gpu-box")  # the same node name, a new process
    assert rows(course)["grading@gpu-box"].state == "online"


def test_hosts_silent_for_more_than_a_day_drop_off_the_list(course):
    start("grading@retired", heartbeat_at=timezone.now() - timedelta(days=2))
    start("grading@gpu-box")

    assert list(rows(course)) == ["grading@gpu-box"]


def test_an_offline_host_shows_no_current_job(lab, student, course):
    submission = SubmissionFactory(lab=lab, student=student, status="running")
    start("grading@dead", heartbeat_at=timezone.now() - timedelta(hours=1))
    hosts.worker_host_job_start(name="grading@dead", submission_id=submission.pk, kind="grade")

    assert rows(course)["grading@dead"].job == "idle"


def test_draining_an_unknown_worker_names_the_problem(db):
    from core.exceptions import ApplicationError

    with pytest.raises(ApplicationError) as raised:
        hosts.worker_host_drain_mark(name="grading@nowhere")
    assert raised.value.code == "unknown_worker"


# --- the current job, from the grading harness -------------------------------------------------


class _Job(GradingJob):
    kind = "grade"
    internal_message = "on our side"

    def __init__(self, job_id: int, *, worker: str, seen: list) -> None:
        super().__init__(job_id, worker=worker)
        self.seen = seen

    def claim(self) -> bool:
        return True

    def run(self, workdir):
        host = WorkerHost.objects.get(name=self.worker)
        self.seen.append((host.current_submission_id, host.current_kind))
        raise RuntimeError("the model crashed")  # cleared even when the job fails

    def record(self, outcome: JobOutcome) -> str:
        return outcome.error.code.value


def test_the_harness_shows_a_claimed_job_on_its_worker_while_it_runs_and_clears_it(lab, student):
    submission = SubmissionFactory(lab=lab, student=student)
    start("grading@gpu-box")
    seen: list = []

    outcome = grading_job_run(_Job(submission.pk, worker="grading@gpu-box", seen=seen))

    assert outcome == "internal"
    assert seen == [(submission.pk, "grade")]
    host = WorkerHost.objects.get(name="grading@gpu-box")
    assert (host.current_submission_id, host.current_kind, host.current_since) == (None, "", None)


def test_a_job_that_ends_does_not_clear_a_newer_job_of_the_same_worker(lab, student):
    first, second = SubmissionFactory(lab=lab, student=student), SubmissionFactory(lab=lab)
    start("grading@gpu-box")
    hosts.worker_host_job_start(name="grading@gpu-box", submission_id=second.pk, kind="grade")

    hosts.worker_host_job_end(name="grading@gpu-box", submission_id=first.pk)

    assert WorkerHost.objects.get(name="grading@gpu-box").current_submission_id == second.pk


# --- what each course's staff sees ---------------------------------------------------------


@pytest.fixture
def hosts_at_work(lab, student, other_course):
    """Three hosts: one grading `lab` (this course), one another course's lab, one idle."""
    ours = SubmissionFactory(lab=lab, student=student, status="running")
    theirs_lab = LabFactory(
        session=SessionFactory(course=other_course), title="Secret other-course lab"
    )
    theirs = SubmissionFactory(lab=theirs_lab, status="running")
    for name, job in (("grading@a", ours), ("grading@b", theirs), ("grading@c", None)):
        start(name)
        if job is not None:
            hosts.worker_host_job_start(name=name, submission_id=job.pk, kind="grade")
    return ours, theirs


def test_a_job_of_another_course_is_only_busy(hosts_at_work, course, lab):
    ours, _theirs = hosts_at_work

    found = rows(course)

    assert (found["grading@a"].job, found["grading@a"].submission_id) == ("this_course", ours.pk)
    assert found["grading@a"].lab_title == lab.title
    other = found["grading@b"]
    assert (other.job, other.submission_id, other.lab_title, other.job_since) == (
        "other_course",
        None,
        "",
        None,
    )
    assert found["grading@c"].job == "idle"


@pytest.mark.parametrize("page", ["labs:dashboard", "labs:dashboard-live"])
@pytest.mark.parametrize("role", ["instructor", "teaching_assistant"])
def test_the_staff_see_every_host_and_only_their_own_courses_jobs(
    hosts_at_work, lab, page, role, request
):
    ours, theirs = hosts_at_work
    client = logged_in(request.getfixturevalue(role))

    html = client.get(reverse(page, args=[lab.pk]), **HTMX).content.decode()

    for name in ("grading@a", "grading@b", "grading@c"):
        assert f'data-worker="{name}"' in html
    assert reverse("labs:submission-detail", args=[ours.pk]) in html
    assert "busy (another course)" in html
    assert "Secret other-course lab" not in html
    assert reverse("labs:submission-detail", args=[theirs.pk]) not in html
    assert theirs.student.get_username() not in html


def test_the_other_courses_staff_see_this_courses_job_only_as_busy(
    hosts_at_work, other_course, lab
):
    ours, theirs = hosts_at_work
    their_lab = theirs.lab
    outsider = MembershipFactory(course=other_course, role=Membership.Role.INSTRUCTOR).user

    html = logged_in(outsider).get(reverse("labs:dashboard", args=[their_lab.pk])).content
    html = html.decode()

    assert reverse("labs:submission-detail", args=[theirs.pk]) in html
    assert "busy (another course)" in html
    assert lab.title not in html
    assert reverse("labs:submission-detail", args=[ours.pk]) not in html


def test_nobody_but_the_courses_staff_sees_the_hosts(hosts_at_work, lab, student, other_student):
    url = reverse("labs:dashboard-live", args=[lab.pk])
    anonymous = Client().get(url, **HTMX)
    assert anonymous.status_code == 401  # htmx is sent to the login page
    assert "grading@a" not in anonymous.content.decode()
    assert Client().get(reverse("labs:dashboard", args=[lab.pk])).status_code == 302
    assert logged_in(other_student).get(url, **HTMX).status_code == 404
    mine = logged_in(student).get(url, **HTMX)
    assert mine.status_code == 403
    assert "grading@a" not in mine.content.decode()
    page = logged_in(student).get(reverse("labs:dashboard", args=[lab.pk]))
    assert page.status_code == 403


def test_the_host_list_costs_the_same_queries_for_one_host_or_many(lab, student, instructor):
    client = logged_in(instructor)
    url = reverse("labs:dashboard-live", args=[lab.pk])
    start("grading@one")
    client.get(url, **HTMX)  # warm caches (session, content types)
    with CaptureQueriesContext(connection) as one:
        client.get(url, **HTMX)

    for i in range(8):
        start(f"grading@many-{i}")
        job = SubmissionFactory(lab=LabFactory() if i % 2 else lab, status="running")
        hosts.worker_host_job_start(name=f"grading@many-{i}", submission_id=job.pk, kind="grade")
    with CaptureQueriesContext(connection) as many:
        html = client.get(url, **HTMX).content.decode()

    assert html.count("data-worker=") == 9
    assert len(many) == len(one)
