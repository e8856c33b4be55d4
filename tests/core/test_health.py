"""/healthz and /readyz: public, uncached, and saying which check failed and nothing else."""

from __future__ import annotations

import json
import socket

import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

pytestmark = pytest.mark.django_db

CHECKS = {"database", "migrations", "broker", "storage"}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


def _readyz(client):
    response = client.get("/readyz")
    return response, json.loads(response.content)


def test_healthz_answers_anonymously_and_is_never_cached(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]


def test_readyz_is_200_with_every_check_ok(client):
    response, body = _readyz(client)

    assert response.status_code == 200, body
    assert body == {"status": "ok", "checks": dict.fromkeys(CHECKS, "ok"), "failed": []}
    assert "no-store" in response["Cache-Control"]


def test_readyz_leaves_nothing_in_private_storage(client, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "core.storage.PrivateFileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }

    response, _ = _readyz(client)

    assert response.status_code == 200
    assert list(tmp_path.iterdir()) == []


def test_readyz_is_503_naming_the_broker_when_it_is_unreachable(client, settings):
    port = _closed_port()
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{port}/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}

    response, body = _readyz(client)

    assert response.status_code == 503
    assert body["failed"] == ["broker"]
    assert body["checks"]["broker"] == "failed"
    # Nothing else revealed: not the address, the port or the exception's text.
    text = response.content.decode()
    assert str(port) not in text and "127.0.0.1" not in text and "refused" not in text.lower()


def test_readyz_is_503_naming_storage_when_it_cannot_be_written(client, settings, tmp_path):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "core.storage.PrivateFileSystemStorage",
            "OPTIONS": {"location": str(not_a_folder / "private")},
        },
    }

    response, body = _readyz(client)

    assert response.status_code == 503
    assert body["failed"] == ["storage"]
    assert str(tmp_path) not in response.content.decode()


def test_readyz_is_503_naming_migrations_when_one_is_unapplied(client):
    # Really unapplied as far as Django knows: its record is gone (rolled back after the test).
    recorder = MigrationRecorder(connection)
    latest = recorder.migration_qs.filter(app="core").order_by("-id").first()
    latest.delete()

    response, body = _readyz(client)

    assert response.status_code == 503
    assert body["failed"] == ["migrations"]
    assert latest.name not in response.content.decode()


def test_readyz_reveals_only_the_check_names(client, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}

    _, body = _readyz(client)

    assert set(body) == {"status", "checks", "failed"}
    assert set(body["checks"]) == CHECKS
    assert set(body["checks"].values()) <= {"ok", "failed"}


def test_health_checks_are_exempt_from_the_https_redirect(client, settings):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/healthz").status_code == 200
    assert client.get("/login/").status_code == 301
