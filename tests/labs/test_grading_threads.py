"""GRADING_THREADS: how many CPU threads one grading job may use, from the environment."""

import pytest

from labs import services
from labs.grading import engine
from labs.grading.engine import GradingLimits
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


def _grade_one() -> str:
    dataset = HeldOutDatasetFactory()
    submission = SubmissionFactory(lab=dataset.lab)
    return services.submission_grade(submission_id=submission.pk)


@pytest.mark.parametrize(("setting", "expected"), [(0, None), (1, 1), (3, 3)])
def test_the_setting_reaches_the_engine(settings, captured_limits, setting, expected):
    settings.GRADING_THREADS = setting

    assert _grade_one() == "failed: load_failed"  # where the fake engine stopped it

    assert [limits.threads for limits in captured_limits] == [expected]


def test_the_engine_refuses_a_thread_count_below_one():
    with pytest.raises(ValueError, match="threads must be at least 1"):
        GradingLimits(threads=0)
    assert GradingLimits(threads=2).threads == 2
