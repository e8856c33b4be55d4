"""Real server processes of our own for fault and multi-host tests: a `redis-server` and a
PostgreSQL cluster on spare ports, started in a temporary folder and stopped afterwards.

The machine's shared PostgreSQL (5432) and Redis (6379) are never restarted by a test: a test
that needs to take a service down starts its own here, and may stop and restart it."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path


def spare_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on now (the kernel's pick)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_for_port(host: str, port: int, *, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:.0f} s")


# --- Redis --------------------------------------------------------------------------------


@dataclass
class RedisServer:
    """A `redis-server` of this test's own; `stop()` and `start()` take it down and back up on
    the same port. Nothing is kept on disk, as on the machine's shared one, unless `persist`:
    then every write goes to an append-only file first (`appendfsync always`), so what was
    queued survives a restart, as with the production setting docs/operations.md recommends;
    `forget()` deletes those files while it is stopped (a restart that lost its data)."""

    directory: Path
    host: str = "127.0.0.1"
    port: int = 0
    persist: bool = False
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def start(self) -> None:
        if not self.port:
            self.port = spare_port(self.host)
        log = (self.directory / "redis.log").open("a")
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--bind",
                self.host,
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "yes" if self.persist else "no",
                "--appendfsync",
                "always",
                "--dir",
                str(self.directory),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for_port(self.host, self.port)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None

    def forget(self) -> None:
        """Delete what a persisting server wrote to disk (call it while stopped)."""
        if self.process is not None:
            raise RuntimeError("stop() the server before forget()")
        shutil.rmtree(self.directory / "appendonlydir", ignore_errors=True)
        (self.directory / "dump.rdb").unlink(missing_ok=True)


@contextlib.contextmanager
def redis_server(
    directory: Path, *, host: str = "127.0.0.1", persist: bool = False
) -> Iterator[RedisServer]:
    directory.mkdir(parents=True, exist_ok=True)
    server = RedisServer(directory=directory, host=host, persist=persist)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- PostgreSQL ---------------------------------------------------------------------------


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    return shutil.which(name) or name


@dataclass
class PostgresServer:
    """A PostgreSQL cluster of this test's own (initdb in `directory`, trust auth, user
    `postgres`). PostgreSQL refuses to run as root, so as root it runs as the `postgres` user."""

    directory: Path
    host: str = "127.0.0.1"
    port: int = 0
    _as_user: list[str] = field(default_factory=list)

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@{self.host}:{self.port}/{database}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [*self._as_user, *args], check=False, capture_output=True, text=True, timeout=120
        )
        if check and done.returncode:
            raise RuntimeError(
                f"{args[0]} failed ({done.returncode}): {done.stderr or done.stdout}"
            )
        return done

    def init(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            # pytest's tmp_path is root's (mode 700): the `postgres` user could not reach it, so
            # the cluster lives in a folder of its own that `cleanup()` removes.
            owner = pwd.getpwnam("postgres")
            self.directory = Path(tempfile.mkdtemp(prefix="cb-pg-"))
            os.chown(self.directory, owner.pw_uid, owner.pw_gid)
            self._as_user = ["runuser", "-u", "postgres", "--"]
        self._run(
            _pg_bin("initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        )
        if not self.port:
            self.port = spare_port(self.host)

    def start(self) -> None:
        options = (
            f"-c listen_addresses={self.host} -c port={self.port} "
            f"-c unix_socket_directories={self.directory} -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off -c max_connections=50"
        )
        self._run(
            _pg_bin("pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.directory / "pg.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        wait_for_port(self.host, self.port)

    def stop(self, *, mode: str = "fast") -> None:
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def create_database(self, name: str) -> str:
        self._run(
            _pg_bin("createdb"), "-h", self.host, "-p", str(self.port), "-U", "postgres", name
        )
        return self.url(name)


@contextlib.contextmanager
def postgres_server(directory: Path, *, host: str = "127.0.0.1") -> Iterator[PostgresServer]:
    server = PostgresServer(directory=directory, host=host)
    server.init()
    server.start()
    try:
        yield server
    finally:
        server.stop(mode="immediate")
        if server._as_user:
            shutil.rmtree(server.directory, ignore_errors=True)
