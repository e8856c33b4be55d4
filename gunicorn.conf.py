"""gunicorn settings for production (docs/deploy.md, "The web server").

Run from the repository root: `gunicorn -c gunicorn.conf.py`. Every value comes from the
environment (documented in .env.example) through config/env.py's typed readers, which also
read the local env file, so a typo fails at start-up naming the variable."""

from config.env import env_int, env_str

wsgi_app = "config.wsgi:application"
# Behind the reverse proxy on the same host: loopback only.
bind = env_str("WEB_BIND", "127.0.0.1:8000")
# Processes, and threads in each (more than 1: gunicorn's gthread worker). The default, 3
# processes of 1 thread, is what the load benchmark ran on this project's 2-core machine.
workers = env_int("WEB_CONCURRENCY", 3, minimum=1)
threads = env_int("WEB_THREADS", 1, minimum=1)
# Seconds a request may run before its worker is killed and replaced. The largest request is a
# lab model upload (REQUEST_MAX_BYTES, 1 GiB): the proxy buffers it, then hands it over on
# loopback and Django stores it; 120 s covers that with a wide margin.
timeout = env_int("WEB_TIMEOUT_S", 120, minimum=30)
# On SIGTERM, requests in flight get this long to finish (systemd's stop waits for it).
graceful_timeout = env_int("WEB_GRACEFUL_TIMEOUT_S", 30, minimum=1)
# Replace each worker after about this many requests, so a slow leak cannot grow forever.
max_requests = env_int("WEB_MAX_REQUESTS", 1000, minimum=0)
max_requests_jitter = max_requests // 10
# Access log on stdout (journald under systemd) with the time taken, %(M)s, in milliseconds.
accesslog = "-"
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
errorlog = "-"
loglevel = env_str("LOG_LEVEL", "INFO").lower()
