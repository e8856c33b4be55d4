"""Deep linking: the instructor picks sessions, quizzes and labs; the LMS (lti1p3platform)
verifies the signed reply and gets resource links, the gradable ones with line items."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from gradebook.models import GradeItem
from gradebook.services import gradebook_items_sync
from lti.models import CourseLink
from quizzes.models import Quiz
from tests.factories import LabFactory, SessionFactory, UserFactory
from tests.lti.platform import INSTRUCTOR, LEARNER, platform_reads_deep_link_reply

pytestmark = [pytest.mark.lti, pytest.mark.django_db]


@pytest.fixture
def content(lms, login_url):
    """A linked course with a session, a quiz (25 points in the gradebook) and a lab."""
    lms.launch(Client(), login_url=login_url, user_id="t-1", roles=[INSTRUCTOR])
    course = CourseLink.objects.get().course
    session = SessionFactory(course=course, number=1, title="Transformers")
    quiz = Quiz.objects.create(session=session, title="Attention quiz")
    lab = LabFactory(session=session, title="Sentiment lab")
    gradebook_items_sync(course=course)
    GradeItem.objects.filter(kind="quiz", source_id=quiz.pk).update(
        points_possible=25, points_set=True
    )
    return course, quiz, lab


def _deep_link(lms, login_url, *, roles=(INSTRUCTOR,), user_id="t-1"):
    client = Client()
    response = lms.launch(
        client, login_url=login_url, user_id=user_id, roles=list(roles), deep_link=True
    )
    return client, response


def test_the_instructor_picks_items_and_the_lms_gets_links_with_line_items(lms, login_url, content):
    _course, quiz, lab = content
    client, response = _deep_link(lms, login_url)
    assert response.status_code == 302 and response["Location"] == "/lti/deep-link/pick/"
    page = client.get("/lti/deep-link/pick/")
    assert page.status_code == 200
    assert [c.resource for c in page.context["choices"]] == [
        "session:1",
        f"quiz:{quiz.pk}",
        f"lab:{lab.pk}",
    ]

    reply = client.post(
        "/lti/deep-link/pick/", {"resource": ["session:1", f"quiz:{quiz.pk}", f"lab:{lab.pk}"]}
    )
    assert reply.status_code == 200
    html = reply.content.decode()
    assert f'action="{lms.base_url}/deep-link-return"' in html
    # The form may post to the LMS, and only there.
    assert f"form-action 'self' {lms.base_url}" in reply["Content-Security-Policy"]
    jwt_value = re.search(r'name="JWT" value="([^"]+)"', html).group(1)

    items = platform_reads_deep_link_reply(jwt_value, client.get("/lti/jwks/").json())
    by_resource = {item["custom"]["resource"]: item for item in items}
    assert list(by_resource) == ["session:1", f"quiz:{quiz.pk}", f"lab:{lab.pk}"]
    assert all(item["type"] == "ltiResourceLink" for item in items)
    assert all(item["url"] == "http://127.0.0.1:8000/lti/launch/" for item in items)
    assert "lineItem" not in by_resource["session:1"]
    assert by_resource[f"quiz:{quiz.pk}"]["lineItem"] == {
        "scoreMaximum": 25.0,
        "label": "Attention quiz",
        "resourceId": f"quiz:{quiz.pk}",
        "tag": "coursebench",
    }
    assert by_resource[f"lab:{lab.pk}"]["lineItem"]["scoreMaximum"] == 10.0
    assert by_resource[f"lab:{lab.pk}"]["title"] == "Sentiment lab"

    # The LMS then launches a student into the placed quiz with the item's custom parameter.
    launch = lms.launch(
        Client(),
        login_url=login_url,
        user_id="s-1",
        roles=[LEARNER],
        resource_link_id="placed-quiz",
        custom=by_resource[f"quiz:{quiz.pk}"]["custom"],
    )
    assert launch.status_code == 302 and launch["Location"] == f"/quizzes/{quiz.pk}/"


def test_a_student_sent_to_the_picker_is_forbidden(lms, login_url, content):
    client, response = _deep_link(lms, login_url, roles=[LEARNER], user_id="s-1")
    assert response["Location"] == "/lti/deep-link/pick/"
    assert client.get("/lti/deep-link/pick/").status_code == 403
    assert client.post("/lti/deep-link/pick/", {"resource": ["session:1"]}).status_code == 403


def test_an_item_of_another_course_cannot_be_picked(lms, login_url, content):
    foreign = LabFactory()
    client, _response = _deep_link(lms, login_url)
    reply = client.post("/lti/deep-link/pick/", {"resource": [f"lab:{foreign.pk}"]})
    assert reply.status_code == 400 and b"not in" in reply.content
    assert b'name="JWT"' not in reply.content


def test_the_picker_without_a_pending_request_is_refused(content):
    client = Client()
    client.force_login(UserFactory())
    response = client.get("/lti/deep-link/pick/")
    assert response.status_code == 400 and b"Failed check: deep_link" in response.content
