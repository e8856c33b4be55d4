"""Thin Celery tasks: take an id, call a service."""

import logging
from collections.abc import Iterable

from celery import shared_task
from celery.signals import celeryd_after_setup
from django.conf import settings

from labs import services
from labs import workers as _workers  # noqa: F401  (connects the worker-host reporting)

logger = logging.getLogger(__name__)
_HARD = settings.GRADING_TASK_TIME_LIMIT_S


# The queues whose tasks load models; only workers consuming one of them warm up.
GRADING_QUEUES = frozenset({services.GRADING_QUEUE, services.REGRADE_QUEUE})


def consumes_grading(queue_names: Iterable[str]) -> bool:
    return not GRADING_QUEUES.isdisjoint(queue_names)


@celeryd_after_setup.connect
def _warm_up_grader(sender, instance, **kwargs) -> None:
    """Import torch + transformers once in the worker's main process, before it forks its pool.

    Pool processes, and the grading children they fork, then start warm. Warming up in each
    pool process instead (worker_process_init) delayed its "up" handshake by the 5-7 s import,
    so after the OOM killer or kill -9 took one, Celery killed every replacement for missing
    the handshake deadline, forever. The -Q queues are known here (the pool does not exist
    yet), so a maintenance-only worker stays small."""
    if settings.GRADING_WARM_UP and consumes_grading(instance.app.amqp.queues.consume_from):
        from labs.grading.sandbox import warm_up

        seconds = warm_up()
        logger.info("grading warm-up: %.1f s, before forking the pool", seconds)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=_HARD - 30,
    time_limit=_HARD,
)
def grade_submission(self, submission_id: int) -> str:
    outcome = services.submission_grade(
        submission_id=submission_id, worker=self.request.hostname or ""
    )
    logger.info("submission %s: %s", submission_id, outcome)
    return outcome


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=_HARD - 30,
    time_limit=_HARD,
)
def regrade_submission(self, submission_id: int) -> str:
    outcome = services.submission_regrade(
        submission_id=submission_id, worker=self.request.hostname or ""
    )
    logger.info("regrade of submission %s: %s", submission_id, outcome)
    return outcome


@shared_task(soft_time_limit=60, time_limit=90)
def sweep_submissions() -> dict:
    report = services.submissions_sweep()
    return {"requeued": report.requeued, "failed": report.failed}


@shared_task(bind=True, soft_time_limit=120, time_limit=150)
def try_it_predict(self, prediction_id: int) -> str:
    """A "Try it" sentence: short, on the default queue so it never waits behind grading."""
    outcome = services.tryit_run(prediction_id=prediction_id, worker=self.request.hostname or "")
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
