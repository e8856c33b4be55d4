"""Offering pages and API per role: create a course, its settings, draft visibility, the copy
page (preview, confirm) and `POST /api/v1/courses/{code}/copy/`."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from courseware.models import Course, Membership
from tests.factories import MembershipFactory, UserFactory
from tests.offerings.conftest import make_course_creator

pytestmark = pytest.mark.django_db

COPY = {"term": "2027 S2", "starts_on": "2027-07-05", "ends_on": "2027-11-30"}


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def ta(course):
    return MembershipFactory(course=course, role=Membership.Role.TEACHING_ASSISTANT).user


@pytest.fixture
def creator(db):
    return make_course_creator(UserFactory())


# --- Create ---------------------------------------------------------------------------------

NEW = {
    "code": "ML101",
    "term": "2027 S1",
    "title": "Machine learning",
    "starts_on": "2027-02-01",
    "ends_on": "2027-06-30",
    "state": "draft",
}


def test_a_course_creator_creates_a_course_and_teaches_it(creator):
    response = _client(creator).post(reverse("course-create"), NEW)

    course = Course.objects.get(code="ML101", term="2027 S1")
    assert response.status_code == 302
    assert response.url == reverse("course-detail", kwargs={"code": "ML101-2027-S1"})
    assert (course.state, course.starts_on) == ("draft", date(2027, 2, 1))
    assert Membership.objects.get(course=course).user == creator
    assert Membership.objects.get(course=course).role == Membership.Role.INSTRUCTOR


def test_home_offers_new_course_to_course_creators_only(creator, student):
    assert reverse("course-create") in _client(creator).get(reverse("home")).content.decode()
    assert reverse("course-create") not in _client(student).get(reverse("home")).content.decode()


@pytest.mark.parametrize("who", ["plain", "student", "instructor"])
def test_others_may_not_create_courses(who, request, course):
    user = UserFactory() if who == "plain" else request.getfixturevalue(who)
    client = _client(user)

    assert client.get(reverse("course-create")).status_code == 403
    assert client.post(reverse("course-create"), NEW).status_code == 403
    assert not Course.objects.filter(code="ML101").exists()


def test_anonymous_is_sent_to_log_in(db):
    assert _client().get(reverse("course-create")).status_code == 302


def test_a_code_already_offered_in_the_term_is_refused_on_the_form(creator):
    _client(creator).post(reverse("course-create"), NEW)

    response = _client(creator).post(reverse("course-create"), NEW)

    assert response.status_code == 400
    assert "already offered" in response.content.decode()
    assert Course.objects.filter(code="ML101").count() == 1


def test_new_is_not_a_course_code(creator):
    response = _client(creator).post(reverse("course-create"), {**NEW, "code": "new", "term": ""})

    assert response.status_code == 400
    assert not Course.objects.filter(code="new").exists()


def test_a_course_must_end_after_it_starts(creator):
    response = _client(creator).post(reverse("course-create"), {**NEW, "ends_on": "2027-01-01"})

    assert response.status_code == 400
    assert not Course.objects.exists()


# --- Settings -------------------------------------------------------------------------------

SETTINGS = {"title": "Renamed", "starts_on": "2027-02-01", "ends_on": "", "state": "archived"}


@pytest.mark.parametrize(
    ("who", "expected"),
    [("other_student", 404), ("student", 403), ("ta", 403), ("instructor", 302)],
)
def test_only_instructors_edit_the_settings(who, expected, request, course):
    client = _client(request.getfixturevalue(who))

    response = client.post(reverse("course-settings", kwargs={"code": course.slug}), SETTINGS)

    assert response.status_code == expected
    course.refresh_from_db()
    changed = (course.title, course.state) == ("Renamed", "archived")
    assert changed is (expected == 302)


def test_the_settings_page_says_code_and_term_are_fixed(instructor, course):
    response = _client(instructor).get(reverse("course-settings", kwargs={"code": course.slug}))

    assert response.status_code == 200
    assert "The code and term are fixed" in response.content.decode()


# --- Draft ----------------------------------------------------------------------------------


@pytest.fixture
def draft(course):
    Course.objects.filter(pk=course.pk).update(state=Course.State.DRAFT)
    course.refresh_from_db()
    return course


@pytest.mark.parametrize(("who", "expected"), [("student", 404), ("ta", 200), ("instructor", 200)])
def test_a_draft_course_is_seen_by_its_teaching_staff_only(who, expected, request, draft):
    user = request.getfixturevalue(who)
    api = APIClient()
    api.force_authenticate(user)

    page = _client(user).get(reverse("course-detail", kwargs={"code": draft.slug}))
    detail = api.get(reverse("courseware_api:course-detail", kwargs={"code": draft.slug}))
    listed = api.get(reverse("courseware_api:course-list")).json()["results"]
    home = _client(user).get(reverse("home")).content.decode()

    assert page.status_code == detail.status_code == expected
    assert (draft.slug in [c["slug"] for c in listed]) is (expected == 200)
    assert (draft.title in home) is (expected == 200)
    if expected == 200:
        assert "Draft" in home
        assert detail.json()["state"] == "draft"


def test_archived_courses_carry_a_badge_on_home(student, course):
    Course.objects.filter(pk=course.pk).update(state=Course.State.ARCHIVED)

    assert "badge-archived" in _client(student).get(reverse("home")).content.decode()


# --- Copy page ------------------------------------------------------------------------------


def test_the_copy_page_previews_then_copies(copier, source):
    url = reverse("course-copy", kwargs={"code": source.slug})
    client = _client(copier)

    assert client.get(url).status_code == 200
    preview = client.post(url, COPY)
    assert preview.status_code == 200
    body = preview.content.decode()
    for text in ("Transformers", "Week 1 check", "Sentiment lab", "154 days", "2 questions"):
        assert text in body
    assert not Course.objects.filter(term="2027 S2").exists()

    done = client.post(url, {**COPY, "confirm": "1"})

    assert done.status_code == 302
    assert done.url == reverse("course-detail", kwargs={"code": "ICTSS00120-2027-S2"})
    assert client.get(done.url).status_code == 200


@pytest.mark.parametrize(
    ("who", "expected"), [("other_student", 404), ("student", 403), ("instructor", 403)]
)
def test_the_copy_page_refuses_others(who, expected, request, source):
    user = request.getfixturevalue(who)  # `instructor` is no course creator
    response = _client(user).post(
        reverse("course-copy", kwargs={"code": source.slug}), {**COPY, "confirm": "1"}
    )

    assert response.status_code == expected
    assert not Course.objects.filter(term="2027 S2").exists()


def test_the_copy_page_names_a_bad_date(copier, source):
    response = _client(copier).post(
        reverse("course-copy", kwargs={"code": source.slug}), {**COPY, "ends_on": "2027-01-01"}
    )

    assert response.status_code == 400
    assert "end on or after" in response.content.decode()


# --- Copy API -------------------------------------------------------------------------------


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _copy_url(course) -> str:
    return reverse("offerings_api:course-copy", kwargs={"code": course.slug})


def test_the_api_dry_run_says_what_would_be_copied(copier, source):
    response = _api(copier).post(_copy_url(source), {**COPY, "dry_run": True}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["offset_days"] == 154
    assert [s["title"] for s in body["sessions"]] == ["Transformers"]
    assert body["quizzes"] == [{"title": "Week 1 check", "session": 1, "question_count": 2}]
    assert body["question_bank"] == {"categories": 2, "questions": 2}
    assert body["labs"] == [{"title": "Sentiment lab", "session": 1, "dataset_versions": [1, 2]}]
    assert not Course.objects.filter(term="2027 S2").exists()


def test_the_api_copies(copier, source):
    response = _api(copier).post(_copy_url(source), COPY, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["slug"] == "ICTSS00120-2027-S2"
    assert response.json()["state"] == "draft"


@pytest.mark.parametrize(
    ("who", "expected"),
    [("other_student", 404), ("student", 403), ("ta", 403), ("instructor", 403)],
)
def test_the_api_refuses_others(who, expected, request, source):
    response = _api(request.getfixturevalue(who)).post(_copy_url(source), COPY, format="json")

    assert response.status_code == expected
    assert set(response.json()) == {"code", "message"}
    assert not Course.objects.filter(term="2027 S2").exists()


def test_the_api_refuses_anonymous(source):
    assert APIClient().post(_copy_url(source), COPY, format="json").status_code == 401


def test_the_api_names_a_term_already_offered(copier, source):
    _api(copier).post(_copy_url(source), COPY, format="json")

    response = _api(copier).post(_copy_url(source), COPY, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "course_exists"


# --- The demo course ------------------------------------------------------------------------


def test_a_course_without_a_term_keeps_its_address_after_being_copied(instructor, course):
    make_course_creator(instructor)
    response = _api(instructor).post(
        reverse("offerings_api:course-copy", kwargs={"code": "ICTSS00120"}), COPY, format="json"
    )

    assert response.status_code == 201
    assert _client(instructor).get("/courses/ICTSS00120/").status_code == 200
    assert _client(instructor).get("/courses/ICTSS00120-2027-S2/").status_code == 200
    assert _api(instructor).get("/api/v1/courses/ICTSS00120/").json()["term"] == ""
