"""deploy/coursebench.env.example, the production environment file the units read, agrees with
.env.example, with the nginx site and with docs/deploy.md."""

from __future__ import annotations

import os
import re

from django.conf import settings
from dotenv import dotenv_values

from tests.deploy.stack import ENV_EXAMPLE, ROOT, SITE, read_environment_file


def _documented() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))


def test_every_variable_in_the_production_file_is_documented_in_env_example():
    production = read_environment_file(ENV_EXAMPLE)

    assert "DATABASE_URL" in production  # the reader still reads it
    assert sorted(set(production) - _documented()) == []


def test_systemd_and_python_dotenv_read_the_file_alike():
    # The units read it with systemd's rules, `manage.py` by hand through python-dotenv
    # (COURSEBENCH_ENV_FILE): a quote or an inline comment would make them differ.
    assert dict(dotenv_values(ENV_EXAMPLE)) == read_environment_file(ENV_EXAMPLE)


def test_it_sets_what_production_needs_for_the_proxy_in_front():
    production = read_environment_file(ENV_EXAMPLE)

    assert production["DEBUG"] == "0"
    assert production["HTTPS"] == "1"  # nginx terminates TLS, sends X-Forwarded-Proto
    assert production["NUM_PROXIES"] == "1"  # nginx appends one X-Forwarded-For entry
    assert production["SECRET_KEY"] == ""  # generated at install (docs/deploy.md), never shipped
    assert production["WEB_BIND"] == "127.0.0.1:8000"
    assert "server 127.0.0.1:8000;" in SITE.read_text()  # nginx's upstream


def _nginx_bytes(size: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kmg]?)", size.lower()).groups()
    return int(number) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit]


def test_nginx_takes_exactly_the_request_size_the_app_takes_by_default():
    size = _nginx_bytes(re.search(r"client_max_body_size (\S+);", SITE.read_text()).group(1))

    assert "REQUEST_MAX_BYTES" not in os.environ  # so settings holds the default
    assert size == settings.REQUEST_MAX_BYTES == 1024**3
    assert int(read_environment_file(ENV_EXAMPLE)["REQUEST_MAX_BYTES"]) == size


def test_nginx_waits_longer_than_gunicorn_lets_a_request_run():
    gunicorn_timeout = int(
        re.search(r'"WEB_TIMEOUT_S", (\d+)', (ROOT / "gunicorn.conf.py").read_text()).group(1)
    )
    site = SITE.read_text()

    assert "proxy_request_buffering on;" in site
    for directive in ("proxy_read_timeout", "proxy_send_timeout"):
        value = re.search(rf"{directive} (\d+)s;", site).group(1)
        assert int(value) > gunicorn_timeout, directive
