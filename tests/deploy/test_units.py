"""The systemd units in deploy/systemd/ (docs/deploy.md, "systemd units"): systemd itself
accepts them, they run what the Procfile runs, and they stop the way each process needs."""

from __future__ import annotations

import re
import shlex
import subprocess

import pytest

from tests.deploy.stack import ROOT, UNITS, Unit, parse_unit, seconds

NAMES = ("coursebench-web", "coursebench-worker", "coursebench-maintenance")
INSTALL_DIR = "/srv/coursebench"
VERIFY = ("systemd-analyze", "verify", "--man=no", "--recursive-errors=no")


def _unit(name: str) -> Unit:
    return Unit.load(UNITS / f"{name}.service")


def _procfile_line(name: str) -> list[str]:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return shlex.split(line.partition(":")[2])
    raise AssertionError(f"no {name} line in the Procfile")


def test_the_three_units_are_there_under_the_names_the_docs_use():
    assert sorted(p.stem for p in UNITS.glob("*.service")) == sorted(NAMES)


@pytest.mark.deploy
def test_systemd_analyze_verify_accepts_every_unit(tmp_path):
    # verify checks every key and value and that ExecStart's program exists, so the units are
    # rendered with this checkout (whose .venv exists) in place of /srv/coursebench.
    for name in NAMES:
        text = (UNITS / f"{name}.service").read_text().replace(INSTALL_DIR, str(ROOT))
        (tmp_path / f"{name}.service").write_text(text)

    result = subprocess.run(
        [*VERIFY, *(str(tmp_path / f"{name}.service") for name in NAMES)],
        capture_output=True,
        text=True,
        timeout=60,
    )

    # Unknown keys and unparsable values are warnings with status 0 in some versions: none.
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    (tmp_path / "coursebench-web.service").write_text(
        (tmp_path / "coursebench-web.service").read_text() + "KillMod=mixed\n"
    )
    typo = subprocess.run(
        [*VERIFY, str(tmp_path / "coursebench-web.service")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "KillMod" in typo.stderr  # the check can fail


@pytest.mark.parametrize("name", NAMES)
def test_each_unit_runs_as_its_own_user_from_the_environment_file_hardened(name):
    unit = _unit(name)

    assert unit.one("User") == unit.one("Group") == "coursebench"
    assert unit.one("WorkingDirectory") == INSTALL_DIR
    assert unit.settings["EnvironmentFile"] == ["/etc/coursebench/coursebench.env"]
    assert "COURSEBENCH_ENV_FILE=" in unit.settings["Environment"]  # no stray .env as well
    assert unit.one("Restart") == "on-failure"
    assert unit.one("NoNewPrivileges") == "yes"
    assert unit.one("ProtectSystem") == "strict"
    assert unit.settings["ReadWritePaths"] == [f"{INSTALL_DIR}/var"]
    assert unit.one("PrivateTmp") == "yes"
    assert unit.argv[0].startswith(f"{INSTALL_DIR}/.venv/bin/")
    assert parse_unit((UNITS / f"{name}.service").read_text())["Install"]["WantedBy"] == [
        "multi-user.target"
    ]


def test_web_runs_gunicorn_from_its_config_and_outlasts_its_graceful_timeout():
    unit = _unit("coursebench-web")
    gunicorn_conf = (ROOT / "gunicorn.conf.py").read_text()
    graceful = int(re.search(r'"WEB_GRACEFUL_TIMEOUT_S", (\d+)', gunicorn_conf).group(1))

    assert unit.argv == [f"{INSTALL_DIR}/.venv/bin/gunicorn", "-c", "gunicorn.conf.py"]
    assert unit.one("Type") == "notify"  # gunicorn's arbiter sends READY=1
    assert (unit.one("KillSignal"), unit.one("KillMode")) == ("SIGTERM", "mixed")
    assert seconds(unit.one("TimeoutStopSec")) > graceful


@pytest.mark.parametrize(
    ("unit_name", "procfile"),
    [
        ("coursebench-worker", "worker"),
        ("coursebench-maintenance", "maintenance"),
    ],
)
def test_workers_run_the_procfiles_celery_command_and_stop_warm(unit_name, procfile):
    unit = _unit(unit_name)
    expected = [a for a in _procfile_line(procfile)[1:] if a != "--quiet"]  # after `exec`

    assert unit.argv == [f"{INSTALL_DIR}/.venv/bin/{expected[0]}", *expected[1:]]
    # SIGTERM to the main process alone is Celery's warm shutdown; to the whole group it
    # would kill the pool processes under their running jobs.
    assert (unit.one("KillSignal"), unit.one("KillMode")) == ("SIGTERM", "mixed")
    assert seconds(unit.one("TimeoutStopSec")) >= 5 * 60


def test_the_grading_worker_gives_a_running_job_fifteen_minutes_to_finish():
    unit = _unit("coursebench-worker")

    assert (
        "-Q" in unit.argv and unit.argv[unit.argv.index("-Q") + 1] == "celery,grading,grading_low"
    )
    assert seconds(unit.one("TimeoutStopSec")) == 15 * 60
    assert "PrivateDevices" not in unit.settings  # GPU grading hosts need /dev/nvidia*


def test_unit_paths_are_the_ones_docs_deploy_names():
    doc = (ROOT / "docs" / "deploy.md").read_text()

    for name in NAMES:
        assert f"{name}" in doc
    assert "/etc/coursebench/coursebench.env" in doc and INSTALL_DIR in doc


def test_the_unit_parser_keeps_every_line_of_a_repeated_key():
    units = parse_unit("[Service]\nEnvironment=A=1\nEnvironment=B=2\n")

    assert units["Service"]["Environment"] == ["A=1", "B=2"]  # both kept, in order
