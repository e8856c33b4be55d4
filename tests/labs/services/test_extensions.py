"""Per-student deadline extensions: only the course's instructors set or remove one, for an
active student, after the lab's own close; the extended student may submit until their own
deadline while everyone else is refused; no student sees a private score while any
extension is still running; an archived course refuses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.base import ContentFile
from django.utils import timezone

from core.actors import SYSTEM
from core.exceptions import ApplicationError, NotFoundError, PermissionDeniedError
from courseware.models import Course, Membership
from labs import selectors, services
from labs.models import LabExtension, Submission
from tests.factories import MembershipFactory, SubmissionFactory
from tests.labs.conftest import model_zip

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_storage", "task_queue")]


@pytest.fixture
def classmate(course):
    return MembershipFactory(course=course, role=Membership.Role.STUDENT).user


def _extend(lab, student, *, actor=SYSTEM, days: float = 3, reason: str = "Medical certificate"):
    return services.lab_extension_set(
        actor=actor,
        lab=lab,
        student=student,
        closes_at=lab.closes_at + timedelta(days=days),
        reason=reason,
    )


def _close_lab(lab, *, minutes_ago: int = 1) -> None:
    """The lab's own deadline passes (extensions keep their absolute dates)."""
    lab.closes_at = timezone.now() - timedelta(minutes=minutes_ago)
    lab.save(update_fields=["closes_at"])


def _submit(lab, student) -> Submission:
    upload = ContentFile(model_zip(), name="model.zip")
    return services.submission_create(lab=lab, actor=student, upload=upload, filename="model.zip")


# --- Who may -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("anonymous", NotFoundError),
        ("other_student", NotFoundError),
        ("student", PermissionDeniedError),
        ("teaching_assistant", PermissionDeniedError),
    ],
)
def test_only_instructors_set_or_remove_an_extension(request, lab, student, who, error):
    actor = AnonymousUser() if who == "anonymous" else request.getfixturevalue(who)
    with pytest.raises(error):
        _extend(lab, student, actor=actor)
    LabExtension.objects.create(lab=lab, student=student, closes_at=lab.closes_at + timedelta(1))
    with pytest.raises(error):
        services.lab_extension_delete(actor=actor, lab=lab, student=student)
    assert LabExtension.objects.filter(lab=lab, student=student).count() == 1


def test_an_instructor_sets_replaces_and_removes_an_extension(lab, student, instructor):
    extension = _extend(lab, student, actor=instructor, days=2)
    assert (extension.created_by, extension.reason) == (instructor, "Medical certificate")
    assert selectors.lab_closes_for(lab=lab, student=student) == lab.closes_at + timedelta(2)

    again = _extend(lab, student, actor=instructor, days=4, reason="  Family emergency ")
    assert again.pk == extension.pk and again.reason == "Family emergency"
    assert LabExtension.objects.get().closes_at == lab.closes_at + timedelta(days=4)

    assert services.lab_extension_delete(actor=instructor, lab=lab, student=student) is True
    assert services.lab_extension_delete(actor=instructor, lab=lab, student=student) is False
    assert selectors.lab_closes_for(lab=lab, student=student) == lab.closes_at


def test_an_extension_is_only_for_an_active_student_of_the_course(
    lab, student, teaching_assistant, other_student
):
    for person in (teaching_assistant, other_student):
        with pytest.raises(ApplicationError) as excinfo:
            _extend(lab, person)
        assert excinfo.value.code == "not_a_student"
    Membership.objects.filter(user=student).update(is_active=False)
    with pytest.raises(ApplicationError, match="not an active student"):
        _extend(lab, student)
    assert not LabExtension.objects.exists()


@pytest.mark.parametrize(("days", "reason"), [(0, "x"), (-1, "x"), (1, "  ")])
def test_it_refuses_an_extension_not_after_the_labs_close_or_without_a_reason(
    lab, student, days, reason
):
    with pytest.raises(ApplicationError) as excinfo:
        _extend(lab, student, days=days, reason=reason)
    assert excinfo.value.code == "invalid_extension"
    assert not LabExtension.objects.exists()


def test_a_lab_without_a_deadline_needs_no_extension(lab, student):
    lab.closes_at = None
    lab.save(update_fields=["closes_at"])
    with pytest.raises(ApplicationError) as excinfo:
        services.lab_extension_set(
            actor=SYSTEM, lab=lab, student=student, closes_at=timezone.now(), reason="x"
        )
    assert excinfo.value.code == "lab_no_deadline"


def test_an_archived_course_refuses_setting_and_removing(lab, student, instructor):
    _extend(lab, student)
    lab.session.course.state = Course.State.ARCHIVED
    lab.session.course.save(update_fields=["state"])
    for write in (
        lambda: _extend(lab, student, actor=instructor),
        lambda: services.lab_extension_delete(actor=instructor, lab=lab, student=student),
    ):
        with pytest.raises(ApplicationError) as excinfo:
            write()
        assert (excinfo.value.code, excinfo.value.status_code) == ("course_archived", 409)
    assert LabExtension.objects.count() == 1


# --- The rule: open for the extended student only ------------------------------------------


