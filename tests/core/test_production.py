"""The documented production set-up (docs/deploy.md): `check --deploy` is clean with the
production environment, `collectstatic` writes hashed, compressed files that WhiteNoise serves,
and gunicorn starts from gunicorn.conf.py and answers /healthz."""

from __future__ import annotations

import gzip
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.contrib.staticfiles.storage import staticfiles_storage
from django.test import override_settings

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _spare_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def production_env(**extra: str) -> dict[str, str]:
    """The environment docs/deploy.md documents, on this run's database and broker. Without
    DJANGO_ALLOW_ASYNC_UNSAFE, which the browser tests set in this process for Playwright and
    no deployment may have."""
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return {
        **inherited,
        "COURSEBENCH_ENV_FILE": "",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "coursebench.example.edu",
        "CSRF_TRUSTED_ORIGINS": "https://coursebench.example.edu",
        "HTTPS": "1",
        "SITE_URL": "https://coursebench.example.edu",
        **extra,
    }


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_the_documented_production_environment():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.fixture(scope="module")
def collected_static(tmp_path_factory) -> Path:
    static_root = tmp_path_factory.mktemp("staticfiles")
    result = _manage("collectstatic", "--noinput", env=production_env(STATIC_ROOT=str(static_root)))
    assert result.returncode == 0, result.stdout + result.stderr
    return static_root


@pytest.fixture
def manifest_storage(collected_static, settings):
    manifest = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
    with override_settings(
        STORAGES={**settings.STORAGES, "staticfiles": manifest},
        STATIC_ROOT=str(collected_static),
        WHITENOISE_USE_FINDERS=False,
    ):
        yield collected_static


def test_collectstatic_writes_hashed_and_compressed_files(manifest_storage):
    hashed = staticfiles_storage.stored_name("css/app.css")

    assert hashed != "css/app.css" and hashed.startswith("css/app.") and hashed.endswith(".css")
    assert (manifest_storage / hashed).is_file()
    assert (manifest_storage / f"{hashed}.gz").is_file()


def test_whitenoise_serves_the_hashed_file_compressed_and_cached_for_good(manifest_storage, client):
    url = staticfiles_storage.url("css/app.css")

    response = client.get(url, headers={"accept-encoding": "gzip"})

    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "immutable" in response["Cache-Control"]
    body = gzip.decompress(b"".join(response.streaming_content))
    assert body == (ROOT / "static" / "css" / "app.css").read_bytes()


@pytest.mark.django_db
def test_pages_link_the_hashed_static_files(manifest_storage, client):
    page = client.get("/login/").content.decode()

    assert staticfiles_storage.url("css/app.css") in page
    assert 'href="/static/css/app.css"' not in page


@pytest.mark.worker
def test_gunicorn_starts_from_its_config_and_answers_healthz(tmp_path):
    port = _spare_port()
    env = production_env(
        WEB_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="1",
        ALLOWED_HOSTS="127.0.0.1",
        HTTPS="0",  # plain HTTP on loopback, as from a proxy on the same host
        PYTHONUNBUFFERED="1",
    )
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            body = _get_when_up(f"http://127.0.0.1:{port}/healthz", server, log)
        finally:
            server.terminate()
            server.wait(timeout=60)
    text = log.read_text()

    assert body == {"status": "ok"}
    assert '"GET /healthz HTTP/1.1" 200' in text, text  # the access log
    assert "Traceback" not in text, text


def _get_when_up(url: str, server: subprocess.Popen, log: Path) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return json.loads(response.read())
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"gunicorn did not answer {url} in 60 s:\n{log.read_text()}")
