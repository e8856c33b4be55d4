"""Thin Celery tasks: take ids, call a service."""

from celery import shared_task

from gradebook import refresh


@shared_task(ignore_result=True)
def student_refresh(course_id: int, student_id: int, version: int) -> None:
    # Idempotent: a repeat, or a version a later run already covered, does nothing.
    refresh.refresh_request_run(course_id=course_id, student_id=student_id, version=version)
