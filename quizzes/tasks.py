"""Thin Celery tasks: call a service."""

import logging

from celery import shared_task

from quizzes import services

logger = logging.getLogger(__name__)


@shared_task(soft_time_limit=120, time_limit=150)
def finalize_overdue_attempts() -> int:
    """Submit quiz attempts whose time ran out (schedule it every minute with beat)."""
    done = services.attempts_finalize_overdue()
    if done:
        logger.info("submitted %s overdue quiz attempts", done)
    return done
