"""Every response carries the Content-Security-Policy: pages, API answers, errors."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "style-src-attr": "'unsafe-inline'",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
}


def directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/courses/ICTSS00120/",
        "/courses/ICTSS00120/sessions/12/",
        "/account/token/",
        "/courses/NOSUCH/",
        "/no-such-page/",
        "/api/docs/",
        "/api/docs/?script=",
        "/api/schema/",
        "/api/v1/courses/",
        "/api/v1/quizzes/abc/",
        "/admin/",
    ],
)
def test_every_response_has_the_policy(client, session12, student, path):
    client.force_login(student)

    response = client.get(path)

    assert response.status_code in (200, 302, 404), path
    assert directives(response).items() >= POLICY.items()


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/", "/api/v1/courses/"])
def test_anonymous_responses_have_it_too(path):
    response = APIClient().get(path)

    assert directives(response).items() >= POLICY.items()


def test_no_inline_script_is_allowed(client):
    script_src = directives(client.get("/accounts/login/"))["script-src"]

    assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
