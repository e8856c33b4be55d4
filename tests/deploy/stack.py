"""Run the repository's deployment files as real processes, as systemd and nginx would.

There is no running systemd in the test container, so a unit is started the way systemd
starts it: its `EnvironmentFile=` read with systemd's rules, its `Environment=` lines on top,
in its `WorkingDirectory=`, from its `ExecStart=` (with systemd's `%%` specifier), in a clean
environment; for `Type=notify` the test holds the notify socket and waits for `READY=1`; a stop
sends `KillSignal=` to the main process only (`KillMode=mixed`) and waits up to
`TimeoutStopSec=`. `systemd-analyze verify` checks the files themselves (tests/deploy/
test_units.py). nginx runs the site file under a small main configuration of the test's own
(the one Debian ships includes sites-enabled/ in the same way), on spare loopback ports."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shlex
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "deploy" / "systemd"
SITE = ROOT / "deploy" / "nginx" / "coursebench.conf"
ENV_EXAMPLE = ROOT / "deploy" / "coursebench.env.example"
SERVER_NAME = "coursebench.example.edu"
NGINX = os.environ.get("NGINX_PATH", "/usr/sbin/nginx")
# What systemd gives a service before its own variables: a plain PATH and locale, nothing of
# the test process (no PYTEST_VERSION, no DATABASE_URL), so the environment file is complete.
SYSTEMD_BASE_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
}


# --- systemd units --------------------------------------------------------------------------


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """Sections -> key -> every value in order (systemd allows a key more than once, e.g.
    Environment=, which configparser would collapse)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"a setting outside any section: {raw!r}"
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def read_environment_file(path: Path) -> dict[str, str]:
    """systemd's EnvironmentFile= rules for the plain `KEY=VALUE` lines the example uses:
    `#` and `;` lines are comments, the value is the rest of the line (no inline comments)."""
    values: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{path}: not KEY=VALUE: {raw!r}"
        values[key.strip()] = value.strip()
    return values


def expand_specifiers(value: str) -> str:
    """systemd's specifiers the units use: %% (a literal %) and %H (the host name)."""
    return re.sub(r"%(.)", lambda m: {"%": "%", "H": socket.gethostname()}[m.group(1)], value)


