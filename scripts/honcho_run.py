"""`make run`'s process runner: honcho (pinned in pyproject.toml) with a longer stop grace.

honcho sends SIGKILL 5 s after SIGTERM, a constant it does not let you change
(nickstenning/honcho#189). A Celery worker on the embedded filesystem broker needs about that
long for its warm shutdown (it polls the broker two seconds at a time, then stops its pool), so
on a busy laptop Ctrl-C ended in SIGKILLs. 20 s lets the workers finish; one that hangs is
still killed. Usage: the same arguments as `honcho`."""

import honcho.manager
from honcho.command import main

honcho.manager.KILL_WAIT = 20

if __name__ == "__main__":
    main()
