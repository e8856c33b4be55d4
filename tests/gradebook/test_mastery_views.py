"""The mastery pages and API per role: anonymous, another course's student, the student (own
only, hidden quiz marks left out), the TA (read-only heatmap) and the instructor (tags)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from courseware.models import Membership
from gradebook import mastery
from gradebook.models import ObjectiveLink
from quizzes.review import NOTHING, WINDOWS
from tests.factories import MembershipFactory
from tests.gradebook.conftest import take_quiz

pytestmark = pytest.mark.django_db


def url(course, name="gradebook-objectives", **kwargs):
    return reverse(name, kwargs={"code": course.slug, **kwargs})


def api_url(course):
    return f"/api/v1/courses/{course.slug}/mastery/"


@pytest.fixture
def tagged(course, gradebook, gb_quiz, session12):
    """Both quiz questions assess objective 1; the course's mastery has been viewed."""
    objective = session12.objectives.get(position=1)
    for slot in gb_quiz.slots.all():
        slot.question.objectives.add(objective)
    mastery.mastery_ensure_fresh(course=course)
    return objective


@pytest.fixture
def classmate(course):
    return MembershipFactory(course=course, role=Membership.Role.STUDENT, section="B").user


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_anonymous_visitors_are_sent_to_log_in_and_refused_by_the_api(client, course, tagged):
    assert client.get(url(course)).status_code == 302
    assert client.get(url(course, "gradebook-objective-tags")).status_code == 302
    assert APIClient().get(api_url(course)).status_code in (401, 403)


def test_another_courses_student_finds_nothing(client, course, other_student, tagged):
    client.force_login(other_student)
    assert client.get(url(course)).status_code == 404
    assert api(other_student).get(api_url(course)).status_code == 404


def test_a_student_sees_their_own_objectives_with_the_evidence(
    client, course, gb_quiz, student, classmate, tagged, events
):
    with events():
        take_quiz(gb_quiz, student, right=1)
    with events():
        take_quiz(gb_quiz, classmate, right=2)
    client.force_login(student)
    page = client.get(url(course)).content.decode()
    assert "My objectives" in page and "Understand attention." in page
    assert "Attention quiz, attempt 1" in page and "0.5" in page
    assert "Not yet" in page  # 0.5 under 0.7 (and outside the 0.1 near margin)
    assert classmate.username not in page
    body = api(student).get(api_url(course)).json()
    [row] = body["rows"]
    assert row["user_id"] == student.pk
    cell = next(c for c in row["cells"] if c["objective_id"] == tagged.pk)
    assert (cell["level"], cell["score"], cell["evidence_count"]) == ("not_yet", 0.5, 1)
    assert [e["score"] for e in cell["evidence"]] == [0.5]
    assert body["objectives"][0]["percent_mastered"] is None  # no class figures for students


def test_a_student_does_not_see_evidence_from_quiz_marks_their_review_options_hide(
    client, course, gb_quiz, student, tagged, events
):
    gb_quiz.review_options = {window: dict(NOTHING) for window in WINDOWS}
    gb_quiz.save()
    with events():
        take_quiz(gb_quiz, student, right=2)
    body = api(student).get(api_url(course)).json()
    cell = next(c for c in body["rows"][0]["cells"] if c["objective_id"] == tagged.pk)
    assert (cell["level"], cell["evidence"]) == ("no_evidence", [])
    client.force_login(student)
    assert "Attention quiz, attempt 1" not in client.get(url(course)).content.decode()


def test_the_staff_heatmap_shows_levels_in_words_and_the_share_mastered(
    client, course, gb_quiz, student, classmate, instructor, teaching_assistant, tagged, events
):
    with events():
        take_quiz(gb_quiz, student, right=1)
    with events():
        take_quiz(gb_quiz, classmate, right=2)
    for who in (instructor, teaching_assistant):
        client.force_login(who)
        response = client.get(url(course))
        assert response.status_code == 200
        page = response.content.decode()
        assert 'class="mastery-mastered">Mastered' in page
        assert 'class="mastery-not_yet">Not yet' in page
        assert "50 %" in page and "(1/2)" in page
    assert "Tag labs and homework" not in page  # the TA's page: read-only
    body = api(instructor).get(api_url(course)).json()
    assert {r["user_id"] for r in body["rows"]} == {student.pk, classmate.pk}
    summary = next(o for o in body["objectives"] if o["id"] == tagged.pk)
    assert (summary["mastered"], summary["students"], summary["percent_mastered"]) == (1, 2, 50.0)
    assert all(c["evidence"] is None for r in body["rows"] for c in r["cells"])


def test_the_section_filter_and_unenrolment_narrow_the_heatmap(
    client, course, gb_quiz, student, classmate, instructor, tagged, events
):
    with events():
        take_quiz(gb_quiz, classmate, right=2)
    body = api(instructor).get(api_url(course), {"section": "B"}).json()
    assert [r["user_id"] for r in body["rows"]] == [classmate.pk]
    assert body["objectives"][0]["percent_mastered"] == 100.0
    with events():
        Membership.objects.filter(course=course, user=classmate).update(is_active=False)
        membership = Membership.objects.get(course=course, user=classmate)
        membership.save()
    body = api(instructor).get(api_url(course)).json()
    assert [r["user_id"] for r in body["rows"]] == [student.pk]
    assert body["objectives"][0]["mastered"] == 0


def test_only_the_instructor_tags_labs_and_homework(
    client, course, session12, gb_lab, instructor, teaching_assistant, student, tagged
):
    task = session12.homework.get(position=1)
    post = {"lab": [gb_lab.pk], f"lab-{gb_lab.pk}": [tagged.pk], "task": [task.pk]}
    save = url(course, "gradebook-objective-tags-save", number=12)
    for who in (teaching_assistant, student):
        client.force_login(who)
        assert client.get(url(course, "gradebook-objective-tags")).status_code == 403
        assert client.post(save, post).status_code == 403
    assert not ObjectiveLink.objects.exists()
    client.force_login(instructor)
    page = client.get(url(course, "gradebook-objective-tags")).content.decode()
    assert gb_lab.title in page and "Understand attention." in page
    assert client.post(save, post).status_code == 302
    assert list(ObjectiveLink.objects.values_list("lab_id", "objective_id")) == [
        (gb_lab.pk, tagged.pk)
    ]


def test_the_heatmap_query_count_is_constant_in_class_size(client, course, instructor, tagged):
    client.force_login(instructor)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url(course)).status_code == 200
        return len(queries)

    for _ in range(10):
        MembershipFactory(course=course)
    mastery.mastery_refresh(course=course, user_ids=None)
    small = count()
    for _ in range(90):
        MembershipFactory(course=course)
    mastery.mastery_refresh(course=course, user_ids=None)
    assert count() == small
