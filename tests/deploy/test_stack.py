"""One server as docs/deploy.md sets it up, from the repository's own files: nginx with the
site file (a self-signed certificate from openssl in place of certbot's), gunicorn from the web
unit's ExecStart, and the grading and maintenance workers from theirs, each with the
environment file rendered from deploy/coursebench.env.example, on this run's test database and
Redis db and spare loopback ports. Requests go through nginx over HTTPS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.deploy.stack import (
    ENV_EXAMPLE,
    ROOT,
    SERVER_NAME,
    SITE,
    UNITS,
    PinnedHTTPSConnection,
    Service,
    Unit,
    make_certificate,
    nginx,
    nginx_main_conf,
    render_site,
    wait_for_https,
)
from tests.realproc import spare_port
from tests.workers import database_url_for_tests

pytestmark = [pytest.mark.deploy, pytest.mark.django_db(transaction=True)]


@dataclass
class Stack:
    https_port: int
    http_port: int
    cafile: Path
    env_file: Path
    services: dict[str, Service]

    def https(self, method: str, path: str, **headers: str):
        connection = PinnedHTTPSConnection(self.https_port, self.cafile)
        connection.request(method, path, headers=headers)
        return connection.getresponse()


def _render_unit(name: str, tmp: Path, env_file: Path) -> Unit:
    """The unit with this checkout as /srv/coursebench and the test's environment file."""
    text = (UNITS / f"{name}.service").read_text()
    text = text.replace("/etc/coursebench/coursebench.env", str(env_file))
    text = text.replace("/srv/coursebench", str(ROOT))
    path = tmp / f"{name}.service"
    path.write_text(text)
    return Unit.load(path)


def _environment_file(tmp: Path, web_port: int) -> Path:
    """The example with what docs/deploy.md says to fill in, set to this run's services."""
    broker = os.environ["CELERY_BROKER_URL"]
    values = {
        "SECRET_KEY": "deploy-test-" + "k" * 50,
        "DATABASE_URL": database_url_for_tests(),
        "CELERY_BROKER_URL": broker,
        "CACHE_URL": broker,
        "WEB_BIND": f"127.0.0.1:{web_port}",
        "WEB_CONCURRENCY": "2",
        # This checkout's var/ stays the developer's: the stack writes its own.
        "COURSEBENCH_VAR_DIR": str(tmp / "var"),
    }
    lines = []
    for line in ENV_EXAMPLE.read_text().splitlines():
        key = line.partition("=")[0]
        lines.append(f"{key}={values.pop(key)}" if key in values else line)
    lines += [f"{key}={value}" for key, value in values.items()]
    path = tmp / "coursebench.env"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def stack(tmp_path_factory, django_db_setup, django_db_blocker) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("stack")
    web_port, http_port, https_port = spare_port(), spare_port(), spare_port()
    env_file = _environment_file(tmp, web_port)
    units = {
        name: _render_unit(name, tmp, env_file)
        for name in ("coursebench-web", "coursebench-worker", "coursebench-maintenance")
    }
    # The deploy step before the web unit starts: hashed static files for the pages.
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env={**units["coursebench-web"].environment(), "COURSEBENCH_ENV_FILE": ""},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert collect.returncode == 0, collect.stderr
    cert, _ = make_certificate(tmp / "letsencrypt")
    webroot = tmp / "www"
    webroot.mkdir()
    site = tmp / "sites-enabled" / "coursebench"
    site.parent.mkdir()
    site.write_text(
        render_site(
            SITE.read_text(),
            http_port=http_port,
            https_port=https_port,
            web_port=web_port,
            cert_dir=cert.parent,
            webroot=webroot,
        )
    )
    main_conf = tmp / "nginx.conf"
    main_conf.write_text(nginx_main_conf(tmp / "nginx", f"{site.parent}/*"))
    services = {name: Service(unit, tmp / f"{name}.log") for name, unit in units.items()}
    try:
        services["coursebench-web"].start()  # Type=notify: returns on gunicorn's READY=1
        services["coursebench-worker"].start(ready=" ready.", timeout=180)
        services["coursebench-maintenance"].start(ready=" ready.", timeout=120)
        with nginx(main_conf, tmp / "nginx"):
            wait_for_https(https_port, cert)
            yield Stack(https_port, http_port, cert, env_file, services)
    finally:
        for service in services.values():
            service.stop(limit=60)