def test_after_the_close_only_the_extended_student_may_submit(lab, student, classmate):
    LabExtension.objects.create(
        lab=lab, student=student, closes_at=timezone.now() + timedelta(days=1)
    )
    _close_lab(lab)

    assert _submit(lab, student).status == Submission.Status.QUEUED
    with pytest.raises(ApplicationError) as excinfo:
        _submit(lab, classmate)
    assert excinfo.value.code == "lab_closed"
    assert selectors.lab_phase_for(lab=lab, student=student) == "open"
    assert selectors.lab_phase_for(lab=lab, student=classmate) == "closed"


def test_the_quota_still_applies_to_an_extended_student(lab, student):
    LabExtension.objects.create(
        lab=lab, student=student, closes_at=timezone.now() + timedelta(days=1)
    )
    _close_lab(lab)
    for _ in range(lab.daily_quota):
        _submit(lab, student)
    with pytest.raises(ApplicationError) as excinfo:
        _submit(lab, student)
    assert excinfo.value.code == "quota_exceeded"


def test_once_the_extension_has_passed_the_student_is_refused_too(lab, student):
    LabExtension.objects.create(
        lab=lab, student=student, closes_at=timezone.now() - timedelta(seconds=30)
    )
    _close_lab(lab, minutes_ago=5)
    with pytest.raises(ApplicationError, match="your extended deadline"):
        _submit(lab, student)


# --- Private scores: revealed when the lab closes for everyone ------------------------------


def test_no_student_sees_private_scores_while_an_extension_runs(lab, student, classmate):
    mine = SubmissionFactory(
        lab=lab,
        student=classmate,
        status="scored",
        metrics_public={"macro_f1": 0.6},
        metrics_private={"macro_f1": 0.9},
    )
    running = LabExtension.objects.create(
        lab=lab, student=student, closes_at=timezone.now() + timedelta(hours=2)
    )
    _close_lab(lab)

    assert selectors.lab_is_closed(lab=lab) is False
    role = Membership.Role.STUDENT
    assert selectors.submission_visible_metrics(submission=mine, role=role)["private"] is None
    assert selectors.leaderboard_part(lab=lab, role=role, requested=None) == "public"
    with pytest.raises(PermissionDeniedError, match="closes for everyone"):
        selectors.leaderboard_part(lab=lab, role=role, requested="private")
    # The staff still see it.
    staff = Membership.Role.TEACHING_ASSISTANT
    assert selectors.submission_visible_metrics(submission=mine, role=staff)["private"]

    # The last extension ends: revealed to everyone.
    later = running.closes_at + timedelta(seconds=1)
    assert selectors.lab_is_closed(lab=lab, now=later) is True
    visible = selectors.submission_visible_metrics(submission=mine, role=role, now=later)
    assert visible["private"] == {"macro_f1": 0.9}
    assert selectors.leaderboard_part(lab=lab, role=role, requested=None, now=later) == "private"


def test_an_extension_cannot_be_set_once_private_scores_are_revealed(lab, student, instructor):
    _close_lab(lab)
    with pytest.raises(ApplicationError) as excinfo:
        services.lab_extension_set(
            actor=instructor,
            lab=lab,
            student=student,
            closes_at=timezone.now() + timedelta(days=1),
            reason="Late request",
        )
    assert (excinfo.value.code, excinfo.value.status_code) == ("lab_scores_revealed", 409)


def test_a_running_extension_may_still_be_lengthened_after_the_labs_close(lab, student, instructor):
    LabExtension.objects.create(
        lab=lab, student=student, closes_at=timezone.now() + timedelta(hours=1)
    )
    _close_lab(lab)
    later = timezone.now() + timedelta(days=1)
    services.lab_extension_set(
        actor=instructor, lab=lab, student=student, closes_at=later, reason="More time"
    )
    assert LabExtension.objects.get().closes_at == later


def test_setting_and_removing_announce_the_students_grade_change(
    lab, student, instructor, django_capture_on_commit_callbacks
):
    from core.events import grade_source_changed

    heard = []

    def listen(sender, **kwargs):
        heard.append((kwargs["source"], kwargs["source_id"], kwargs["user_id"]))

    grade_source_changed.connect(listen)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            _extend(lab, student, actor=instructor)
        with django_capture_on_commit_callbacks(execute=True):
            services.lab_extension_delete(actor=instructor, lab=lab, student=student)
    finally:
        grade_source_changed.disconnect(listen)
    assert heard == [("lab", lab.pk, student.pk), ("lab", lab.pk, student.pk)]


def test_removing_the_last_running_extension_announces_every_students_change(
    lab, student, instructor, django_capture_on_commit_callbacks
):
    """Its removal closes the lab for everyone: every student's score turns private."""
    from core.events import grade_source_changed

    LabExtension.objects.create(
        lab=lab, student=student, closes_at=timezone.now() + timedelta(hours=1)
    )
    _close_lab(lab)
    heard = []

    def listen(sender, **kwargs):
        heard.append(kwargs["user_id"])

    grade_source_changed.connect(listen)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.lab_extension_delete(actor=instructor, lab=lab, student=student)
    finally:
        grade_source_changed.disconnect(listen)
    assert heard == [None]
