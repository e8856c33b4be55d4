"""`make run`'s process runner: honcho (pinned in pyproject.toml) with a longer stop grace and a
stop signal for each process's main process only.

honcho sends SIGKILL 5 s after SIGTERM, a constant it does not let you change
(nickstenning/honcho#189). A Celery worker on the embedded filesystem broker needs about that
long for its warm shutdown (it polls the broker two seconds at a time, then stops its pool), so
on a busy laptop Ctrl-C ended in SIGKILLs. 20 s lets the workers finish; one that hangs is
still killed.

honcho 2.0.0 starts each process in a session of its own and stops it with
`os.killpg(pid, SIGTERM)` (honcho/compat.py), a signal to the whole process group. For a Celery
worker that group holds its prefork pool children too: they died of the SIGTERM before the
worker's warm shutdown could stop them, and the worker logged
"Process 'ForkPoolWorker-1' ... exited with 'signal 15 (SIGTERM)'" as an ERROR. honcho has no
option for this, so the first SIGTERM goes to the process itself (the Procfile `exec`s, so that is
runserver or the Celery main process), which stops its own children; the SIGKILL after the grace
still goes to the whole group, so nothing outlives `make run`. Usage: the same arguments as
`honcho`."""

import errno
import os
import signal

import honcho.manager
from honcho.command import main
from honcho.compat import ProcessManager


class MainProcessFirst(ProcessManager):
    """honcho's process manager, with SIGTERM to the process alone rather than its group."""

    def terminate(self, pid: int) -> None:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError as e:  # already gone, as honcho's own terminate tolerates
            if e.errno not in (errno.EPERM, errno.ESRCH):
                raise


honcho.manager.KILL_WAIT = 20
honcho.manager.ProcessManager = MainProcessFirst

if __name__ == "__main__":
    main()