def test_healthz_and_readyz_answer_over_https_through_nginx(stack):
    health = stack.https("GET", "/healthz")
    ready = stack.https("GET", "/readyz")

    assert (health.status, json.loads(health.read())) == (200, {"status": "ok"})
    body = json.loads(ready.read())
    assert ready.status == 200, body
    assert body["failed"] == [] and set(body["checks"]) >= {"database", "broker", "storage"}


def test_a_page_over_https_is_served_with_secure_cookies_and_no_redirect_loop(stack):
    page = stack.https("GET", "/accounts/login/")
    cookies = page.headers.get_all("Set-Cookie") or []

    # X-Forwarded-Proto: https is honoured (HTTPS=1): the app does not redirect to HTTPS again.
    assert page.status == 200, (page.status, page.headers.get("Location"))
    assert cookies and all("Secure" in cookie for cookie in cookies), cookies
    assert "max-age=31536000" in page.headers["Strict-Transport-Security"]


def test_plain_http_is_redirected_to_https(stack):
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", stack.http_port, timeout=10)
    connection.request("GET", "/accounts/login/?next=/", headers={"Host": SERVER_NAME})
    response = connection.getresponse()

    assert response.status == 301
    assert response.headers["Location"] == f"https://{SERVER_NAME}/accounts/login/?next=/"


def test_an_upload_over_client_max_body_size_is_refused_with_413_before_its_body(stack):
    connection = PinnedHTTPSConnection(stack.https_port, stack.cafile)
    connection.putrequest("POST", "/labs/")
    connection.putheader("Content-Type", "application/octet-stream")
    connection.putheader("Content-Length", str(1024**3 + 1))  # REQUEST_MAX_BYTES + 1
    connection.endheaders()  # no body sent: nginx answers from the header alone
    response = connection.getresponse()

    assert response.status == 413
    assert b"nginx" in response.read()  # refused by the proxy, not after a 1 GiB hand-over


def test_the_worker_and_maintenance_units_consume_their_queues_and_answer_ping(stack):
    worker = stack.services["coursebench-worker"]
    env = {**worker.unit.environment(), "COURSEBENCH_ENV_FILE": ""}
    ping = subprocess.run(
        [worker.unit.argv[0], "-A", "config", "inspect", "ping", "--timeout", "10"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    active = subprocess.run(
        [worker.unit.argv[0], "-A", "config", "inspect", "active_queues", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert ping.returncode == 0, ping.stdout + ping.stderr
    queues = {
        node.partition("@")[0]: sorted(q["name"] for q in node_queues)
        for node, node_queues in json.loads(active.stdout).items()
    }
    assert queues == {
        "grading": ["celery", "grading", "grading_low"],
        "maintenance": ["demo_baseline", "maintenance"],
    }
    assert "beat: Starting" in stack.services["coursebench-maintenance"].log()


def test_every_unit_stops_cleanly_on_its_kill_signal(stack, tmp_path):
    # Last in this module: the stop is what systemctl stop / restart does.
    statuses = {name: service.stop(limit=60) for name, service in stack.services.items()}
    logs = {name: service.log() for name, service in stack.services.items()}

    assert statuses == dict.fromkeys(stack.services, 0), logs
    assert logs["coursebench-worker"].count("Warm shutdown") == 1, logs["coursebench-worker"]
    assert "Handling signal: term" in logs["coursebench-web"], logs["coursebench-web"]
    for name, text in logs.items():
        assert "Traceback" not in text and "exited with" not in text, (name, text)
