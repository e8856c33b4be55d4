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
