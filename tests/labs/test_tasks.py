"""Where the Celery tasks go, and which workers warm up for grading (no worker needed)."""

import pytest
from django.conf import settings

from config.celery import app
from labs.tasks import consumes_grading

BEAT_TASKS = sorted({entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()})


def _queue_of(task_name: str) -> str:
    return app.amqp.router.route({}, task_name)["queue"].name


def test_beat_schedules_the_sweeper_the_quiz_finaliser_and_the_lms_syncs():
    assert BEAT_TASKS == [
        "labs.tasks.sweep_submissions",
        # LTI: scores no grade event announces (a lab closing), and LMS rosters (docs/lti.md).
        "lti.tasks.roster_sync_linked",
        "lti.tasks.scores_refresh_linked",
        "quizzes.tasks.finalize_overdue_attempts",
    ]


@pytest.mark.parametrize(
    "task_name", ["lti.tasks.scores_refresh", "lti.tasks.score_send", "lti.tasks.roster_sync"]
)
def test_lms_calls_go_to_the_maintenance_queue(task_name):
    assert _queue_of(task_name) == "maintenance"


@pytest.mark.parametrize("task_name", BEAT_TASKS)
def test_every_periodic_task_goes_to_the_maintenance_queue(task_name):
    assert _queue_of(task_name) == "maintenance"


@pytest.mark.parametrize(
    ("task_name", "queue"),
    [
        ("labs.tasks.grade_submission", "grading"),
        ("labs.tasks.regrade_submission", "grading_low"),
        ("labs.tasks.try_it_predict", "celery"),
    ],
)
def test_grading_work_stays_off_the_maintenance_queue(task_name, queue):
    assert _queue_of(task_name) == queue


@pytest.mark.parametrize(
    ("queues", "warms_up"),
    [
        ({"grading", "grading_low", "celery"}, True),
        ({"grading_low"}, True),
        ({"maintenance"}, False),
        ({"celery", "maintenance"}, False),
    ],
)
def test_only_a_worker_consuming_a_grading_queue_warms_up(queues, warms_up):
    assert consumes_grading(queues) is warms_up


def test_a_new_pool_process_gets_longer_to_report_up_than_celerys_4_s_default():
    assert app.conf.worker_proc_alive_timeout == settings.CELERY_WORKER_PROC_ALIVE_TIMEOUT
    assert settings.CELERY_WORKER_PROC_ALIVE_TIMEOUT > 4
