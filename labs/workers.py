"""Every Celery worker reports itself to the database (the lab dashboard's worker hosts).

At `worker_ready` (the main process, after the pool has forked) it writes its row, then a
daemon thread refreshes it every GRADING_HEARTBEAT_INTERVAL_S with the queues it really
consumes: after `celery control cancel_consumer grading` they no longer include `grading`,
so the row says draining without anyone having to tell the database. `worker_shutdown`
(the end of a warm shutdown) marks it stopped. Connected from labs/tasks.py, which every
worker imports."""

from __future__ import annotations

import logging
import os
import socket
import threading

from celery.signals import worker_ready, worker_shutdown
from django.conf import settings
from django.db import connection

from labs.services import hosts

logger = logging.getLogger(__name__)

_reporter: HostReporter | None = None


def consumed_queues(app) -> set[str]:
    """The queues the worker consumes now. The consumer's thread may be deselecting one
    (cancel_consumer) while this thread reads: copy, and retry the rare mutation."""
    for _ in range(5):
        try:
            return set(app.amqp.queues.consume_from)
        except RuntimeError:  # dictionary changed size during iteration
            continue
    return set()


class HostReporter(threading.Thread):
    def __init__(self, *, name: str, app, interval: float) -> None:
        super().__init__(daemon=True, name=f"host-reporter-{name}")
        self.node = name
        self.app = app
        self.interval = interval
        self.started_with = consumed_queues(app)
        self.stop = threading.Event()

    def start_row(self) -> None:
        hosts.worker_host_start(
            name=self.node,
            hostname=socket.gethostname(),
            pid=os.getpid(),
            queues=self.started_with,
        )

    def beat(self) -> None:
        now = consumed_queues(self.app)
        try:
            alive = hosts.worker_host_heartbeat(
                name=self.node, queues=now, cancelled_queues=self.started_with - now
            )
            if not alive:  # someone deleted the row: report again
                self.start_row()
        except Exception as exc:
            # The database may be down for a while (a restart): keep the worker grading and
            # try again next interval; the dashboard shows the host offline meanwhile. One line,
            # not a traceback every interval.
            logger.warning("worker host heartbeat of %s failed: %r", self.node, exc)
        finally:
            # No connection held between beats (one per worker is cheap to reopen every
            # interval, and a pool process forked later inherits no live socket of ours).
            connection.close()

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            self.beat()


@worker_ready.connect
def _start_reporting(sender, **kwargs) -> None:
    global _reporter
    reporter = HostReporter(
        name=sender.hostname, app=sender.app, interval=settings.GRADING_HEARTBEAT_INTERVAL_S
    )
    try:
        reporter.start_row()
    except Exception as exc:  # e.g. the database is not migrated yet: the next beat retries
        logger.warning("worker host %s could not report itself: %r", reporter.node, exc)
    finally:
        connection.close()
    reporter.start()
    _reporter = reporter


@worker_shutdown.connect
def _stop_reporting(sender, **kwargs) -> None:
    global _reporter
    reporter, _reporter = _reporter, None
    if reporter is None:
        return
    reporter.stop.set()
    reporter.join(timeout=5)
    try:
        hosts.worker_host_stop(name=reporter.node)
    except Exception as exc:
        logger.warning("worker host %s could not report its stop: %r", reporter.node, exc)
    finally:
        connection.close()
