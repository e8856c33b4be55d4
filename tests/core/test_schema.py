"""The OpenAPI schema is public, complete and warning-free; Swagger UI needs no CDN."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS
from rest_framework.test import APIClient

#: path → {method: operationId} for the courseware endpoints.
COURSEWARE_OPERATIONS = {
    "/api/v1/auth/token/": {"post": "auth_token_create"},
    "/api/v1/courses/": {"get": "courses_list"},
    "/api/v1/courses/{code}/": {"get": "courses_retrieve"},
    "/api/v1/courses/{code}/sessions/": {"get": "sessions_list"},
    "/api/v1/courses/{code}/sessions/{number}/": {"get": "sessions_retrieve"},
    "/api/v1/homework/{task_id}/completion/": {
        "put": "homework_completion_set",
        "delete": "homework_completion_unset",
    },
    "/api/v1/homework/{task_id}/completions/": {"get": "homework_completions_list"},
    "/api/v1/courses/{code}/members/": {"get": "members_list", "post": "members_create"},
    "/api/v1/courses/{code}/members/{user_id}/": {
        "get": "members_retrieve",
        "patch": "members_partial_update",
        "delete": "members_destroy",
    },
    "/api/v1/courses/{code}/members/{user_id}/invitation/": {"post": "members_invitation_resend"},
}
HTTP_METHODS = {"get", "put", "post", "patch", "delete"}


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    """Fetched anonymously: the schema documents the API, it exposes no data."""
    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def test_the_schema_is_openapi_3_and_documents_every_courseware_endpoint(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Coursebench API"
    documented = {
        path: {m: op["operationId"] for m, op in schema["paths"][path].items() if m in HTTP_METHODS}
        for path in COURSEWARE_OPERATIONS
        if path in schema["paths"]
    }
    assert documented == COURSEWARE_OPERATIONS


def test_every_operation_has_a_unique_id_and_a_tag(schema):
    ids = [op["operationId"] for _, _, op in operations(schema)]

    assert len(ids) == len(set(ids))
    assert all(op.get("tags") for _, _, op in operations(schema))


def test_every_authenticated_operation_documents_its_401_error_body(schema):
    error_ref = "#/components/schemas/Error"
    checked = 0
    for path, method, operation in operations(schema):
        if {} in operation.get("security", []):
            continue  # open to anonymous callers, e.g. the token endpoint
        response = operation["responses"].get("401")
        assert response, f"{method.upper()} {path} documents no 401"
        assert response["content"]["application/json"]["schema"]["$ref"] == error_ref
        checked += 1
    assert checked >= len(COURSEWARE_OPERATIONS)


def test_error_bodies_are_documented_as_code_and_message(schema):
    components = schema["components"]["schemas"]

    assert components["Error"]["required"] == ["code", "message"]
    assert set(components["InvalidInputError"]["properties"]) == {"code", "message", "fields"}


def test_the_token_endpoint_is_open_and_documents_bad_credentials(schema):
    operation = schema["paths"]["/api/v1/auth/token/"]["post"]

    assert operation["security"] == [{}]
    assert "invalid_credentials" in operation["responses"]["400"]["description"]
    assert set(operation["responses"]) >= {"200", "400", "429"}


def test_speaker_notes_are_documented_as_instructors_only(schema):
    session = schema["components"]["schemas"]["SessionDetail"]

    assert "speaker_notes" in session["properties"]
    assert "speaker_notes" not in session["required"]


def test_the_schema_validates_without_warnings(tmp_path, capsys):
    GENERATOR_STATS.reset()  # warnings of earlier generations in this process don't count
    out = StringIO()

    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--file",
        str(tmp_path / "schema.yml"),
        stdout=out,
    )

    assert "/api/v1/courses/{code}/sessions/{number}/" in (tmp_path / "schema.yml").read_text()
    assert "Warning" not in capsys.readouterr().err


def test_swagger_ui_loads_its_assets_locally(db):
    response = APIClient().get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"cdn|jsdelivr|unpkg", html, re.IGNORECASE)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any("swagger-ui-bundle.js" in asset for asset in assets)
    # Its settings script is served by the page itself (not inline: Content-Security-Policy).
    settings_script = "/api/docs/?script="
    assert settings_script in assets
    script = APIClient().get(settings_script)
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()
    for asset in (a for a in assets if a != settings_script):
        assert asset.startswith("/static/"), asset
        assert finders.find(asset.removeprefix("/static/").split("?")[0]), asset


def test_the_schema_documents_the_mastery_endpoint(schema):
    operation = schema["paths"]["/api/v1/courses/{code}/mastery/"]["get"]
    assert operation["operationId"] == "mastery_retrieve"
    assert {p["name"] for p in operation["parameters"]} >= {"code", "section"}
    body = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    mastery = schema["components"]["schemas"][body.rsplit("/", 1)[1]]
    assert set(mastery["properties"]) == {"course", "settings", "objectives", "rows"}
