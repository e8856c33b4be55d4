"""A real S3-speaking server process on loopback for tests (moto's server, tests/s3_moto.py).

    with s3_server(tmp_path / "s3") as server:
        env = {**os.environ, **server.env()}   # STORAGE_BACKEND=s3 and the S3_* variables
        ...
        server.stop()    # unreachable now (connection refused); objects are kept on disk
        server.start()   # the same address, credentials and objects again

The server enforces signatures (an unsigned request for a private object gets 403) and keeps
its objects across stop()/start() in `directory`. `host` may be any local address (a veth
address in a network-namespace test); the port is picked once and kept across restarts.

In pytest, the `s3_server_process` fixture (tests/conftest.py) is one such server for the
whole session, and `s3_storage` switches a test's STORAGES to it (its own key prefix).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@dataclass
class S3Server:
    directory: Path
    host: str = "127.0.0.1"
    port: int = 0
    access_key: str = "AKIACOURSEBENCHTEST"
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    bucket: str = "coursebench-test"
    ready_timeout: float = 60.0
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def endpoint_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.directory / "server.log"

    def env(
        self, *, private_prefix: str = "private", media_prefix: str = "media"
    ) -> dict[str, str]:
        """The variables that point a web process or a worker at this server."""
        return {
            "STORAGE_BACKEND": "s3",
            "S3_ENDPOINT_URL": self.endpoint_url,
            "S3_BUCKET": self.bucket,
            "S3_REGION": "us-east-1",
            "S3_ACCESS_KEY_ID": self.access_key,
            "S3_SECRET_ACCESS_KEY": self.secret_key,
            "S3_ADDRESSING_STYLE": "path",
            "S3_PRIVATE_PREFIX": private_prefix,
            "S3_MEDIA_PREFIX": media_prefix,
        }

    def client(self):
        """A boto3 S3 client with this server's credentials (to look at what it holds)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )

    def keys(self, prefix: str = "") -> list[str]:
        """Every object key under `prefix`, sorted."""
        pages = (
            self.client()
            .get_paginator("list_objects_v2")
            .paginate(Bucket=self.bucket, Prefix=prefix)
        )
        return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        if self.running:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self.port = free_port(self.host)
        log = self.log_path.open("a")
        args = [
            sys.executable,
            "-m",
            "tests.s3_moto",
            "--host",
            self.host,
            "--port",
            str(self.port),
        ]
        args += ["--directory", str(self.directory), "--bucket", self.bucket]
        # "=" form: a generated key may start with "-", which argparse would take for an option.
        args += [f"--access-key={self.access_key}", f"--secret-key={self.secret_key}"]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"S3 server exited early:\n{self.log_path.read_text()}")
            with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), 1):
                return
            time.sleep(0.1)
        raise RuntimeError(
            f"S3 server not up after {self.ready_timeout}s:\n{self.log_path.read_text()}"
        )

    def stop(self) -> None:
        """Stop the server (SIGTERM: it writes its objects to `directory` first); connections
        to its address are refused until start()."""
        if not self.running:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


@contextlib.contextmanager
def s3_server(directory: Path, *, host: str = "127.0.0.1", port: int = 0) -> Iterator[S3Server]:
    """Run an S3 server storing in `directory` until the block exits."""
    server = S3Server(directory=Path(directory), host=host, port=port)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class S3TestStorage:
    """What the `s3_storage` fixture switched a test to: the server, the key prefix the test's
    objects live under, and the variables a worker needs to use the same storage."""

    server: S3Server
    prefix: str
    private: object  # core.storage.PrivateS3Storage

    @property
    def private_prefix(self) -> str:
        return f"{self.prefix}/private"

    @property
    def media_prefix(self) -> str:
        return f"{self.prefix}/media"

    def env(self) -> dict[str, str]:
        return self.server.env(private_prefix=self.private_prefix, media_prefix=self.media_prefix)

    def private_keys(self) -> list[str]:
        """Every private object of this test, as keys in the bucket."""
        return self.server.keys(self.private_prefix + "/")


def storages_for(server: S3Server, *, prefix: str) -> dict:
    """STORAGES "default" and "private" entries for `server`, as settings.py builds them."""
    from django.conf import settings

    from config.env import s3_settings, storage_backends

    env = server.env(private_prefix=f"{prefix}/private", media_prefix=f"{prefix}/media")
    s3 = s3_settings(
        bucket=env["S3_BUCKET"],
        access_key_id=env["S3_ACCESS_KEY_ID"],
        secret_access_key=env["S3_SECRET_ACCESS_KEY"],
        endpoint_url=env["S3_ENDPOINT_URL"],
        region=env["S3_REGION"],
        addressing_style=env["S3_ADDRESSING_STYLE"],
        private_prefix=env["S3_PRIVATE_PREFIX"],
        media_prefix=env["S3_MEDIA_PREFIX"],
    )
    return storage_backends(
        "s3",
        media_root=Path(settings.MEDIA_ROOT),
        media_url=settings.MEDIA_URL,
        private_root=Path(settings.PRIVATE_STORAGE_ROOT),
        s3=s3,
    )
