"""Grading workers on other hosts (docs/deploy.md, "Grading hosts").

Each worker host is a network namespace of its own (tests/netns.py) with its own working
directory, HOME, temp dir and var/ under this test's folder. From there it sees only its own
loopback and a veth: it reaches PostgreSQL, Redis and the S3 server only through forwarders on
the veth address, and shares no folder with the web side (this pytest process), whose files go
to S3. A submission made on the web side is scored by such a host; then two hosts drain a queue
together, and the database shows every submission graded exactly once."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

from core.models import WorkerPing
from core.services import worker_ping_create
from labs.models import WorkerHost
from tests.netns import NetnsHost, netns_host, netns_unavailable
from tests.workers import ROOT, celery_worker, database_url_for_tests, wait_for

WHY = netns_unavailable()

pytestmark = [
    pytest.mark.multihost,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(WHY is not None, reason=f"cannot create network namespaces: {WHY}"),
]

QUEUES = "celery,grading,grading_low"


def _via(url: str, host: NetnsHost) -> str:
    """`url` (a service on this machine's loopback) as the namespace reaches it: the same
    scheme, credentials and path, at a forwarder on the veth."""
    parts = urlsplit(url)
    port = host.forward(parts.port or {"postgres": 5432, "redis": 6379}[parts.scheme])
    auth = parts.netloc.rpartition("@")[0]
    netloc = f"{auth}@{host.gateway}:{port}" if auth else f"{host.gateway}:{port}"
    return urlunsplit(parts._replace(netloc=netloc))


@dataclass
class WorkerHostProcess:
    net: NetnsHost
    node: str
    home: Path
    log: Path
    env: dict[str, str]


def _host_env(net: NetnsHost, home: Path, storage: dict[str, str]) -> dict[str, str]:
    """Built from nothing (not this process's environment): nothing of the web side's
    configuration, paths included, can leak into the worker."""
    var = home / "var"
    for folder in (var, home / "tmp", home / "hf"):
        folder.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": os.environ["PATH"],
        "LANG": "C.UTF-8",
        "HOME": str(home),
        "TMPDIR": str(home / "tmp"),
        "PYTHONPATH": str(ROOT),  # the code, not data: the same release as the web side
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "COURSEBENCH_ENV_FILE": "",
        "SECRET_KEY": settings.SECRET_KEY,
        "DEBUG": "0",
        "COURSEBENCH_VAR_DIR": str(var),
        "PRIVATE_STORAGE_ROOT": str(var / "private"),
        "MEDIA_ROOT": str(var / "media"),
        "HF_HOME": str(home / "hf"),
        "HF_HUB_OFFLINE": "1",
        "OMP_WAIT_POLICY": "PASSIVE",
        "DATABASE_URL": _via(database_url_for_tests(), net),
        "CELERY_BROKER_URL": _via(settings.CELERY_BROKER_URL, net),
        "GRADING_HEARTBEAT_INTERVAL_S": "1",
        **storage,
    }


@contextlib.contextmanager
def worker_host(
    tmp_path: Path, label: str, storage: dict[str, str] | None = None
) -> Iterator[WorkerHostProcess]:
    with netns_host(prefix=label[:4]) as net:
        home = tmp_path / label
        env = _host_env(net, home, storage or {})
        node = f"grading@{label}"
        log = home / "worker.log"
        with celery_worker(
            env=env,
            log_path=log,
            queues=QUEUES,
            name=node,
            command_prefix=net.command_prefix(),
            cwd=home,
            ready_timeout=120,
        ):
            yield WorkerHostProcess(net=net, node=node, home=home, log=log, env=env)


def test_a_worker_host_reaches_the_services_only_over_its_veth_and_reports_itself(tmp_path):
    from tests.labs.pipeline import flush_broker

    flush_broker()
    with worker_host(tmp_path, "hosta") as host:
        # Its own loopback has no PostgreSQL or Redis: what it reaches, it reaches over the veth.
        assert not host.net.can_connect("127.0.0.1", 5432)
        assert not host.net.can_connect("127.0.0.1", 6379)
        assert urlsplit(host.env["DATABASE_URL"]).hostname == host.net.gateway
        assert str(tmp_path) in host.env["PRIVATE_STORAGE_ROOT"]

        ping = worker_ping_create()
        assert wait_for(
            lambda: WorkerPing.objects.filter(pk=ping.pk, answered_at__isnull=False).exists()
        ), host.log.read_text()
        row = WorkerHost.objects.get(name=host.node)
        assert row.queues == ["celery", "grading", "grading_low"]
    assert sys.executable
