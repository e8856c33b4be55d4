from celery import shared_task

from core.services import worker_ping_answer


@shared_task(soft_time_limit=10, time_limit=20)
def answer_worker_ping(ping_id: int) -> None:
    worker_ping_answer(ping_id=ping_id)
