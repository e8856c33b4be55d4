import time

from django.core.management.base import BaseCommand, CommandError

from core.models import WorkerPing
from core.services import worker_ping_create


class Command(BaseCommand):
    help = "Send a ping task through the broker and wait until a Celery worker answers it."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait")

    def handle(self, *args, timeout: float, **options):
        ping = worker_ping_create()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ping.refresh_from_db()
            if ping.answered_at:
                waited = (ping.answered_at - ping.created_at).total_seconds()
                self.stdout.write(
                    f"worker ok: ping {ping.pk} answered by {ping.worker_host} in {waited:.2f}s"
                )
                return
            time.sleep(0.2)
        WorkerPing.objects.filter(pk=ping.pk).delete()
        raise CommandError(
            f"No Celery worker answered within {timeout:.0f}s. Start one with "
            "`celery -A config worker` and check CELERY_BROKER_URL points at the same broker."
        )
