"""`make run`'s processes: honcho (through scripts/honcho_run.py, as the Makefile runs it)
starts the real Procfile (web, grading worker, maintenance worker with beat) on the embedded
SQLite + filesystem broker, and one Ctrl-C stops them all, once, without the signal storm the
old `trap 'kill 0'` caused, and quietly: no ERROR line from a pool child killed under its
worker."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.worker

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PROCESSES = ("web", "worker", "maintenance")


def _spare_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(log: Path, process: subprocess.Popen, needles: list[str], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = log.read_text()
        if all(needle in text for needle in needles):
            return text
        if process.poll() is not None:
            break
        time.sleep(0.3)
    raise AssertionError(f"honcho did not start {needles} in {timeout}s:\n{text}")


def test_one_sigint_stops_web_and_both_workers_once_and_cleanly(tmp_path):
    port = _spare_port()
    var = tmp_path / "var"
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}},
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",  # the Procfile runs python, celery
        "COURSEBENCH_ENV_FILE": "",
        "COURSEBENCH_VAR_DIR": str(var),  # SQLite and the filesystem broker, as `make run`
        "DEBUG": "1",
        "HOST": "127.0.0.1",
        "GRADING_WARM_UP": "0",  # no torch import: the stop is what is tested
        "PYTHONUNBUFFERED": "1",
    }
    log = tmp_path / "honcho.log"
    with log.open("w") as out:
        honcho = subprocess.Popen(
            [
                sys.executable,
                "scripts/honcho_run.py",
                "--env",
                "/dev/null",
                "start",
                "--no-colour",
                "--port",
                str(port),
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_for(log, honcho, [f"127.0.0.1:{port}", "beat: Starting"], timeout=90)
            while log.read_text().count(" ready.") < 2:  # both workers consume
                assert honcho.poll() is None, log.read_text()
                time.sleep(0.3)
            honcho.send_signal(signal.SIGINT)
            returncode = honcho.wait(timeout=30)
        finally:
            if honcho.poll() is None:
                os.killpg(honcho.pid, signal.SIGKILL)
                honcho.wait()
    text = log.read_text()

    assert returncode == 130, text  # honcho's status for SIGINT
    assert text.count("SIGINT received") == 1, text
    for name in PROCESSES:
        assert text.count(f"{name}.1 stopped") == 1, text
    assert text.count("Warm shutdown") == 2, text  # one per worker, not a storm
    assert "SIGKILL" not in text, text  # each stopped within honcho's grace period
    assert "RecursionError" not in text and "Segmentation fault" not in text, text
    # Quietly: the signal reaches each Celery main process only, whose warm shutdown stops its
    # own pool; a SIGTERM to the whole process group killed the pool children under it, and
    # the worker logged "Process 'ForkPoolWorker-1' exited with signal 15" as an ERROR.
    assert "exited with" not in text, text
    assert "ERROR" not in text and "Traceback" not in text, text
