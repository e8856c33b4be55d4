"""The local `.env` that `make run` writes: read by every entry point (so the README's commands
work as written), overridden by real environment variables, never read inside the test suite,
and no help to a production start without a SECRET_KEY."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config import env

ROOT = Path(__file__).resolve().parents[2]
PRINT_SETTINGS = "from django.conf import settings; print(settings.DEBUG, settings.SECRET_KEY)"


@pytest.fixture
def env_file(tmp_path) -> Path:
    path = tmp_path / ".env"
    path.write_text("# comment\nDEBUG=1\nSECRET_KEY=from-the-dotenv-file\nCB_TEST_ONLY=dotenv\n")
    return path


def test_a_named_env_file_is_read_and_a_real_variable_wins(env_file, monkeypatch):
    monkeypatch.setenv(env.ENV_FILE_VARIABLE, str(env_file))
    monkeypatch.setenv("SECRET_KEY", "from-the-real-environment")
    monkeypatch.delenv("CB_TEST_ONLY", raising=False)
    monkeypatch.setattr(os, "environ", os.environ.copy())  # undo what the loader sets

    assert env.load_env_file() == env_file
    assert os.environ["CB_TEST_ONLY"] == "dotenv"
    assert os.environ["SECRET_KEY"] == "from-the-real-environment"


def test_the_default_env_file_is_never_read_inside_pytest(env_file, monkeypatch):
    monkeypatch.delenv(env.ENV_FILE_VARIABLE, raising=False)
    monkeypatch.setattr(env, "DEFAULT_ENV_FILE", env_file)
    monkeypatch.delenv("CB_TEST_ONLY", raising=False)
    assert "PYTEST_VERSION" in os.environ

    assert env.load_env_file() is None
    assert "CB_TEST_ONLY" not in os.environ


def test_an_empty_variable_reads_no_file(monkeypatch):
    monkeypatch.setenv(env.ENV_FILE_VARIABLE, "")
    assert env.load_env_file() is None


def test_a_named_file_that_is_missing_fails_loudly(tmp_path, monkeypatch):
    monkeypatch.setenv(env.ENV_FILE_VARIABLE, str(tmp_path / "nope.env"))
    with pytest.raises(ImproperlyConfigured, match=r"COURSEBENCH_ENV_FILE=.*is not a file"):
        env.load_env_file()


def _manage(tmp_path, **variables: str) -> subprocess.CompletedProcess:
    """`manage.py shell -c` as a developer runs it: no pytest marker, no test settings."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTEST_VERSION", "DEBUG", "SECRET_KEY", env.ENV_FILE_VARIABLE}
    }
    clean.update(COURSEBENCH_VAR_DIR=str(tmp_path / "var"), **variables)
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", PRINT_SETTINGS],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_manage_py_reads_the_env_file(env_file, tmp_path):
    result = _manage(tmp_path, COURSEBENCH_ENV_FILE=str(env_file))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "from-the-dotenv-file"]


def test_the_real_environment_overrides_the_env_file(env_file, tmp_path):
    result = _manage(tmp_path, COURSEBENCH_ENV_FILE=str(env_file), SECRET_KEY="exported")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "exported"]


def test_production_without_a_secret_key_still_fails(tmp_path):
    result = _manage(tmp_path, COURSEBENCH_ENV_FILE="", DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY must not be empty" in result.stderr
