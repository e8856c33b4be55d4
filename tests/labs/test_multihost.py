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
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

from labs import selectors
from labs.models import Submission, WorkerHost
from tests.labs.grading.tiny import build_tiny_model, make_archive
from tests.labs.pipeline import (
    FINISHED,
    enrol_student,
    flush_broker,
    heldout_rows,
    make_lab,
    submit,
    wait_until,
)
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
    defaults = {"postgres": 5432, "redis": 6379, "http": 80}
    port = host.forward(parts.port or defaults[parts.scheme], target_host=parts.hostname)
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
        **({"S3_ENDPOINT_URL": _via(storage["S3_ENDPOINT_URL"], net)} if storage else {}),
    }


@contextlib.contextmanager
def worker_host(
    tmp_path: Path, label: str, storage: dict[str, str] | None = None
) -> Iterator[WorkerHostProcess]:
    with netns_host(prefix=label[:4]) as net:
        home = tmp_path / label
        env = _host_env(net, home, storage or {})
        node = f"grading@{label}-{os.getpid()}"  # unique per run: runs may share a broker
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


def _scored_lines(*logs: Path) -> dict[int, int]:
    """How many times each submission was logged "scored", over every worker's log."""
    counts: dict[int, int] = {}
    for log in logs:
        for match in re.finditer(r"submission (\d+): scored", log.read_text()):
            counts[int(match[1])] = counts.get(int(match[1]), 0) + 1
    return counts


def test_worker_hosts_reach_the_services_only_over_the_network_and_grade_each_submission_once(
    tmp_path, s3_storage
):
    flush_broker()
    (tmp_path / "web").mkdir()
    lab, _ = make_lab(tmp_path / "web", rows=heldout_rows(copies=150))
    archive = make_archive(
        build_tiny_model(tmp_path / "web" / "model", hidden_size=256, layers=6),
        tmp_path / "web" / "model.zip",
    )
    storage = {**s3_storage.env()}

    with worker_host(tmp_path, "hosta", storage) as first:
        # Its own loopback has no PostgreSQL, Redis or S3: it reaches them over the veth only.
        s3_port = urlsplit(s3_storage.server.endpoint_url).port
        for port in (5432, 6379, s3_port):
            assert not first.net.can_connect("127.0.0.1", port)
        for name in ("DATABASE_URL", "CELERY_BROKER_URL", "S3_ENDPOINT_URL"):
            assert urlsplit(first.env[name]).hostname == first.net.gateway
        assert first.env["STORAGE_BACKEND"] == "s3"

        # A student submits on the web side (this process); the other host scores it.
        student = enrol_student(lab)
        submission = wait_until(submit(lab, student, archive), timeout=240)
        assert submission.status == Submission.Status.SCORED, (
            submission.error_message + first.log.read_text()[-3000:]
        )
        assert submission.worker_host == first.node
        assert submission.metrics_private["n"] > 0
        # The archive went to S3, not to a disk either side could share.
        assert f"{s3_storage.private_prefix}/{submission.artifact.name}" in (
            s3_storage.private_keys()
        )
        assert not (Path(settings.PRIVATE_STORAGE_ROOT) / submission.artifact.name).exists()
        assert not any((first.home / "var").rglob("*.zip"))
        # (Cleared just after the result is recorded.)
        assert wait_for(
            lambda: WorkerHost.objects.get(name=first.node).current_submission_id is None
        )

        # A second host joins; together they drain a queue.
        with worker_host(tmp_path, "hostb", storage) as second:
            students = [enrol_student(lab) for _ in range(3)]
            queue = [submit(lab, s, archive) for s in students for _ in range(2)]
            done = [wait_until(s, FINISHED, timeout=300) for s in queue]
            hosts_rows = {
                r.name: r.state for r in selectors.worker_host_list(course=lab.session.course)
            }

    for s in done:
        assert s.status == Submission.Status.SCORED, s.error_message
    graded_by = Counter(s.worker_host for s in done)
    assert set(graded_by) == {first.node, second.node}, graded_by  # both hosts took work
    # Exactly once, from the database: one claim and one enqueue each, and one "scored" line.
    rows = Submission.objects.filter(pk__in=[s.pk for s in [submission, *done]])
    assert rows.count() == 7
    assert set(rows.values_list("attempts", "enqueue_count")) == {(1, 1)}
    assert _scored_lines(first.log, second.log) == {s.pk: 1 for s in [submission, *done]}
    # (Other modules' long-lived workers may be listed too: only these two are this test's.)
    assert {n: hosts_rows.get(n) for n in (first.node, second.node)} == {
        first.node: "online",
        second.node: "online",
    }
