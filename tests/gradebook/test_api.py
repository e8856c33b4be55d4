"""The `/api/v1/` gradebook API: every endpoint per role, release rules, overrides with their
history, section limits, pagination, the query count and the schema."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from core.actors import SYSTEM
from courseware.models import Course, Membership
from gradebook import services
from gradebook.models import CellHistory, GradeItem
from tests.factories import MembershipFactory, SubmissionFactory
from tests.gradebook.conftest import take_quiz

pytestmark = pytest.mark.django_db


def url(course, name="gradebook", **kwargs) -> str:
    return reverse(f"gradebook_api:{name}", kwargs={"code": course.slug, **kwargs})


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code and body["message"], body
    return body


def quiz_item() -> GradeItem:
    return GradeItem.objects.get(kind=GradeItem.Kind.QUIZ)


def cell_urls(course, item, student) -> dict[str, str]:
    ids = {"item_id": item.pk, "user_id": student.pk}
    return {
        "history": url(course, "cell-history", **ids),
        "cell": url(course, "cell", **ids),
        "final": url(course, "final-grade", user_id=student.pk),
    }


def row_of(body: dict, user) -> dict:
    return next(r for r in body["results"] if r["user_id"] == user.pk)


def cell_of(body: dict, row: dict, item) -> dict:
    index = [i["id"] for i in body["items"]].index(item.pk)
    return row["cells"][index]


# --- who may call what ----------------------------------------------------------------------


def test_anonymous_callers_get_401_on_every_endpoint(course, gradebook, student):
    urls = cell_urls(course, quiz_item(), student)
    client = api()
    assert_error(client.get(url(course)), 401, "not_authenticated")
    assert_error(client.get(urls["history"]), 401, "not_authenticated")
    assert_error(client.patch(urls["cell"], {"override": 1}), 401, "not_authenticated")
    assert_error(client.get(urls["final"]), 401, "not_authenticated")
    assert_error(client.patch(urls["final"], {"percent": 50}), 401, "not_authenticated")


def test_a_student_of_another_course_gets_404_on_every_endpoint(
    course, gradebook, student, other_student
):
    urls = cell_urls(course, quiz_item(), student)
    client = api(other_student)
    assert_error(client.get(url(course)), 404, "not_found")
    assert_error(client.get(urls["history"]), 404, "not_found")
    body = {"override": 1, "reason": "x"}
    assert_error(client.patch(urls["cell"], body, format="json"), 404, "not_found")
    assert_error(client.get(urls["final"]), 404, "not_found")
    body = {"percent": 50, "reason": "x"}
    assert_error(client.patch(urls["final"], body, format="json"), 404, "not_found")


def test_a_student_gets_their_own_row_and_nobody_elses(course, gradebook, student):
    classmate = MembershipFactory(course=course).user
    services.gradebook_course_refresh(course=course)

    body = api(student).get(url(course)).json()

    assert body["count"] == 1 and [r["user_id"] for r in body["results"]] == [student.pk]
    assert classmate.username not in str(body)
    assert body["section_locked"] is True


def test_a_student_may_not_read_histories_or_override(course, gradebook, student):
    item = quiz_item()
    client = api(student)
    for target in (student, MembershipFactory(course=course).user):
        urls = cell_urls(course, item, target)
        assert_error(client.get(urls["history"]), 403, "permission_denied")
        body = {"override": 2, "reason": "mine"}
        assert_error(client.patch(urls["cell"], body, format="json"), 403, "permission_denied")
        assert_error(client.get(urls["final"]), 403, "permission_denied")
        body = {"percent": 100, "reason": "mine"}
        assert_error(client.patch(urls["final"], body, format="json"), 403, "permission_denied")
    assert not CellHistory.objects.exists()


def test_a_ta_reads_the_grid_and_histories_but_does_not_override(course, gradebook, ta, student):
    item = quiz_item()
    urls = cell_urls(course, item, student)
    client = api(ta)

    grid = client.get(url(course))
    assert grid.status_code == 200
    assert student.pk in [r["user_id"] for r in grid.json()["results"]]
    assert client.get(urls["history"]).status_code == 200
    assert client.get(urls["final"]).status_code == 200
    body = {"override": 2, "reason": "TA"}
    assert_error(client.patch(urls["cell"], body, format="json"), 403, "permission_denied")
    body = {"percent": 90, "reason": "TA"}
    assert_error(client.patch(urls["final"], body, format="json"), 403, "permission_denied")
    assert item.cells.get(student=student).override is None


def test_the_instructor_gets_every_item_and_every_current_student(
    course, gradebook, instructor, student
):
    gone = MembershipFactory(course=course).user
    Membership.objects.filter(user=gone).update(is_active=False)

    body = api(instructor).get(url(course)).json()

    assert body["count"] == 1 and body["results"][0]["user_id"] == student.pk
    kinds = {i["kind"] for i in body["items"]}
    assert {"quiz", "lab", "homework"} <= kinds
    assert not any(i["released"] for i in body["items"])  # hidden items are in the grid
    row = body["results"][0]
    assert len(row["cells"]) == len(body["items"])
    assert set(row["totals"]) == {
        "current_percent",
        "final_percent",
        "current_letter",
        "final_letter",
        "categories",
    }


# --- release rules --------------------------------------------------------------------------


def test_a_student_sees_no_hidden_item_until_it_is_released(
    course, gradebook, student, gb_quiz, events
):
    with events():
        take_quiz(gb_quiz, student, right=1)
    client = api(student)
    item = quiz_item()

    hidden = client.get(url(course)).json()
    assert item.pk not in [i["id"] for i in hidden["items"]]
    assert "Attention quiz" not in str(hidden)

    services.grade_item_update(actor=SYSTEM, item=item, released=True)
    shown = client.get(url(course)).json()
    cell = cell_of(shown, shown["results"][0], item)
    assert cell["score"] == 1.0 and cell["status"] == "graded"
    assert shown["results"][0]["totals"]["current_percent"] == 50.0


def test_a_students_totals_leave_hidden_scores_out(
    course, gradebook, instructor, student, gb_quiz, events
):
    with events():
        take_quiz(gb_quiz, student, right=2)
    staff = api(instructor).get(url(course)).json()
    mine = api(student).get(url(course)).json()

    assert cell_of(staff, row_of(staff, student), quiz_item())["score"] == 2.0
    assert mine["results"][0]["totals"]["current_percent"] is None


def test_a_student_never_gets_a_private_lab_score_early(
    course, gradebook, instructor, student, gb_lab, events
):
    from labs.services.jobs import announce_result

    item = GradeItem.objects.get(kind=GradeItem.Kind.LAB)
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

    body = api(student).get(url(course)).json()

    cell = cell_of(body, body["results"][0], item)
    assert cell["score"] == 3.0 and cell["provisional"] is True
    assert cell["status"] == "provisional"
    assert "9.0" not in str(body["results"])


def test_a_student_sees_an_override_as_their_score_without_the_override_field(
    course, gradebook, instructor, student
):
    item = quiz_item()
    services.grade_item_update(actor=SYSTEM, item=item, released=True)
    services.cell_override_set(
        actor=instructor, item=item, student=student, override=1.5, reason="Paper"
    )

    body = api(student).get(url(course)).json()

    cell = cell_of(body, body["results"][0], item)
    assert cell["score"] == 1.5 and cell["points"] == 1.5 and cell["override"] is None


# --- overrides and history ------------------------------------------------------------------


def test_the_instructor_overrides_a_cell_and_the_history_shows_it(
    course, gradebook, instructor, student
):
    item = quiz_item()
    urls = cell_urls(course, item, student)
    client = api(instructor)

    response = client.patch(urls["cell"], {"override": 1.5, "reason": "Regraded"}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["cell"]["override"] == 1.5 and body["cell"]["points"] == 1.5
    assert body["override_reason"] == "Regraded"
    history = client.get(urls["history"]).json()["history"]
    assert [
        (h["field"], h["old_value"], h["new_value"], h["reason"], h["changed_by"]) for h in history
    ] == [("override", "", "1.5", "Regraded", instructor.username)]
    grid = client.get(url(course)).json()
    assert cell_of(grid, row_of(grid, student), item)["override"] == 1.5

    removed = client.patch(urls["cell"], {"override": None, "reason": "Undo"}, format="json")
    assert removed.json()["cell"]["override"] is None
    assert [h["new_value"] for h in removed.json()["history"]] == ["", "1.5"]


def test_an_override_without_a_reason_is_refused(course, gradebook, instructor, student):
    urls = cell_urls(course, quiz_item(), student)
    client = api(instructor)

    assert_error(client.patch(urls["cell"], {"override": 2}, format="json"), 400, "reason_required")
    body = {"override": 2, "reason": "  "}
    assert_error(client.patch(urls["cell"], body, format="json"), 400, "reason_required")
    error = assert_error(
        client.patch(urls["cell"], {"reason": "x"}, format="json"), 400, "invalid_input"
    )
    assert "override" in error["fields"]
    body = {"override": -1, "reason": "x"}
    assert_error(client.patch(urls["cell"], body, format="json"), 400, "invalid_input")
    assert not CellHistory.objects.exists()


def test_a_cell_of_an_unknown_item_or_non_student_is_not_found(
    course, gradebook, instructor, student, ta
):
    client = api(instructor)
    missing = url(course, "cell-history", item_id=999_999, user_id=student.pk)
    assert_error(client.get(missing), 404, "not_found")
    not_a_student = cell_urls(course, quiz_item(), ta)
    assert_error(client.get(not_a_student["history"]), 404, "not_found")
    body = {"override": 1, "reason": "x"}
    assert_error(client.patch(not_a_student["cell"], body, format="json"), 404, "not_found")


def test_the_instructor_overrides_a_final_grade_with_history(
    course, gradebook, instructor, student
):
    urls = cell_urls(course, quiz_item(), student)
    client = api(instructor)

    assert client.get(urls["final"]).json() == {
        "user_id": student.pk,
        "override": None,
        "history": [],
    }
    assert_error(
        client.patch(urls["final"], {"percent": 91}, format="json"), 400, "reason_required"
    )
    response = client.patch(urls["final"], {"percent": 91, "reason": "Viva"}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["override"] == {"percent": 91.0, "letter": "A", "reason": "Viva"}
    assert [(h["field"], h["new_value"], h["reason"]) for h in body["history"]] == [
        ("final", "91", "Viva")
    ]
    grid = client.get(url(course)).json()
    assert row_of(grid, student)["final_override"]["percent"] == 91.0
    mine = api(student).get(url(course)).json()
    assert mine["results"][0]["final_override"]["letter"] == "A"


def test_an_archived_course_refuses_overrides(course, gradebook, instructor, student):
    urls = cell_urls(course, quiz_item(), student)
    Course.objects.filter(pk=course.pk).update(state=Course.State.ARCHIVED)

    client = api(instructor)

    body = {"override": 1, "reason": "late"}
    assert_error(client.patch(urls["cell"], body, format="json"), 409, "course_archived")
    body = {"percent": 80, "reason": "late"}
    assert_error(client.patch(urls["final"], body, format="json"), 409, "course_archived")
    assert not CellHistory.objects.exists()
    assert client.get(urls["history"]).status_code == 200  # reads stay open


# --- sections and pages ---------------------------------------------------------------------


def test_the_section_filter_narrows_the_grid(course, gradebook, instructor, student):
    Membership.objects.filter(user=student).update(section="Wed")
    tuesday = MembershipFactory(course=course, section="Tue").user
    services.gradebook_course_refresh(course=course)
    client = api(instructor)

    body = client.get(url(course), {"section": "Tue"}).json()

    assert [r["user_id"] for r in body["results"]] == [tuesday.pk]
    assert body["section"] == "Tue" and body["sections"] == ["Tue", "Wed"]
    assert_error(client.get(url(course), {"section": "Zzz"}), 400, "unknown_section")


def test_a_ta_limited_to_a_section_sees_only_it(course, gradebook, ta, student):
    Membership.objects.filter(user=ta).update(section="Tue")
    Membership.objects.filter(user=student).update(section="Wed")
    tuesday = MembershipFactory(course=course, section="Tue").user
    services.gradebook_course_refresh(course=course)
    client = api(ta)

    body = client.get(url(course)).json()

    assert [r["user_id"] for r in body["results"]] == [tuesday.pk]
    assert body["section_locked"] is True
    assert_error(client.get(url(course), {"section": "Wed"}), 403, "permission_denied")
    other = cell_urls(course, quiz_item(), student)
    assert_error(client.get(other["history"]), 404, "not_found")
    assert_error(client.get(other["final"]), 404, "not_found")
    assert client.get(cell_urls(course, quiz_item(), tuesday)["history"]).status_code == 200


def test_the_grid_is_paginated_by_name(course, gradebook, instructor, student):
    for name in ("Young", "Abbott", "Moss"):
        MembershipFactory(course=course, user__last_name=name)
    services.gradebook_course_refresh(course=course)
    client = api(instructor)

    first = client.get(url(course), {"page_size": 2}).json()
    second = client.get(first["next"]).json()

    assert first["count"] == 4 and len(first["results"]) == 2 and len(second["results"]) == 2
    names = [r["last_name"] for r in first["results"] + second["results"]]
    assert names[:1] == ["Abbott"] and "Young" in names
    assert {r["user_id"] for r in first["results"]}.isdisjoint(
        {r["user_id"] for r in second["results"]}
    )
    assert_error(client.get(url(course), {"page": 0}), 400, "invalid_page")


def test_the_grid_query_count_is_constant_in_class_size(course, gradebook, instructor):
    client = api(instructor)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url(course), {"page_size": 200}).status_code == 200
        return len(queries)

    for _ in range(30):
        MembershipFactory(course=course)
    services.gradebook_course_refresh(course=course)
    small = count()
    for _ in range(270):
        MembershipFactory(course=course)
    services.gradebook_course_refresh(course=course)
    assert count() == small


# --- the schema -----------------------------------------------------------------------------

GRADEBOOK_OPERATIONS = {
    "/api/v1/courses/{code}/gradebook/": {"get": "gradebook_retrieve"},
    "/api/v1/courses/{code}/gradebook/items/{item_id}/students/{user_id}/": {
        "patch": "gradebook_cell_override"
    },
    "/api/v1/courses/{code}/gradebook/items/{item_id}/students/{user_id}/history/": {
        "get": "gradebook_cell_history"
    },
    "/api/v1/courses/{code}/gradebook/students/{user_id}/final-grade/": {
        "get": "gradebook_final_grade_retrieve",
        "patch": "gradebook_final_grade_override",
    },
}


def test_the_schema_documents_every_gradebook_endpoint_and_its_errors():
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()

    documented = {
        path: {m: op["operationId"] for m, op in schema["paths"][path].items() if m != "parameters"}
        for path in GRADEBOOK_OPERATIONS
    }
    assert documented == GRADEBOOK_OPERATIONS
    override = schema["paths"][
        "/api/v1/courses/{code}/gradebook/items/{item_id}/students/{user_id}/"
    ]
    assert {"200", "400", "401", "403", "404", "409"} <= set(override["patch"]["responses"])
    assert "reason_required" in override["patch"]["responses"]["400"]["description"]
    grid = schema["paths"]["/api/v1/courses/{code}/gradebook/"]["get"]
    assert {p["name"] for p in grid["parameters"]} >= {"code", "section", "page", "page_size"}
    assert all(op["tags"] == ["gradebook"] for op in _operations(schema, GRADEBOOK_OPERATIONS))


def _operations(schema, paths):
    for path, methods in paths.items():
        for method in methods:
            yield schema["paths"][path][method]
