"""Registering a platform: site staff only, on the service and on the pages, and the values
the pages give to paste into Canvas and Moodle."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from lti_tool.models import Key, LtiDeployment, LtiRegistration

from core.actors import SYSTEM
from core.exceptions import ApplicationError, PermissionDeniedError
from courseware.models import Membership
from lti import services
from lti.models import Platform
from tests.factories import CourseFactory, MembershipFactory, UserFactory
from tests.lti.platform import INSTRUCTOR, LEARNER

pytestmark = pytest.mark.django_db

VALUES = {
    "name": "Canvas (test)",
    "issuer": "https://canvas.instructure.com",
    "client_id": "10000000000001",
    "auth_url": "https://sso.canvaslms.com/api/lti/authorize_redirect",
    "token_url": "https://sso.canvaslms.com/login/oauth2/token",
    "keyset_url": "https://sso.canvaslms.com/api/lti/security/jwks",
    "deployment_ids": ["1:abc", "2:def"],
    "frame_origins": ["https://school.instructure.com/courses"],
}


def _people():
    course = CourseFactory()
    people = {"anonymous": None, "staff": UserFactory(is_staff=True)}
    for role in (
        Membership.Role.STUDENT,
        Membership.Role.TEACHING_ASSISTANT,
        Membership.Role.INSTRUCTOR,
    ):
        people[role] = MembershipFactory(course=course, role=role).user
    return people


def test_staff_register_a_platform_with_its_deployments_and_frame_origin():
    registration = services.platform_register(actor=UserFactory(is_staff=True), **VALUES)
    assert registration.is_active
    assert set(registration.deployments.values_list("deployment_id", "is_active")) == {
        ("1:abc", True),
        ("2:def", True),
    }
    assert Platform.objects.get().frame_origins == ["https://school.instructure.com"]
    # The tool's first signing key is made on the first registration.
    assert Key.objects.active().count() == 1


@pytest.mark.parametrize("who", ["student", "ta", "instructor"])
def test_course_roles_cannot_register_a_platform(who):
    actor = _people()[who]
    with pytest.raises(PermissionDeniedError):
        services.platform_register(actor=actor, **VALUES)
    assert not LtiRegistration.objects.exists()


def test_a_course_creator_who_is_not_staff_cannot_register_either():
    creator = UserFactory()
    creator.user_permissions.add(Permission.objects.get(codename="create_course"))
    with pytest.raises(PermissionDeniedError):
        services.platform_register(actor=creator, **VALUES)


def test_the_same_issuer_and_client_id_cannot_be_registered_twice():
    services.platform_register(actor=SYSTEM, **VALUES)
    with pytest.raises(ApplicationError) as error:
        services.platform_register(actor=SYSTEM, **VALUES)
    assert error.value.code == "platform_exists"


def test_a_registration_needs_a_deployment_id():
    with pytest.raises(ApplicationError) as error:
        services.platform_register(actor=SYSTEM, **{**VALUES, "deployment_ids": [" "]})
    assert error.value.code == "no_deployment"
    assert not LtiRegistration.objects.exists()


def test_staff_add_a_deployment():
    registration = services.platform_register(actor=SYSTEM, **VALUES)
    services.platform_deployment_add(actor=SYSTEM, registration=registration, deployment_id="3:x")
    assert LtiDeployment.objects.filter(deployment_id="3:x", is_active=True).exists()
    with pytest.raises(PermissionDeniedError):
        services.platform_deployment_add(
            actor=_people()["instructor"], registration=registration, deployment_id="4:y"
        )


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 302), ("student", 403), ("ta", 403), ("instructor", 403), ("staff", 200)],
)
def test_the_platform_pages_per_role(who, status):
    registration = services.platform_register(actor=SYSTEM, **VALUES)
    client = Client()
    user = _people()[who]
    if user is not None:
        client.force_login(user)
    for url in ("/staff/lti/platforms/", f"/staff/lti/platforms/{registration.pk}/"):
        response = client.get(url)
        assert response.status_code == status, url
        if status == 302:
            assert response["Location"].startswith("/accounts/login/")
    # Posting a registration: only staff's creates one.
    client.post(
        "/staff/lti/platforms/",
        {
            **VALUES,
            "client_id": "other",
            "deployment_ids": "9:z",
            "frame_origins": "",
        },
    )
    created = LtiRegistration.objects.filter(client_id="other").exists()
    assert created == (who == "staff")


def test_the_platform_page_shows_what_to_paste_into_canvas_and_moodle():
    registration = services.platform_register(actor=SYSTEM, **VALUES)
    client = Client()
    client.force_login(UserFactory(is_staff=True))
    page = client.get(f"/staff/lti/platforms/{registration.pk}/")
    html = page.content.decode()
    login = "http://127.0.0.1:8000/lti/login/"
    for value in (
        login,
        "http://127.0.0.1:8000/lti/launch/",
        "http://127.0.0.1:8000/lti/jwks/",
        "http://127.0.0.1:8000/lti/deep-link/",
        "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    ):
        assert value in html
    canvas = json.loads(page.context["canvas_json"])
    assert canvas["oidc_initiation_url"] == login
    assert canvas["target_link_uri"] == "http://127.0.0.1:8000/lti/launch/"
    assert canvas["public_jwk_url"] == "http://127.0.0.1:8000/lti/jwks/"
    placements = canvas["extensions"][0]["settings"]["placements"]
    assert {p["message_type"] for p in placements} == {
        "LtiResourceLinkRequest",
        "LtiDeepLinkingRequest",
    }
    moodle = dict(page.context["moodle_fields"])
    assert moodle["Initiate login URL"] == login
    assert moodle["Public keyset"] == "http://127.0.0.1:8000/lti/jwks/"
    assert moodle["LTI version"] == "LTI 1.3"


def test_a_staff_form_error_is_shown_and_nothing_is_registered():
    client = Client()
    client.force_login(UserFactory(is_staff=True))
    response = client.post(
        "/staff/lti/platforms/", {**VALUES, "auth_url": "not a url", "deployment_ids": "1"}
    )
    assert response.status_code == 400
    assert not LtiRegistration.objects.exists()


@pytest.mark.parametrize(("who", "status"), [("instructor", 403), ("staff", 302)])
def test_staff_turn_a_platform_off_and_on(who, status):
    registration = services.platform_register(actor=SYSTEM, **VALUES)
    client = Client()
    client.force_login(_people()[who])
    url = f"/staff/lti/platforms/{registration.pk}/active/"
    assert client.post(url, {}).status_code == status
    registration.refresh_from_db()
    assert registration.is_active == (who != "staff")
    if who == "staff":
        client.post(url, {"is_active": "on"})
        registration.refresh_from_db()
        assert registration.is_active


EDITS = {
    "name": "Canvas (moved)",
    "auth_url": "https://sso.example.edu/api/lti/authorize_redirect",
    "token_url": "https://sso.example.edu/login/oauth2/token",
    "keyset_url": "https://sso.example.edu/api/lti/security/jwks",
    "frame_origins": ["https://lms.example.edu/courses/1", "https://other.example.edu"],
}


def _urls(registration) -> tuple[str, str, str, str]:
    registration.refresh_from_db()
    return (
        registration.name,
        registration.auth_url,
        registration.token_url,
        registration.keyset_url,
    )


def test_staff_edit_a_platforms_urls_and_frame_origins_but_not_its_identity():
    registration = services.platform_register(actor=SYSTEM, **VALUES)
    services.platform_update(actor=UserFactory(is_staff=True), registration=registration, **EDITS)
    assert _urls(registration) == (
        "Canvas (moved)",
        EDITS["auth_url"],
        EDITS["token_url"],
        EDITS["keyset_url"],
    )
    assert (registration.issuer, registration.client_id) == (VALUES["issuer"], VALUES["client_id"])
    assert Platform.objects.get(registration=registration).frame_origins == [
        "https://lms.example.edu",
        "https://other.example.edu",
    ]


def test_an_edit_with_a_bad_url_changes_nothing():
    registration = services.platform_register(actor=SYSTEM, **VALUES)
    before = _urls(registration)
    with pytest.raises(ApplicationError) as error:
        services.platform_update(
            actor=SYSTEM, registration=registration, **{**EDITS, "keyset_url": "jwks please"}
        )
    assert error.value.code == "invalid_url"
    assert _urls(registration) == before


@pytest.mark.parametrize("who", ["student", "ta", "instructor"])
def test_course_roles_cannot_edit_a_platform_or_its_deployments(who):
    registration = services.platform_register(actor=SYSTEM, **VALUES)
    actor = _people()[who]
    with pytest.raises(PermissionDeniedError):
        services.platform_update(actor=actor, registration=registration, **EDITS)
    deployment = registration.deployments.get(deployment_id="1:abc")
    with pytest.raises(PermissionDeniedError):
        services.platform_deployment_set_active(actor=actor, deployment=deployment, is_active=False)
    deployment.refresh_from_db()
    assert deployment.is_active
    assert _urls(registration)[0] == VALUES["name"]


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 302), ("student", 403), ("ta", 403), ("instructor", 403), ("staff", 200)],
)
def test_the_edit_page_and_the_deployment_switch_per_role(who, status):
    registration = services.platform_register(actor=SYSTEM, **VALUES)
    deployment = registration.deployments.get(deployment_id="1:abc")
    client = Client()
    user = _people()[who]
    if user is not None:
        client.force_login(user)
    edit = f"/staff/lti/platforms/{registration.pk}/edit/"
    page = client.get(edit)
    assert page.status_code == status
    if status == 200:
        assert VALUES["auth_url"] in page.content.decode()  # the form shows the current values
    posted = client.post(edit, {**EDITS, "frame_origins": "\n".join(EDITS["frame_origins"])})
    switch = f"/staff/lti/platforms/{registration.pk}/deployments/{deployment.pk}/active/"
    switched = client.post(switch, {})
    deployment.refresh_from_db()
    if who == "staff":
        assert posted.status_code == switched.status_code == 302
        assert _urls(registration)[1] == EDITS["auth_url"]
        assert not deployment.is_active
        client.post(switch, {"is_active": "on"})
        deployment.refresh_from_db()
        assert deployment.is_active
    else:
        assert posted.status_code == switched.status_code == status
        assert _urls(registration)[1] == VALUES["auth_url"]
        assert deployment.is_active


def test_a_staff_edit_form_error_is_shown_and_nothing_changes():
    registration = services.platform_register(actor=SYSTEM, **VALUES)
    client = Client()
    client.force_login(UserFactory(is_staff=True))
    response = client.post(
        f"/staff/lti/platforms/{registration.pk}/edit/",
        {**EDITS, "token_url": "not a url", "frame_origins": ""},
    )
    assert response.status_code == 400
    assert _urls(registration)[2] == VALUES["token_url"]


def test_a_deployment_turned_off_refuses_its_launches(lms, login_url, registration):
    deployment = registration.deployments.get()
    services.platform_deployment_set_active(actor=SYSTEM, deployment=deployment, is_active=False)
    response = lms.launch(Client(), login_url=login_url, user_id="s-1", roles=[LEARNER])
    assert response.status_code == 403
    assert "or site staff turned it off" in response.content.decode()
    services.platform_deployment_set_active(actor=SYSTEM, deployment=deployment, is_active=True)
    again = lms.launch(Client(), login_url=login_url, user_id="t-1", roles=[INSTRUCTOR])
    assert again.status_code == 302