def seconds(value: str) -> float:
    """A systemd time span: `45`, `45s`, `15min`, `5min 30s`."""
    units = {"": 1, "s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600}
    parts = re.findall(r"(\d+)\s*([a-z]*)", value)
    assert parts, value
    return float(sum(int(n) * units[u] for n, u in parts))


@dataclass
class Unit:
    name: str
    settings: dict[str, list[str]]

    @classmethod
    def load(cls, path: Path) -> Unit:
        return cls(path.stem, parse_unit(path.read_text())["Service"])

    def one(self, key: str, default: str | None = None) -> str:
        values = self.settings.get(key)
        if not values:
            assert default is not None, f"{self.name}: no {key}="
            return default
        return values[-1]

    @property
    def argv(self) -> list[str]:
        return shlex.split(expand_specifiers(self.one("ExecStart")))

    def environment(self) -> dict[str, str]:
        env = dict(SYSTEMD_BASE_ENV)
        for path in self.settings.get("EnvironmentFile", []):
            env.update(read_environment_file(Path(path.lstrip("-"))))
        for line in self.settings.get("Environment", []):
            for assignment in shlex.split(line):
                key, _, value = assignment.partition("=")
                env[key] = value
        return env


@dataclass
class Service:
    """A unit's ExecStart running as systemd would start it."""

    unit: Unit
    log_path: Path
    process: subprocess.Popen | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    def start(self, *, ready: str | None = None, timeout: float = 120.0) -> None:
        env = {**self.unit.environment(), **self.extra_env}
        notify = None
        if self.unit.one("Type", "simple") == "notify":
            notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            notify_path = self.log_path.with_suffix(".notify")
            notify_path.unlink(missing_ok=True)
            notify.bind(str(notify_path))
            notify.settimeout(0.5)
            env["NOTIFY_SOCKET"] = str(notify_path)
        log = self.log_path.open("a")
        self.process = subprocess.Popen(
            self.unit.argv,
            cwd=self.unit.one("WorkingDirectory"),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        try:
            self._wait_until_started(notify, ready, timeout)
        finally:
            if notify is not None:
                notify.close()

    def _wait_until_started(
        self, notify: socket.socket | None, ready: str | None, timeout: float
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"{self.unit.name} exited at start:\n{self.log()}")
            if notify is not None:
                with contextlib.suppress(TimeoutError):
                    if b"READY=1" in notify.recv(4096):
                        return
            elif ready is None or ready in self.log():
                return
            else:
                time.sleep(0.3)
        raise AssertionError(f"{self.unit.name} not started after {timeout:.0f} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def stop(self, *, limit: float = 90.0) -> int | None:
        """KillSignal= to the main process only (KillMode=mixed), then up to TimeoutStopSec=
        (at most `limit` here) before SIGKILL to the group. Returns the exit status, or None
        when it had to be killed."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        assert self.unit.one("KillMode") == "mixed"
        self.process.send_signal(getattr(signal, self.unit.one("KillSignal", "SIGTERM")))
        wait = min(seconds(self.unit.one("TimeoutStopSec")), limit)
        try:
            return self.process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            return None
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


# --- nginx ----------------------------------------------------------------------------------


def make_certificate(directory: Path, name: str = SERVER_NAME) -> tuple[Path, Path]:
    """A self-signed certificate for `name` with openssl, at certbot's file names."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "fullchain.pem", directory / "privkey.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
            *("-keyout", str(key), "-out", str(cert), "-subj", f"/CN={name}"),
            *("-addext", f"subjectAltName=DNS:{name}"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def nginx_main_conf(prefix: Path, sites: str) -> str:
    """The main configuration around the site file, as Debian's /etc/nginx/nginx.conf includes
    sites-enabled/*, with its pid, logs and temporary files in `prefix`."""
    # As root nginx's workers would switch to `nobody`, who cannot enter pytest's private tmp.
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "".join(
        f"    {kind}_temp_path {prefix}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"{user}worker_processes 1;\npid {prefix}/nginx.pid;\nerror_log {prefix}/error.log;\n"
        "events { worker_connections 256; }\n"
        "http {\n    include /etc/nginx/mime.types;\n"
        f"    access_log {prefix}/access.log;\n{temp}    include {sites};\n}}\n"
    )


def render_site(
    text: str, *, http_port: int, https_port: int, web_port: int, cert_dir: Path, webroot: Path
) -> str:
    """The site file with the deployment's placeholders put to this test's: spare loopback
    ports, the test certificate's folder and webroot (docs/deploy.md names them)."""
    replacements = {
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{web_port};",
        f"/etc/letsencrypt/live/{SERVER_NAME}/": f"{cert_dir}/",
        "root /var/www/html;": f"root {webroot};",
    }
    for old, new in replacements.items():
        assert old in text, f"the site file no longer has {old!r}"
        text = text.replace(old, new)
    return text


@contextlib.contextmanager
def nginx(main_conf: Path, prefix: Path) -> Iterator[subprocess.Popen]:
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / kind).mkdir(parents=True, exist_ok=True)
    test = subprocess.run(
        [NGINX, "-t", "-p", str(prefix), "-c", str(main_conf)], capture_output=True, text=True
    )
    assert test.returncode == 0, test.stderr
    process = subprocess.Popen(
        [NGINX, "-p", str(prefix), "-c", str(main_conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=(prefix / "nginx.stderr").open("w"),
        start_new_session=True,
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to `SERVER_NAME` (SNI, certificate check, Host) at a loopback address."""

    def __init__(self, port: int, cafile: Path, *, timeout: float = 30.0) -> None:
        context = ssl.create_default_context(cafile=str(cafile))
        super().__init__(SERVER_NAME, port, context=context, timeout=timeout)

    def connect(self) -> None:
        sock = socket.create_connection(("127.0.0.1", self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=SERVER_NAME)


def wait_for_https(port: int, cafile: Path, path: str = "/healthz", timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            connection = PinnedHTTPSConnection(port, cafile, timeout=5)
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"nginx did not answer {path} on {port} in {timeout} s")
        time.sleep(0.3)
