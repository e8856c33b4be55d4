"""Thin Celery tasks: take an id, call a service."""

import logging

from celery import shared_task
from celery.signals import worker_process_init
from django.conf import settings

from labs import services

logger = logging.getLogger(__name__)
_HARD = settings.GRADING_TASK_TIME_LIMIT_S


@worker_process_init.connect
def _warm_up_grader(**kwargs) -> None:
    """Each pool process imports torch + transformers once; submissions then run in forked
    children that inherit the warm imports, keeping per-submission overhead low."""
    if settings.GRADING_WARM_UP:
        from labs.grading.sandbox import warm_up

        warm_up()


@shared_task(
    acks_late=True, reject_on_worker_lost=True, soft_time_limit=_HARD - 30, time_limit=_HARD
)
def grade_submission(submission_id: int) -> str:
    outcome = services.submission_grade(submission_id=submission_id)
    logger.info("submission %s: %s", submission_id, outcome)
    return outcome


@shared_task(
    acks_late=True, reject_on_worker_lost=True, soft_time_limit=_HARD - 30, time_limit=_HARD
)
def regrade_submission(submission_id: int) -> str:
    outcome = services.submission_regrade(submission_id=submission_id)
    logger.info("regrade of submission %s: %s", submission_id, outcome)
    return outcome


@shared_task(soft_time_limit=60, time_limit=90)
def sweep_submissions() -> dict:
    report = services.submissions_sweep()
    return {"requeued": report.requeued, "failed": report.failed}


@shared_task(soft_time_limit=120, time_limit=150)
def try_it_predict(prediction_id: int) -> str:
    """A "Try it" sentence: short, on the default queue so it never waits behind grading."""
    outcome = services.tryit_run(prediction_id=prediction_id)
    logger.info("try-it prediction %s: %s", prediction_id, outcome)
    return outcome


@shared_task(acks_late=True, soft_time_limit=2 * 3600, time_limit=2 * 3600 + 60)
def demo_baseline_train(lab_id: int) -> str:
    """The demo lab's baseline (`make run`): train, then submit it as the instructor's
    reference. Minutes of CPU, so it has its own queue (the maintenance worker's)."""
    from labs.demo import demo_baseline_build

    outcome = demo_baseline_build(lab_id=lab_id, log=logger.info)
    logger.info("demo baseline of lab %s: %s", lab_id, outcome)
    return outcome
