"""The gradebook pages per role, release rules, the query count and the exports."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.actors import SYSTEM
from courseware.models import Membership
from gradebook import services
from gradebook.models import GradeItem
from tests.factories import MembershipFactory
from tests.gradebook.conftest import take_quiz

pytestmark = pytest.mark.django_db


def url(course, name="gradebook", **kwargs):
    return reverse(name, kwargs={"code": course.slug, **kwargs})


def test_anonymous_visitors_are_sent_to_log_in(client, course, gradebook):
    response = client.get(url(course))
    assert response.status_code == 302 and "/login" in response["Location"]


def test_a_student_of_another_course_gets_not_found(client, course, gradebook, other_student):
    client.force_login(other_student)
    assert client.get(url(course)).status_code == 404
    assert client.get(url(course, "gradebook-export", fmt="canvas")).status_code == 404


def test_the_instructor_and_the_ta_see_the_grid(client, course, gradebook, instructor, ta):
    for user in (instructor, ta):
        client.force_login(user)
        response = client.get(url(course))
        assert response.status_code == 200
        assert b'id="gradebook"' in response.content
    assert b"Release</button>" not in response.content  # the TA's view is read-only


def test_a_ta_cannot_release_or_export_is_allowed(client, course, gradebook, ta, gb_quiz):
    item = GradeItem.objects.get(kind="quiz")
    client.force_login(ta)
    response = client.post(
        url(course, "gradebook-item-release", item_id=item.pk), {"released": "on"}
    )
    assert response.status_code == 403
    assert client.get(url(course, "gradebook-export", fmt="plain")).status_code == 200


def test_a_ta_limited_to_a_section_sees_only_that_section(client, course, gradebook, ta, student):
    Membership.objects.filter(user=ta).update(section="Tue")
    other = MembershipFactory(course=course, section="Tue").user
    Membership.objects.filter(user=student).update(section="Wed")
    client.force_login(ta)
    content = client.get(url(course)).content.decode()
    assert other.username in content or other.get_full_name() in content
    assert (student.get_full_name() or student.username) not in content


def test_a_student_sees_only_released_items(client, course, gradebook, student, gb_quiz, events):
    with events():
        take_quiz(gb_quiz, student, right=2)
    client.force_login(student)
    content = client.get(url(course)).content.decode()
    assert "My grades" in content and "Attention quiz" not in content
    services.grade_item_update(actor=SYSTEM, item=GradeItem.objects.get(kind="quiz"), released=True)
    content = client.get(url(course)).content.decode()
    assert "Attention quiz" in content
    assert "100.0%" in content


def test_a_student_never_sees_a_private_lab_score_early(
    client, course, gradebook, student, gb_lab, events
):
    from labs.services.jobs import announce_result
    from tests.factories import SubmissionFactory

    item = GradeItem.objects.get(kind="lab")
    services.grade_item_update(actor=SYSTEM, item=item, released=True)
    submission = SubmissionFactory(
        lab=gb_lab,
        student=student,
        status="scored",
        metrics_public={"macro_f1": 0.3},
        metrics_private={"macro_f1": 0.9},
    )
    with events():
        announce_result(submission.pk)
    client.force_login(student)
    content = client.get(url(course)).content.decode()
    assert "3 / 10" in content and "9 / 10" not in content
    assert "provisional" in content


def test_what_if_recomputes_without_saving(client, course, gradebook, student, gb_quiz):
    item = GradeItem.objects.get(kind="quiz")
    services.grade_item_update(actor=SYSTEM, item=item, released=True)
    client.force_login(student)
    response = client.post(url(course, "gradebook-what-if"), {f"item-{item.pk}": "1"})
    assert response.status_code == 200
    assert b"What-if totals" in response.content and b"50.0%" in response.content
    assert not item.cells.filter(student=student, score__isnull=False).exists()


def test_the_instructor_overrides_a_cell_with_a_reason(
    client, course, gradebook, instructor, student
):
    item = GradeItem.objects.get(kind="quiz")
    client.force_login(instructor)
    cell_url = url(course, "gradebook-cell", item_id=item.pk, student_id=student.pk)
    response = client.post(cell_url, {"override": "1.5", "reason": "Regraded on paper"})
    assert response.status_code == 200
    assert b"Regraded on paper" in response.content
    assert item.cells.get(student=student).override == 1.5
    assert client.post(cell_url, {"override": "2"}).status_code == 200
    assert item.cells.get(student=student).override == 1.5  # no reason: refused


def test_the_grid_query_count_is_constant_in_class_size(client, course, instructor, gradebook):
    client.force_login(instructor)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url(course)).status_code == 200
        return len(queries)

    for _ in range(30):
        MembershipFactory(course=course)
    services.gradebook_course_refresh(course=course)
    small = count()
    for _ in range(270):
        MembershipFactory(course=course)
    services.gradebook_course_refresh(course=course)
    assert count() == small


def _rows(response):
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_the_canvas_export_has_canvas_layout(
    client, course, gradebook, instructor, student, gb_quiz, events
):
    from accounts.models import Profile

    Profile.objects.create(user=student, student_id="S123")
    with events():
        take_quiz(gb_quiz, student, right=1)
    quiz_item = GradeItem.objects.get(kind="quiz")
    task_item = GradeItem.objects.filter(kind="homework").first()
    services.cell_excused_set(
        actor=instructor, item=task_item, student=student, excused=True, reason="x"
    )
    client.force_login(instructor)
    rows = _rows(client.get(url(course, "gradebook-export", fmt="canvas")))
    items = list(GradeItem.objects.filter(course=course))
    assert rows[0] == [
        "Student", "ID", "SIS User ID", "SIS Login ID", "Section",
        *(f"{i.title} ({i.pk})" for i in items),
        "Current Score", "Final Score", "Current Grade", "Final Grade",
    ]  # fmt: skip
    assert rows[1] == [
        "Points Possible",
        "",
        "",
        "",
        "",
        *(f"{i.points_possible:.2f}" for i in items),
        "",
        "",
        "",
        "",
    ]
    row = rows[2]
    assert row[:5] == [
        f"{student.last_name}, {student.first_name}",
        str(student.pk),
        "S123",
        student.username,
        "",
    ]
    by_title = dict(zip(rows[0], row, strict=True))
    assert by_title[f"{quiz_item.title} ({quiz_item.pk})"] == "1.00"
    assert by_title[f"{task_item.title} ({task_item.pk})"] == "EX"
    assert by_title["Current Score"] == "50.00"
    assert len(rows) == 3


def test_the_moodle_export_has_moodle_columns(client, course, gradebook, instructor, student):
    client.force_login(instructor)
    rows = _rows(client.get(url(course, "gradebook-export", fmt="moodle")))
    items = list(GradeItem.objects.filter(course=course))
    assert rows[0] == [
        "First name",
        "Surname",
        "ID number",
        "Email address",
        *(i.title for i in items),
    ]
    assert rows[1][:4] == [student.first_name, student.last_name, "", student.email]
    assert rows[1][4:] == ["" for _ in items]


def test_the_grid_shows_a_late_cells_deduction(client, course, gradebook, instructor, student):
    from datetime import timedelta

    from django.utils import timezone

    from gradebook.models import GradeCell

    due = timezone.now() - timedelta(days=5)
    category = services.grade_category_save(
        actor=instructor, course=course, name="Essays", late_deduct_percent=10.0
    )
    item = services.manual_item_create(
        actor=instructor, course=course, title="Essay", points_possible=10, category=category,
        due_at=due,
    )  # fmt: skip
    services.manual_score_set(actor=instructor, item=item, student=student, score=8.0)
    GradeCell.objects.filter(item=item, student=student).update(
        submitted_at=due + timedelta(days=1, hours=2)
    )  # 2 started days late: 2 x 10 % x 10 = 2 points
    services.gradebook_student_refresh(course=course, user_ids=[student.pk])
    client.force_login(instructor)
    content = client.get(url(course)).content.decode()
    assert '>6</a> <small class="late-deduction" title="Late: 2 points deducted' in content
    assert "(\u22122 late)</small>" in content  # a real minus sign


def test_the_grid_escapes_names_and_marks_excused_and_overridden_cells(
    client, course, gradebook, instructor, student
):
    student.first_name, student.last_name = "<script>alert(1)</script>", "O'Neil"
    student.save()
    Membership.objects.filter(user=student).update(section="<b>Tue</b>")
    quiz, lab = GradeItem.objects.get(kind="quiz"), GradeItem.objects.get(kind="lab")
    services.cell_excused_set(
        actor=instructor, item=quiz, student=student, excused=True, reason="ill"
    )
    services.cell_override_set(
        actor=instructor, item=lab, student=student, override=7.5, reason="x"
    )
    client.force_login(instructor)
    content = client.get(url(course)).content.decode()
    assert "<script>alert(1)" not in content and "&lt;script&gt;alert(1)" in content
    assert "O&#x27;Neil" in content and "<small>&lt;b&gt;Tue&lt;/b&gt;</small>" in content
    cell_url = url(course, "gradebook-cell", item_id=quiz.pk, student_id=student.pk)
    assert f'hx-get="{cell_url}" hx-target="#cell-detail">EX</a>' in content
    lab_url = url(course, "gradebook-cell", item_id=lab.pk, student_id=student.pk)
    assert (
        f'hx-get="{lab_url}" hx-target="#cell-detail">7.50</a><sup title="Overridden">*</sup>'
        in (content)
    )


def test_the_moodle_export_leaves_an_excused_cell_blank(
    client, course, gradebook, instructor, student
):
    # Moodle's CSV import reads a blank cell as "no grade" and rejects text such as EX.
    item = services.manual_item_create(
        actor=instructor, course=course, title="Exam", points_possible=10
    )
    services.manual_score_set(actor=instructor, item=item, student=student, score=8.0)
    client.force_login(instructor)
    rows = _rows(client.get(url(course, "gradebook-export", fmt="moodle")))
    assert dict(zip(rows[0], rows[1], strict=True))["Exam"] == "8.00"
    services.cell_excused_set(
        actor=instructor, item=item, student=student, excused=True, reason="x"
    )
    rows = _rows(client.get(url(course, "gradebook-export", fmt="moodle")))
    assert dict(zip(rows[0], rows[1], strict=True))["Exam"] == ""
