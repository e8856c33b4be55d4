"""Start real Celery worker processes for tests (no mocks, no eager mode)."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
_names = itertools.count(1)  # tests may run two workers at once: each needs its own node name


def database_url_for_tests() -> str:
    """The URL of the database this test run uses (pytest-django's test database)."""
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@contextlib.contextmanager
def celery_worker(
    *,
    env: dict[str, str],
    log_path: Path,
    ready_timeout: float = 60.0,
    queues: str | None = None,
    extra_args: Sequence[str] = (),
    name: str | None = None,
    command_prefix: Sequence[str] = (),
    cwd: Path | None = None,
) -> Iterator[subprocess.Popen]:
    """Run `celery -A config worker` as a child process until the block exits.

    `extra_args` go on its command line, e.g. `("--beat", "-s", path)` for embedded beat;
    `name` is its node name (default: unique per test process); `command_prefix` runs it under
    another command (`ip netns exec NS`, see tests/netns.py) and `cwd` in another folder (the
    project is then found through PYTHONPATH, which the caller sets in `env`)."""
    args = [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=INFO"]
    args += [
        "--concurrency=1",
        "--without-gossip",
        "--without-mingle",
        "-n",
        name or f"test-{os.getpid()}-{next(_names)}@%h",
    ]
    if queues:
        args += ["-Q", queues]
    args += extra_args
    log = log_path.open("w")
    process = subprocess.Popen(
        [*command_prefix, *args],
        cwd=cwd or ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_until_ready(process, log_path, ready_timeout)
        yield process
    finally:
        _stop(process)
        log.close()


def _wait_until_ready(process: subprocess.Popen, log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Celery worker exited early:\n{log_path.read_text()}")
        if " ready." in log_path.read_text():
            return
        time.sleep(0.2)
    raise RuntimeError(f"Celery worker not ready after {timeout}s:\n{log_path.read_text()}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def child_pids(pid: int) -> list[int]:
    """The direct children of a process: a worker's pool processes (and embedded beat)."""
    out = subprocess.run(["ps", "--ppid", str(pid), "-o", "pid="], capture_output=True, text=True)
    return [int(line) for line in out.stdout.split()]


def has_torch_loaded(pid: int) -> bool:
    """Whether torch's shared library is mapped into the process (it was imported there)."""
    return "libtorch" in Path(f"/proc/{pid}/maps").read_text()


def wait_for(predicate, *, timeout: float = 30.0, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False
