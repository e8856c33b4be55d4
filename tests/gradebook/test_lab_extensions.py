"""A lab deadline extension in the gradebook: the extended student's due date is their own
close (lateness judged on it), and every lab score stays public and provisional until the
last extension has ended (no private score reaches a student early)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.actors import SYSTEM
from courseware.models import Membership
from gradebook import services
from gradebook.models import GradeCell, GradeItem
from labs.models import Submission
from labs.services import lab_extension_delete, lab_extension_set
from tests.factories import MembershipFactory, SubmissionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def classmate(course):
    return MembershipFactory(course=course, role=Membership.Role.STUDENT).user


def _cell(lab, user) -> GradeCell:
    item = GradeItem.objects.get(kind="lab", source_id=lab.pk)
    return GradeCell.objects.get(item=item, student=user)


def _scored_at(lab, student, when, *, public=0.6, private=0.9) -> Submission:
    submission = SubmissionFactory(
        lab=lab,
        student=student,
        status="scored",
        metrics_public={"macro_f1": public},
        metrics_private={"macro_f1": private},
    )
    Submission.objects.filter(pk=submission.pk).update(created_at=when)
    return submission


def _late_policy(course) -> None:
    item = GradeItem.objects.get(kind="lab")
    category = item.category
    category.late_deduct_percent = 10
    category.save()


def test_the_extension_is_the_students_due_date_and_removing_it_restores_the_labs(
    gradebook, gb_lab, student, events
):
    later = gb_lab.closes_at + timedelta(days=3)
    with events():
        lab_extension_set(actor=SYSTEM, lab=gb_lab, student=student, closes_at=later, reason="x")
    assert _cell(gb_lab, student).due_at == later
    with events():
        lab_extension_delete(actor=SYSTEM, lab=gb_lab, student=student)
    assert _cell(gb_lab, student).due_at is None  # the item's (the lab's) due date applies


def test_lateness_is_judged_on_the_extended_date(
    gradebook, course, gb_lab, student, classmate, events
):
    _late_policy(course)
    later = gb_lab.closes_at + timedelta(days=3)
    with events():
        lab_extension_set(actor=SYSTEM, lab=gb_lab, student=student, closes_at=later, reason="x")
    after_close = gb_lab.closes_at + timedelta(days=1)
    _scored_at(gb_lab, student, after_close)  # within the extension
    _scored_at(gb_lab, classmate, after_close)  # e.g. accepted by hand: a day late

    services.gradebook_ensure_fresh(course=course, now=later + timedelta(minutes=1))

    mine, theirs = _cell(gb_lab, student), _cell(gb_lab, classmate)
    assert (mine.status, mine.deduction, mine.provisional) == ("graded", 0, False)
    assert theirs.status == "late" and theirs.deduction == pytest.approx(1.0)


def test_the_extended_student_late_after_their_own_deadline(
    gradebook, course, gb_lab, student, events
):
    _late_policy(course)
    later = gb_lab.closes_at + timedelta(days=3)
    with events():
        lab_extension_set(actor=SYSTEM, lab=gb_lab, student=student, closes_at=later, reason="x")
    _scored_at(gb_lab, student, later + timedelta(hours=2))

    services.gradebook_ensure_fresh(course=course, now=later + timedelta(days=1))

    assert _cell(gb_lab, student).status == "late"


def test_private_scores_stay_out_of_the_gradebook_until_the_last_extension_ends(
    gradebook, course, gb_lab, student, classmate, events
):
    later = gb_lab.closes_at + timedelta(days=3)
    with events():
        lab_extension_set(actor=SYSTEM, lab=gb_lab, student=student, closes_at=later, reason="x")
    _scored_at(gb_lab, classmate, timezone.now(), public=0.6, private=0.9)

    # The lab's own close passes; the extension still runs: public part, provisional.
    services.gradebook_ensure_fresh(course=course, now=gb_lab.closes_at + timedelta(minutes=1))
    found = _cell(gb_lab, classmate)
    assert (found.score, found.provisional) == (pytest.approx(6.0), True)

    # The extension ends: the private part counts, for everyone.
    services.gradebook_ensure_fresh(course=course, now=later + timedelta(minutes=1))
    found = _cell(gb_lab, classmate)
    assert (found.score, found.provisional) == (pytest.approx(9.0), False)
