"""docs/deploy.md is followed from a clean clone: every command of its `sh` blocks, read from
the document itself, run in order on a `git clone` of this repository's committed HEAD, ends
with /readyz answering 200 through nginx over HTTPS; and no command can be added to the
document that this test does not run.

What a container cannot do or must not touch is stood in for, each stand-in listed in
docs/deploy.md ("How this recipe is tested"): paths under /etc, /srv and /var move into the
test's temporary folder; `apt-get install` is simulated; `useradd` writes a copy of the user
database and the commands then run as the test's own user; `.venv` is a link to the suite's own
virtual environment instead of a fresh `pip install` of the same pins (so `make install` finds
the packages installed and only runs `npm ci`); PostgreSQL is the shared server with a fresh
role and database of the test's own; Redis is the run's spare db; certbot's certificate is a
self-signed one from openssl; systemctl starts each unit's ExecStart as systemd would
(tests/deploy/stack.py); nginx listens on spare ports."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.deploy.stack import (
    NGINX,
    ROOT,
    SERVER_NAME,
    SYSTEMD_BASE_ENV,
    Service,
    Unit,
    make_certificate,
    nginx,
    nginx_main_conf,
    render_site,
    wait_for_https,
)
from tests.realproc import spare_port

DOC = ROOT / "docs" / "deploy.md"
REPOSITORY_URL = "https://git.example.edu/coursebench.git"
# The programs a recipe line may start with that the test runs as written (after the path
# and user stand-ins); anything else needs a handler below, or the drift test fails.
AS_WRITTEN = {"install", "sed", "ln", "rm", "redis-cli", "tar", "git", "runuser"}
HANDLERS: list[tuple[str, str]] = [
    (r"cd \S+$", "cd"),
    (r"export [A-Z_]+=\S+$", "export"),
    (r"apt-get install -y( [a-z0-9.+-]+)+$", "apt_get_install"),
    (r"useradd .+ coursebench$", "useradd"),
    (rf"git clone {re.escape(REPOSITORY_URL)} \S+$", "git_clone"),
    (r"make install$", "make_install"),
    (r"runuser -u postgres -- (psql|createdb|pg_dump) ", "postgres"),
    (r"systemctl daemon-reload$", "daemon_reload"),
    (r"systemctl enable --now( coursebench-[a-z]+)+$", "systemctl_start"),
    (r"systemctl restart( coursebench-[a-z]+)+$", "systemctl_restart"),
    (r"systemctl status( coursebench-[a-z]+)+$", "systemctl_status"),
    (r"journalctl -u coursebench-[a-z]+ -n \d+$", "journalctl"),
    (r"certbot certonly --webroot -w \S+ -d \S+$", "certbot"),
    (r"nginx -t$", "nginx_test"),
    (r"systemctl reload nginx$", "nginx_reload"),
    (r"curl -fsS https://\S+$", "curl"),
]


def recipe_commands(text: str) -> list[str]:
    """Every command line of the document's ```sh blocks, in order."""
    commands = []
    for block in re.findall(r"^```sh\n(.*?)^```", text, re.DOTALL | re.MULTILINE):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def handler_for(command: str) -> str | None:
    for pattern, name in HANDLERS:
        if re.match(pattern, command):
            return name
    return "as_written" if shlex.split(command)[0] in AS_WRITTEN else None


def test_every_recipe_command_is_one_the_clean_clone_test_runs():
    commands = recipe_commands(DOC.read_text())

    assert len(commands) > 20 and "make install" in commands  # the blocks are still found
    assert [c for c in commands if handler_for(c) is None] == []
    assert handler_for("systemctl stop coursebench-web") is None  # an unknown one is caught
    assert handler_for("pip install gunicorn") is None


