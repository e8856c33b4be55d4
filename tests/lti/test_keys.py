"""Key rotation on both sides: the platform's (PyLTI1p3 fetches its key set per launch) and
the tool's (`manage.py rotate_keys` publishes the new key beside the previous ones until they
are retired)."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from lti1p3platform.exceptions import LtiException
from lti1p3platform.registration import Registration
from lti_tool.models import Key

from tests.lti.platform import INSTRUCTOR, _Conf

pytestmark = [pytest.mark.lti, pytest.mark.django_db]


def test_a_launch_signed_with_the_platforms_previous_key_is_accepted_until_it_retires(
    lms, login_url
):
    old = lms.keys[-1]
    lms.rotate_key()
    response = lms.launch(
        Client(), login_url=login_url, user_id="t-1", roles=[INSTRUCTOR], signing_key=old
    )
    assert response.status_code == 302
    lms.retire_key(old)
    response = lms.launch(
        Client(), login_url=login_url, user_id="t-1", roles=[INSTRUCTOR], signing_key=old
    )
    assert response.status_code == 403 and b"Failed check: signature" in response.content
    # The current key still works.
    response = lms.launch(Client(), login_url=login_url, user_id="t-1", roles=[INSTRUCTOR])
    assert response.status_code == 302


def _tool_signed(key: Key, kid: str) -> str:
    """A client assertion as the tool signs one (for the AGS token) with `key`."""
    now = int(timezone.now().timestamp())
    return jwt.encode(
        {"iss": "coursebench", "sub": "coursebench", "iat": now, "exp": now + 300},
        key.private_key,
        algorithm="RS256",
        headers={"kid": kid},
    )


def _platform_verifies(client: Client, token: str) -> bool:
    """The platform (lti1p3platform) checks a tool-signed JWT against the tool's JWKS, as
    served by Coursebench's JWKS endpoint."""
    registration = Registration().set_tool_key_set(client.get("/lti/jwks/").json())
    conf = _Conf(registration=registration)
    try:
        conf.tool_validate_and_decode(token)
    except (LtiException, jwt.PyJWTError):
        return False
    return True


def test_rotate_keys_publishes_the_new_key_beside_the_old_until_it_is_retired(registration):
    client = Client()
    old = Key.objects.get()
    old_kid = old.as_jwk()["kid"]
    token = _tool_signed(old, old_kid)
    assert _platform_verifies(client, token)

    call_command("rotate_keys")
    kids = {k["kid"] for k in client.get("/lti/jwks/").json()["keys"]}
    new = Key.objects.active().latest()
    assert kids == {old_kid, new.as_jwk()["kid"]}
    # New launches' tokens are signed with the newest key ...
    assert registration.to_registration().get_tool_private_key() == new.private_key
    # ... and what was signed with the previous one still verifies.
    assert _platform_verifies(client, token)

    # A week on, the next rotation retires keys older than --deactivate-after (7 days).
    Key.objects.filter(pk=old.pk).update(datetime_created=timezone.now() - timedelta(days=8))
    call_command("rotate_keys")
    kids = {k["kid"] for k in client.get("/lti/jwks/").json()["keys"]}
    assert old_kid not in kids and len(kids) == 2
    assert not _platform_verifies(client, token)


def test_the_jwks_is_public_keys_only(registration):
    body = Client().get("/lti/jwks/").json()
    assert body["keys"] and all(set(k) >= {"kid", "n", "e"} for k in body["keys"])
    assert not any("d" in k or "p" in k for k in body["keys"])
