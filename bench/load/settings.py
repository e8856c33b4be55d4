"""Settings for the load benchmark's web server and worker (bench/load/run.py): the production
settings plus the query-counting middleware. Production never imports this module, so the
counter costs production nothing."""

from config.settings import *  # noqa: F403
from config.settings import MIDDLEWARE

# First, so it counts every query of the request: session, user, the view, the messages.
MIDDLEWARE = ["bench.load.querycount.QueryCountMiddleware", *MIDDLEWARE]
