"""Refused launches: each names the failed check on the page, is logged for staff, and
creates nothing (no account, course, membership, LTI user/context/link, deployment or
nonce)."""

from __future__ import annotations

import pytest
from django.test import Client

from lti.models import LaunchFailure
from tests.factories import UserFactory
from tests.lti.conftest import row_counts
from tests.lti.platform import INSTRUCTOR, LEARNER, new_key, tamper

pytestmark = [pytest.mark.lti, pytest.mark.django_db]


def _refused(response, check: str) -> None:
    assert response.status_code in (400, 403, 404), response.status_code
    assert f"Failed check: {check}".encode() in response.content
    failure = LaunchFailure.objects.latest("created_at")
    assert failure.failed_check == check


def _post(client: Client, form, **changes):
    data = form.data()
    data.update(changes)
    return client.post(form.path, data)


def test_a_tampered_token_is_refused_for_its_signature(lms, login_url):
    client = Client()
    form = lms.launch_form(client, login_url=login_url, user_id="s-1", roles=[LEARNER])
    before = row_counts()
    # A learner edits the captured token to claim the instructor role.
    response = _post(
        client,
        form,
        id_token=tamper(
            form.id_token, **{"https://purl.imsglobal.org/spec/lti/claim/roles": [INSTRUCTOR]}
        ),
    )
    _refused(response, "signature")
    assert row_counts() == before


def test_a_token_signed_by_a_key_the_platform_does_not_publish_is_refused(lms, login_url):
    client = Client()
    before = row_counts()
    response = lms.launch(
        client, login_url=login_url, user_id="t-1", roles=[INSTRUCTOR], signing_key=new_key()
    )
    _refused(response, "signature")
    assert row_counts() == before


def test_an_expired_token_is_refused(lms, login_url):
    before = row_counts()
    response = lms.launch(
        Client(), login_url=login_url, user_id="t-1", roles=[INSTRUCTOR], expires_in=-120
    )
    _refused(response, "expiry")
    assert row_counts() == before


def test_a_token_without_an_expiry_is_refused(lms, login_url):
    before = row_counts()
    # lti1p3platform leaves out exp and iat when told the token never expires.
    response = lms.launch(
        Client(), login_url=login_url, user_id="t-1", roles=[INSTRUCTOR], expires_in=0
    )
    _refused(response, "expiry")
    assert row_counts() == before


def test_a_replayed_token_is_refused_and_the_replay_creates_nothing(lms, login_url):
    client = Client()
    form = lms.launch_form(client, login_url=login_url, user_id="t-1", roles=[INSTRUCTOR])
    assert _post(client, form).status_code == 302
    before = row_counts()
    # The same POST again, from another browser (an attacker who captured it) and from the same.
    for replayer in (Client(), client):
        response = _post(replayer, form)
        _refused(response, "nonce")
        assert "_auth_user_id" not in replayer.session or replayer is client
    assert row_counts() == before


def test_a_token_for_another_audience_is_refused(lms, login_url):
    before = row_counts()
    response = lms.launch(
        Client(),
        login_url=login_url,
        user_id="t-1",
        roles=[INSTRUCTOR],
        extra_claims={"aud": "some-other-tool", "azp": "some-other-tool"},
    )
    _refused(response, "audience")
    assert row_counts() == before


def test_an_unknown_deployment_is_refused_and_not_recorded(lms, login_url):
    before = row_counts()
    response = lms.launch(
        Client(),
        login_url=login_url,
        user_id="t-1",
        roles=[INSTRUCTOR],
        deployment_id="deployment-nobody-registered",
    )
    _refused(response, "deployment")
    # django-lti on its own would create the deployment (inactive) here: ours does not.
    assert row_counts() == before


def test_a_launch_from_an_inactive_platform_is_refused(lms, login_url, registration):
    registration.is_active = False
    registration.save()
    before = row_counts()
    response = lms.login(Client(), login_url=login_url, user_id="t-1")
    _refused(response, "login")
    assert row_counts() == before


def test_a_token_with_another_version_is_refused(lms, login_url):
    before = row_counts()
    response = lms.launch(
        Client(),
        login_url=login_url,
        user_id="t-1",
        roles=[INSTRUCTOR],
        extra_claims={"https://purl.imsglobal.org/spec/lti/claim/version": "1.1"},
    )
    _refused(response, "version")
    assert row_counts() == before


def test_a_post_without_a_login_state_is_refused(lms, login_url):
    client = Client()
    form = lms.launch_form(client, login_url=login_url, user_id="t-1", roles=[INSTRUCTOR])
    before = row_counts()
    # Another browser, without the login's state cookie, and a made-up state.
    _refused(_post(Client(), form, state="made-up"), "state")
    assert row_counts() == before


def test_a_login_aimed_at_another_site_is_refused(lms, login_url):
    response = lms.login(
        Client(), login_url=login_url, user_id="t-1", target_link_uri="https://evil.example/x"
    )
    _refused(response, "target")


def test_a_student_launch_before_the_course_is_opened_creates_nothing(lms, login_url):
    before = row_counts()
    response = lms.launch(Client(), login_url=login_url, user_id="s-1", roles=[LEARNER])
    _refused(response, "course")
    assert row_counts() == before


def test_staff_see_the_refusal_on_the_platforms_page(lms, login_url):
    lms.launch(Client(), login_url=login_url, user_id="t-1", roles=[INSTRUCTOR], expires_in=-120)
    staff = Client()
    staff.force_login(UserFactory(is_staff=True))
    page = staff.get("/staff/lti/platforms/").content.decode()
    assert "expiry" in page and "Signature has expired" in page and lms.issuer in page
