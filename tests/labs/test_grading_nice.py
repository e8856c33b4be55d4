"""GRADING_NICE: how much lower a grading job's CPU priority is than the web server's."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from labs import services
from labs.grading import engine
from labs.grading.errors import ErrorCode, GradingError
from tests.factories import HeldOutDatasetFactory, SubmissionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def captured_limits(private_storage, monkeypatch):
    """Runs submission_grade up to the engine, and records the limits it was given."""
    seen = []

    def fake_grade(*_args, limits, **_kwargs):
        seen.append(limits)
        raise GradingError(ErrorCode.LOAD_FAILED, "stopped by the test")

    monkeypatch.setattr(engine, "grade", fake_grade)
    return seen


@pytest.mark.parametrize("setting", [0, 10, 19])
def test_the_setting_reaches_the_engine(settings, captured_limits, setting):
    settings.GRADING_NICE = setting
    dataset = HeldOutDatasetFactory()
    submission = SubmissionFactory(lab=dataset.lab)

    assert services.submission_grade(submission_id=submission.pk) == "failed: load_failed"

    assert [limits.nice for limits in captured_limits] == [setting]


def test_a_niceness_outside_0_to_19_stops_start_up():
    def start(value: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "GRADING_NICE": value}
        return subprocess.run(
            [sys.executable, "-c", "import config.settings"],
            cwd=settings_dir(),
            env=env,
            capture_output=True,
            text=True,
        )

    refused = start("20")
    assert refused.returncode != 0
    assert "GRADING_NICE=20 must be at most 19" in refused.stderr
    assert start("19").returncode == 0


def settings_dir() -> Path:
    return Path(__file__).resolve().parents[2]
