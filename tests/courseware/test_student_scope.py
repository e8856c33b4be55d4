"""Which students the staff's lists show (courseware.selectors.students): unenrolled members
drop out of every list but keep their work, `?section=` narrows a list to one section, and a
teaching assistant with a section is held to it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.authtoken.models import Token

from core.actors import SYSTEM
from core.exceptions import ApplicationError, NotFoundError, PermissionDeniedError
from courseware import selectors
from courseware.models import HomeworkCompletion, Membership
from courseware.selectors.students import course_sections, student_scope
from tests.factories import HomeworkTaskFactory, MembershipFactory

STUDENT = Membership.Role.STUDENT
TA = Membership.Role.TEACHING_ASSISTANT


def enrol(course, section="", **user):
    return MembershipFactory(course=course, role=STUDENT, section=section, **user)


def unenrol(membership):
    membership.is_active = False
    membership.save()


def reenrol(membership):
    membership.is_active = True
    membership.save()


@pytest.fixture
def klass(course, session12):
    """Two students in section A, one in B, one unenrolled from A (who ticked everything)."""
    members = {
        "ann": enrol(course, "A", user__username="ann", user__last_name="Aardvarkson"),
        "bob": enrol(course, "A", user__username="bob", user__last_name="Buttercupper"),
        "cat": enrol(course, "B", user__username="cat", user__last_name="Cumberbatchly"),
        "dan": enrol(course, "A", user__username="dan", user__last_name="Dunwoodyish"),
    }
    for task in session12.homework.all():
        HomeworkCompletion.objects.create(task=task, student=members["dan"].user)
        HomeworkCompletion.objects.create(task=task, student=members["ann"].user)
    unenrol(members["dan"])
    return members


def usernames(users) -> list[str]:
    return [u.username for u in users]


# --- the scope --------------------------------------------------------------------------


def test_an_instructor_sees_the_whole_course_and_may_pick_a_section(course, instructor, klass):
    scope = student_scope(user=instructor, course=course)
    assert (scope.section, scope.sections, scope.locked) == ("", ("A", "B"), False)

    assert student_scope(user=instructor, course=course, section=" B ").section == "B"


def test_an_unknown_section_is_an_error_that_names_the_sections(course, instructor, klass):
    with pytest.raises(ApplicationError) as exc:
        student_scope(user=instructor, course=course, section="Z")
    assert exc.value.code == "unknown_section"
    assert "'A', 'B'" in exc.value.message


def test_a_teaching_assistant_with_a_section_is_held_to_it(course, klass):
    ta = MembershipFactory(course=course, role=TA, section="B").user

    scope = student_scope(user=ta, course=course)
    assert (scope.section, scope.sections, scope.locked) == ("B", ("B",), True)
    assert student_scope(user=ta, course=course, section="B").section == "B"
    with pytest.raises(PermissionDeniedError, match="section 'B'"):
        student_scope(user=ta, course=course, section="A")


def test_a_teaching_assistant_without_a_section_sees_the_whole_course(course, klass):
    ta = MembershipFactory(course=course, role=TA).user

    scope = student_scope(user=ta, course=course, section="A")
    assert (scope.section, scope.sections, scope.locked) == ("A", ("A", "B"), False)


def test_students_and_outsiders_get_no_scope(course, student, other_student, klass):
    with pytest.raises(PermissionDeniedError):
        student_scope(user=student, course=course)
    with pytest.raises(NotFoundError):
        student_scope(user=other_student, course=course)


def test_commands_see_the_whole_course(course, klass):
    assert student_scope(user=SYSTEM, course=course, section="A").section == "A"


def test_sections_are_those_of_current_students(course, klass):
    unenrol(klass["cat"])
    assert course_sections(course=course) == ["A"]


# --- rosters and the completion grid ------------------------------------------------------


def test_unenrolled_students_leave_the_roster_but_keep_their_work(course, klass):
    assert usernames(selectors.course_students(course=course)) == ["ann", "bob", "cat"]
    assert "dan" in usernames(selectors.course_students(course=course, include_inactive=True))
    assert HomeworkCompletion.objects.filter(student=klass["dan"].user).count() == 2

    reenrol(klass["dan"])
    assert usernames(selectors.course_students(course=course)) == ["ann", "bob", "cat", "dan"]


def test_the_roster_filters_by_section(course, klass):
    assert usernames(selectors.course_students(course=course, section="A")) == ["ann", "bob"]


def test_the_completion_grid_lists_current_students_of_the_section(course, klass):
    grid = selectors.completion_grid(course=course)
    assert [r.student.username for r in grid.rows] == ["ann", "bob", "cat"]
    assert grid.task_totals == [1, 1]

    grid = selectors.completion_grid(course=course, section="B")
    assert [(r.student.username, r.done_count) for r in grid.rows] == [("cat", 0)]


def test_homework_done_counts_leave_out_unenrolled_students(course, session12, klass):
    counts = selectors.homework_done_counts(session=session12)
    assert sorted(counts.values()) == [1, 1]
    assert sorted(selectors.homework_done_counts(session=session12, section="B").values()) == [
        0,
        0,
    ]
    reenrol(klass["dan"])
    assert sorted(selectors.homework_done_counts(session=session12).values()) == [2, 2]


def _grid_queries(course, section="") -> int:
    with CaptureQueriesContext(connection) as ctx:
        selectors.completion_grid(course=course, section=section)
    return len(ctx.captured_queries)


@pytest.mark.parametrize("section", ["", "A"])
def test_the_grid_costs_the_same_queries_whatever_the_class_size(course, klass, section):
    small = _grid_queries(course, section)
    for i in range(10):
        enrol(course, "A", user__username=f"extra{i}")
    HomeworkTaskFactory(session=course.sessions.get())
    assert _grid_queries(course, section) == small


# --- the course page, the session page and the completions API -------------------------


def test_the_course_page_filters_the_grid_by_section(client, course, instructor, klass):
    client.force_login(instructor)
    url = reverse("course-detail", args=[course.slug])

    page = client.get(url).content.decode()
    assert 'name="section"' in page and '<option value="B">B</option>' in page
    assert "Aardvarkson" in page and "Cumberbatchly" in page and "Dunwoodyish" not in page

    page = client.get(url, {"section": "B"}).content.decode()
    assert "Cumberbatchly" in page and "Aardvarkson" not in page
    assert '<option value="B" selected>' in page


def test_the_course_page_refuses_an_unknown_section(client, course, instructor, klass):
    client.force_login(instructor)
    response = client.get(reverse("course-detail", args=[course.slug]), {"section": "Z"})
    assert response.status_code == 400
    assert "has no section" in response.content.decode()


def test_a_course_without_sections_shows_no_filter(client, course, instructor, student):
    client.force_login(instructor)
    page = client.get(reverse("course-detail", args=[course.slug])).content.decode()
    assert 'name="section"' not in page


def test_students_get_their_own_page_whatever_the_section(client, course, student, klass):
    client.force_login(student)
    response = client.get(reverse("course-detail", args=[course.slug]), {"section": "Z"})
    assert response.status_code == 200
    assert "Cumberbatchly" not in response.content.decode()


def test_the_session_page_counts_current_students_of_the_section(
    client, course, session12, instructor, klass
):
    client.force_login(instructor)
    url = reverse("session-detail", args=[course.slug, session12.number])
    assert "1/3 done" in client.get(url).content.decode()
    assert "0/1 done" in client.get(url, {"section": "B"}).content.decode()


def test_the_completions_api_leaves_out_unenrolled_students(
    client, course, session12, instructor, klass
):
    task = session12.homework.first()
    token = Token.objects.create(user=instructor)
    url = reverse("courseware_api:homework-completion-list", args=[task.pk])
    auth = {"HTTP_AUTHORIZATION": f"Token {token.key}"}

    body = client.get(url, **auth).json()
    assert [r["username"] for r in body["results"]] == ["ann"]
    assert client.get(url, {"section": "B"}, **auth).json()["results"] == []
    assert client.get(url, {"section": "Z"}, **auth).json()["code"] == "unknown_section"
