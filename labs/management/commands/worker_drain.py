import time

from django.core.management.base import BaseCommand, CommandError

from core.exceptions import ApplicationError
from labs import selectors
from labs.services import hosts


class Command(BaseCommand):
    help = (
        "Drain a grading worker: it stops taking grading and re-grading tasks (the queue's "
        "other tasks wait for other workers), finishes the job it runs, and is then safe to "
        "stop with SIGTERM. See docs/deploy.md, 'Grading hosts'."
    )

    def add_arguments(self, parser):
        parser.add_argument("worker", help="the Celery node name, e.g. grading@gpu-box")
        parser.add_argument(
            "--queue",
            action="append",
            dest="queues",
            help="a queue to stop consuming (repeatable; default: grading and grading_low)",
        )
        parser.add_argument(
            "--wait", action="store_true", help="wait until the worker's current job has ended"
        )
        parser.add_argument(
            "--timeout", type=float, default=3600.0, help="seconds --wait waits (default 3600)"
        )

    def handle(self, *args, worker: str, queues, wait: bool, timeout: float, **options):
        queues = tuple(queues or ("grading", "grading_low"))
        try:
            host = hosts.worker_host_drain(name=worker, queues=queues)
        except ApplicationError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        self.stdout.write(f"{worker}: draining (no longer taking {', '.join(queues)})")
        if not wait:
            return
        deadline = time.monotonic() + timeout
        while host.current_submission_id is not None:
            if time.monotonic() > deadline:
                raise CommandError(
                    f"{worker} still runs submission {host.current_submission_id} after "
                    f"{timeout:.0f} s; wait longer, or stop it anyway (the sweeper re-queues it)."
                )
            time.sleep(1)
            host = selectors.worker_host_get(name=worker)
        self.stdout.write(
            f"{worker}: idle; stop it now with SIGTERM (systemctl stop coursebench-worker)"
        )