class Recipe:
    """Runs recipe lines one by one, keeping the shell's state (cd, export) between them."""

    def __init__(self, tmp: Path) -> None:
        self.root = tmp / "host"
        self.root.mkdir()
        self.cwd = self.root
        # An operator's root shell: a plain PATH, root's HOME (npm's cache), nothing of pytest's.
        self.env = {**SYSTEMD_BASE_ENV, "HOME": os.environ.get("HOME", "/root")}
        self.name = f"cb_recipe_{secrets.token_hex(4)}"  # role and database
        self.web_port, self.http_port, self.https_port = spare_port(), spare_port(), spare_port()
        self.cert_dir = self.root / "etc" / "letsencrypt" / "live" / SERVER_NAME
        self.services: dict[str, Service] = {}
        self.stack = contextlib.ExitStack()
        self.nginx_started = False
        self.executed: list[str] = []
        self.answers: list[str] = []  # what each curl printed
        self.log = tmp / "recipe.log"

    # --- stand-ins ------------------------------------------------------------------------

    def paths(self, text: str) -> str:
        return re.sub(r"(?<![\w.~-])/(etc|srv|var)/", rf"{self.root}/\1/", text)

    def as_test_user(self, command: str) -> str:
        command = command.replace("runuser -u coursebench -- ", "")
        return re.sub(r" -[og] coursebench\b", "", command)

    def sh(self, command: str, *, env: dict[str, str] | None = None, timeout: float = 600) -> str:
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", command],
            cwd=self.cwd,
            env=env or self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        with self.log.open("a") as log:
            log.write(f"$ {command}\n{result.stdout}{result.stderr}\n")
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def run(self, command: str) -> None:
        name = handler_for(command)
        assert name is not None, command
        handler: Callable[[str], None] = getattr(self, name)
        if name != "as_written":  # those are logged as run, with their output
            with self.log.open("a") as log:
                log.write(f"# {command}  [stand-in: {name}]\n")
        handler(command)
        self.executed.append(command)

    # --- handlers -------------------------------------------------------------------------

    def cd(self, command: str) -> None:
        self.cwd = Path(self.paths(command.split()[1]))

    def export(self, command: str) -> None:
        key, _, value = command.split(maxsplit=1)[1].partition("=")
        self.env[key] = self.paths(value)

    def apt_get_install(self, command: str) -> None:
        packages = command.split()[3:]
        if shutil.which("npm"):  # Node.js from elsewhere brings npm and conflicts with Debian's
            packages.remove("npm")
        self.sh(f"apt-get install --simulate -y {' '.join(packages)}")
        # What the packages lay out, under the test's root: nginx's Debian layout with its
        # default site (empty here: the real one would take port 80), certbot's webroot.
        for folder in (
            "etc/nginx/sites-available",
            "etc/nginx/sites-enabled",
            "var/www/html",
            "etc/systemd/system",
            "var/backups",
        ):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        (self.root / "etc/nginx/sites-enabled/default").write_text("# Debian's default site\n")
        (self.root / "etc/nginx/nginx.conf").write_text(
            nginx_main_conf(self.root / "run" / "nginx", f"{self.root}/etc/nginx/sites-enabled/*")
        )

    def useradd(self, command: str) -> None:
        etc = self.root / "etc"
        for name in ("passwd", "group", "shadow", "gshadow", "login.defs"):
            if Path("/etc", name).exists():
                shutil.copy(Path("/etc", name), etc / name)
        self.sh(command.replace("useradd ", f"useradd --prefix {self.root} ", 1))
        assert re.search(r"^coursebench:", (etc / "passwd").read_text(), re.MULTILINE)

    def git_clone(self, command: str) -> None:
        self.sh(self.paths(command.replace(REPOSITORY_URL, str(ROOT))))

    def make_install(self, command: str) -> None:
        venv = Path(sys.executable).parent.parent.resolve()
        stamp = venv / ".installed"
        assert stamp.is_file(), "the suite's .venv was not made by make install"
        if not (self.cwd / ".venv").exists():  # the upgrade runs make install again
            (self.cwd / ".venv").symlink_to(venv)
        # The clone's pyproject.toml is as old as the install stamp: make finds the pinned
        # packages installed and never runs pip on the shared environment.
        os.utime(self.cwd / "pyproject.toml", (stamp.stat().st_mtime,) * 2)
        self.sh(command)
        assert (self.cwd / "static" / "vendor" / "htmx.min.js").is_file()

    def postgres(self, command: str) -> None:
        command = command.replace("runuser -u postgres -- ", "")
        command = re.sub(r"(?<![\w/.:@-])coursebench(?![\w/.:-])", self.name, command)
        env = {**self.env, "PGHOST": "127.0.0.1", "PGPORT": "5432", "PGUSER": "postgres"}
        self.sh(self.paths(command), env=env)

    def as_written(self, command: str) -> None:
        self.sh(self.as_test_user(self.paths(command)))
        env_file = self.root / "etc/coursebench/coursebench.env"
        if command.startswith("install ") and command.endswith("/coursebench.env"):
            self._edit_environment_file(env_file)
        if command.startswith("install ") and command.endswith("sites-available/coursebench"):
            site = self.root / "etc/nginx/sites-available/coursebench"
            site.write_text(
                render_site(
                    site.read_text(),
                    http_port=self.http_port,
                    https_port=self.https_port,
                    web_port=self.web_port,
                    cert_dir=self.cert_dir,
                    webroot=self.root / "var/www/html",
                )
            )

    def _edit_environment_file(self, path: Path) -> None:
        """The edit docs/deploy.md asks for, with this test's services."""
        broker = os.environ["CELERY_BROKER_URL"]
        values = {
            "DATABASE_URL": f"postgres://{self.name}:change-me@127.0.0.1:5432/{self.name}",
            "CELERY_BROKER_URL": broker,
            "CACHE_URL": broker,
            "WEB_BIND": f"127.0.0.1:{self.web_port}",
        }
        lines = path.read_text().splitlines()
        for key, value in values.items():
            index = next(i for i, line in enumerate(lines) if line.startswith(f"{key}="))
            lines[index] = f"{key}={value}"
        path.write_text("\n".join(lines) + "\n")

    def _unit(self, name: str) -> Unit:
        installed = self.root / "etc/systemd/system" / f"{name}.service"
        rendered = self.root / "run" / "units" / installed.name
        rendered.parent.mkdir(parents=True, exist_ok=True)
        rendered.write_text(self.paths(installed.read_text()))
        return Unit.load(rendered)

    def daemon_reload(self, command: str) -> None:
        names = sorted(p.stem for p in (self.root / "etc/systemd/system").glob("*.service"))
        assert names == ["coursebench-maintenance", "coursebench-web", "coursebench-worker"]
        for name in names:
            self._unit(name)
        rendered = sorted(str(p) for p in (self.root / "run" / "units").glob("*.service"))
        self.sh(
            shlex.join(
                ["systemd-analyze", "verify", "--man=no", "--recursive-errors=no", *rendered]
            )
        )

    def _start(self, name: str) -> None:
        service = self.services.get(name) or Service(self._unit(name), self.root / f"{name}.log")
        self.services[name] = service
        service.start(ready=None if name == "coursebench-web" else " ready.", timeout=180)

    def systemctl_start(self, command: str) -> None:
        for name in command.split()[3:]:
            self._start(name)

    def systemctl_restart(self, command: str) -> None:
        for name in command.split()[2:]:
            status = self.services[name].stop(limit=120)
            assert status == 0, (name, status, self.services[name].log())
            self._start(name)

    def systemctl_status(self, command: str) -> None:
        for name in command.split()[2:]:
            process = self.services[name].process
            assert process is not None and process.poll() is None, self.services[name].log()

    def journalctl(self, command: str) -> None:
        words = command.split()
        lines = self.services[words[2]].log().splitlines()[-int(words[4]) :]
        assert lines, command

    def certbot(self, command: str) -> None:
        name = command.split()[-1]
        assert name == SERVER_NAME
        make_certificate(self.cert_dir, name)

    def _nginx_args(self) -> list[str]:
        prefix = self.root / "run" / "nginx"
        return ["-p", str(prefix), "-c", str(self.root / "etc/nginx/nginx.conf")]

    def nginx_test(self, command: str) -> None:
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.root / "run" / "nginx" / kind).mkdir(parents=True, exist_ok=True)
        self.sh(shlex.join([NGINX, "-t", *self._nginx_args()]))

    def nginx_reload(self, command: str) -> None:
        if self.nginx_started:
            self.sh(shlex.join([NGINX, "-s", "reload", *self._nginx_args()]))
            return
        prefix = self.root / "run" / "nginx"
        self.stack.enter_context(nginx(self.root / "etc/nginx/nginx.conf", prefix))
        self.nginx_started = True
        wait_for_https(self.https_port, self.cert_dir / "fullchain.pem")

    def curl(self, command: str) -> None:
        url = command.split()[-1].replace(f"{SERVER_NAME}/", f"{SERVER_NAME}:{self.https_port}/")
        answer = self.sh(
            shlex.join(
                [
                    "curl",
                    "-fsS",
                    "--cacert",
                    str(self.cert_dir / "fullchain.pem"),
                    "--resolve",
                    f"{SERVER_NAME}:{self.https_port}:127.0.0.1",
                    url,
                ]
            )
        )
        self.answers.append(answer)

    def close(self) -> None:
        for service in self.services.values():
            service.stop(limit=60)
        self.stack.close()
        env = {**self.env, "PGHOST": "127.0.0.1", "PGUSER": "postgres"}
        subprocess.run(["dropdb", "--if-exists", "--force", self.name], env=env, check=False)
        subprocess.run(["psql", "-c", f'DROP ROLE IF EXISTS "{self.name}"'], env=env, check=False)


@pytest.fixture
def recipe(tmp_path) -> Iterator[Recipe]:
    runner = Recipe(tmp_path)
    try:
        yield runner
    finally:
        runner.close()


@pytest.mark.deploy
def test_the_recipe_works_from_a_clean_clone(recipe):
    """Run after committing: the clone has the committed HEAD, not the working tree."""
    commands = recipe_commands(DOC.read_text())

    for command in commands:
        recipe.run(command)

    assert recipe.executed == commands  # all of them, in the document's order
    assert recipe.answers and all('"status": "ok"' in a for a in recipe.answers), recipe.answers
    check = recipe.log.read_text()
    assert "System check identified no issues" in check
    assert "pong" in check  # celery inspect ping: both workers answered
    assert (recipe.root / "var/backups/coursebench.dump").stat().st_size > 0
