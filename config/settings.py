"""Coursebench settings. Every deployment-specific value comes from the environment
(see `.env.example`); the defaults are the embedded ones `make run` uses."""

from datetime import timedelta
from pathlib import Path

from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from config.env import (
    env_bool,
    env_database_pool,
    env_int,
    env_list,
    env_path,
    env_str,
    parse_database_url,
    s3_settings,
    storage_backends,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = env_path("COURSEBENCH_VAR_DIR", BASE_DIR / "var")
# SQLite, the embedded broker and local storage all live here; create it on first start.
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)

_DEV_SECRET = "dev-only-insecure-secret-key-never-use-in-production"
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET if DEBUG else None)
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must not be empty.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Behind an HTTPS proxy set HTTPS=1: cookies become secure-only and HSTS is sent.
HTTPS = env_bool("HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): only this site's own scripts, styles, images, fonts
# and API calls; no inline script or event handler anywhere (the Swagger page included:
# templates/drf_spectacular/). The one relaxation, style *attributes*, is in docs/operations.md.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        # Slide decks may show images from other sites: only those named in CSP_IMG_ORIGINS.
        "img-src": [SELF, "data:", *env_list("CSP_IMG_ORIGINS", [])],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "core",
    # Accounts: profiles, invitations, password reset, email change (docs/people.md).
    "accounts",
    "courseware",
    "quizzes",
    "labs",
    # Above quizzes and labs: copies an offering into a new term (docs/courses.md).
    "offerings",
    # Above quizzes and labs: every student's results, totals and mastery (docs/gradebook.md).
    "gradebook",
    # LTI 1.3: django-lti's models (registrations, deployments, keys, contexts) and ours,
    # above every course app (docs/lti.md).
    "lti_tool",
    "lti",
    # Above the apps: composes the demo course from each of them (`load_demo`).
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves collectstatic's hashed, compressed files before any other middleware runs (see
    # "Production serving" below).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    # Before anything reads a body: refuses one over REQUEST_MAX_BYTES from its Content-Length.
    "core.middleware.RequestSizeLimitMiddleware",
    # Outside the session and CSRF middleware, so it sees their cookies: SameSite=None; Secure
    # for LTI routes and LTI-launched sessions only (docs/lti.md, "In the LMS's frame").
    "lti.middleware.FramedCookiesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Inside X-Frame-Options and CSP: frame-ancestors = the launching platform's origins, and
    # no X-Frame-Options, on LTI routes and LTI-launched sessions only (error pages included).
    "lti.middleware.FrameAncestorsMiddleware",
    # Turns a login lockout (flagged by axes' backend) into core.auth.lockout_response.
    "axes.middleware.AxesMiddleware",
    "core.middleware.ApplicationErrorMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_default_db_url = f"sqlite:///{VAR_DIR / 'coursebench.sqlite3'}"
_database = parse_database_url("DATABASE_URL", env_str("DATABASE_URL", _default_db_url))
# Pooled on PostgreSQL unless DATABASE_POOL=0 (config/env.py; sizing in docs/operations.md).
DATABASES = {"default": _database.as_django(pool=env_database_pool())}
if _database.engine.endswith("sqlite3"):
    # A file, not :memory:, so a Celery worker process started by a test sees the test data.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-coursebench.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Password hashing (issue 13, the login storm) -----------------------------------------
# Argon2id at a cost measured on the target machine (accounts/hashers.py, docs/benchmarks.md);
# PBKDF2 stays listed so existing hashes still verify, and Django re-hashes them with Argon2
# at the user's next login.
PASSWORD_HASHERS = [
    "accounts.hashers.CoursebenchArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
# --- end of password hashing ----------------------------------------------------------------

LANGUAGE_CODE = "en-au"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Login protection (django-axes) on every login path: portal, admin, API token ----------
# How many reverse proxies in front of the app append to X-Forwarded-For. 0: the header is
# the client's own say and is ignored (REMOTE_ADDR is the client). DRF's throttles and
# axes both use this one setting (core.auth.client_ip).
NUM_PROXIES = env_int("NUM_PROXIES", 0, minimum=0)
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username+address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15, minimum=1))
# Username and address together: a student behind a classroom's shared NAT address is not
# locked out by a classmate's typos, and nobody can lock a student out from elsewhere.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "core.auth.client_ip"
AXES_LOCKOUT_CALLABLE = "core.auth.lockout_response"
AXES_RESET_ON_SUCCESS = True
# The cool-off runs from the lockout, so the time in the message is the truth.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_HTTP_RESPONSE_CODE = 429

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Accounts: email, links in emails, and the throttles on account requests -------------------
# `make run` (DEBUG) writes each message to var/mail/ and prints its links on the console;
# production sends through SMTP (docs/operations.md, "Email").
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "accounts.mail.DevMailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 30
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Coursebench <coursebench@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Emails carry absolute links; a request's Host header is the client's say, so never that.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
if not SITE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"SITE_URL={SITE_URL!r} must start with https:// or http://.")
# How long invitation, password-reset and sign-up links stay valid (Django's setting, seconds).
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3 * 24 * 3600, minimum=600)

# Seconds after a quiz attempt's deadline in which an answer or submit the browser sent in
# time is still accepted (network/queueing delay; like Moodle's graceperiodmin). 0: none.
QUIZ_NETWORK_GRACE_S = env_int("QUIZ_NETWORK_GRACE_S", 15, minimum=0, maximum=600)

# Password-reset and sign-up requests per hour, per client address and per email address.
ACCOUNT_REQUESTS_PER_ADDRESS = env_int("ACCOUNT_REQUESTS_PER_ADDRESS", 20, minimum=1)
ACCOUNT_REQUESTS_PER_EMAIL = env_int("ACCOUNT_REQUESTS_PER_EMAIL", 5, minimum=1)
# Wrong join codes per hour from one client address (courseware.throttles).
JOIN_FAILURES_PER_ADDRESS = env_int("JOIN_FAILURES_PER_ADDRESS", 20, minimum=1)
# django-ratelimit counts in the cache and keys addresses like axes (core.auth.client_ip).
RATELIMIT_USE_CACHE = "default"
RATELIMIT_IP_META_KEY = "core.auth.client_ip"
# Shared by every web process, so throttles count across them: redis://HOST:6379/DB.
# Unset: each process's own memory (enough for `make run`'s single web process).
CACHE_URL = env_str("CACHE_URL", "")
if CACHE_URL and not CACHE_URL.startswith(("redis://", "rediss://")):
    raise ImproperlyConfigured(f"CACHE_URL={CACHE_URL!r} is not supported: use redis://HOST/DB.")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env_path("STATIC_ROOT", VAR_DIR / "staticfiles")
MEDIA_URL = "media/"
MEDIA_ROOT = env_path("MEDIA_ROOT", VAR_DIR / "media")
# Held-out datasets and submitted artifacts live here. No URL pattern serves this
# directory, and its storage has no base_url, so `.url()` on a private file fails.
PRIVATE_STORAGE_ROOT = env_path("PRIVATE_STORAGE_ROOT", VAR_DIR / "private")

# Where media and private files live (docs/deploy.md, "Object storage (S3)"): `local` (the
# directories above, enough for one host and `make run`) or `s3` (a bucket any host can reach:
# grading workers on other machines read held-out data and artifacts with their own keys).
STORAGE_BACKEND = env_str("STORAGE_BACKEND", "local").strip().lower()
S3 = (
    s3_settings(
        bucket=env_str("S3_BUCKET", ""),
        access_key_id=env_str("S3_ACCESS_KEY_ID", ""),
        secret_access_key=env_str("S3_SECRET_ACCESS_KEY", ""),
        endpoint_url=env_str("S3_ENDPOINT_URL", ""),
        region=env_str("S3_REGION", "us-east-1"),
        addressing_style=env_str("S3_ADDRESSING_STYLE", "path").strip().lower(),
        private_prefix=env_str("S3_PRIVATE_PREFIX", "private"),
        media_prefix=env_str("S3_MEDIA_PREFIX", "media"),
    )
    if STORAGE_BACKEND == "s3"
    else None
)
STORAGES = {
    **storage_backends(
        STORAGE_BACKEND,
        media_root=MEDIA_ROOT,
        media_url=MEDIA_URL,
        private_root=PRIVATE_STORAGE_ROOT,
        s3=S3,
    ),
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Production serving: static files (WhiteNoise) and gunicorn (docs/deploy.md) -------------
# Without DEBUG, `collectstatic` writes content-hashed, gzip/brotli-compressed copies and a
# manifest; templates' {% static %} names the hashed file, so it can be cached forever. A page
# rendered before `collectstatic` ran fails loudly (missing manifest entry) rather than linking
# files that are not there. The test suite swaps in the plain storage (tests/conftest.py) and
# tests/core/test_static_files.py runs collectstatic itself.
if not DEBUG:
    STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
# WhiteNoise's own caching is kept: hashed files are "immutable" (cached for years), any
# other file 60 s.
# Behind HTTPS: plain-HTTP requests are redirected (the proxy should redirect first), except
# the health checks, which a load balancer may call on plain HTTP inside the network. HSTS
# covers the site's own subdomains; "preload" is inert until the domain's owner submits it.
SECURE_SSL_REDIRECT = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
# /readyz waits this long (seconds) for the broker before reporting it unreachable.
READYZ_BROKER_TIMEOUT_S = env_int("READYZ_BROKER_TIMEOUT_S", 2, minimum=1)
# --- end of production serving ---------------------------------------------------------------

# Seconds each call to an LMS's LTI services (token, NRPS pages, AGS scores) may take: a hung
# LMS must not hold a worker (or a roster sync) forever (docs/lti.md).
LTI_SERVICE_TIMEOUT_S = env_int("LTI_SERVICE_TIMEOUT_S", 20, minimum=1)

DECK_MAX_BYTES = env_int("DECK_MAX_BYTES", 2 * 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = DECK_MAX_BYTES + 1024 * 1024
# The largest request body accepted at all (a lab model upload is the largest), refused with a
# 413 from its Content-Length before it is read. Each lab's max_upload_bytes (default 500 MB)
# is applied the same way by its upload views (labs.uploads); a lab limit above this one has no
# effect.
REQUEST_MAX_BYTES = env_int("REQUEST_MAX_BYTES", 1024 * 1024 * 1024, minimum=DECK_MAX_BYTES)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    # core.parsers.JSONParser refuses too deeply nested JSON with a 400 (DRF's: a 500).
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "NUM_PROXIES": NUM_PROXIES,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Coursebench API",
    "DESCRIPTION": "Courses, sessions, homework, quizzes and lab submissions. "
    "Authenticate with `Authorization: Token <key>` (create a token under Account → API token).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI is served from the installed sidecar package, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several components have a `state`/`status` field with different choices: name them.
    "ENUM_NAME_OVERRIDES": {
        "QuizStatusEnum": "quizzes.api.serializers.QUIZ_STATUSES",
        "SubmissionStatusEnum": "labs.models.Submission.Status",
        "AttemptStateEnum": "quizzes.models.Attempt.State",
        "AttemptQuestionStateEnum": "quizzes.models.AttemptQuestion.State",
        "MemberStatusEnum": "courseware.selectors.people.STATUS_CHOICES",
        "GradeItemKindEnum": "gradebook.models.GradeItem.Kind",
        "GradeHistoryFieldEnum": "gradebook.models.CellHistory.Field",
    },
}

# --- Celery -----------------------------------------------------------------------------
# Default broker: kombu's filesystem transport under var/, so `make run` needs no server.
# Set CELERY_BROKER_URL=redis://127.0.0.1:6379/0 in production.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
_BROKER_DIR = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR / "queue"),
        "data_folder_out": str(_BROKER_DIR / "queue"),
        "processed_folder": str(_BROKER_DIR / "processed"),
        # Exchange bindings; kombu's default is ./control, relative to the working directory.
        "control_folder": str(_BROKER_DIR / "control"),
        "store_processed": False,
        # Seconds between polls of the queue folder (kombu's default is 1): a worker notices a
        # stop signal within ~2.5 s, inside honcho's 5 s before it kills (`make run`, Ctrl-C).
        "polling_interval": 0.5,
    }
    for _folder in ("queue", "control"):
        (_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Longer than any grading limit, so Redis never re-delivers a task that is still running.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 2 * 3600, minimum=60),
        # Poll queues in order (-Q order, else declared), so "grading" goes before "grading_low".
        "queue_order_strategy": "priority",
    }
else:
    raise ImproperlyConfigured(
        f"CELERY_BROKER_URL={CELERY_BROKER_URL!r} is not supported: "
        "use redis://HOST:6379/DB or leave it unset for the embedded filesystem broker."
    )
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# After a Redis restart or outage, a worker reconnects however long it takes (Celery's default
# gives up after 100 tries, about 15 minutes, and the worker exits): docs/operations.md,
# "Faults and recovery".
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 300, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 360, minimum=1)
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# How long a new pool process may take to report "up" before Celery kills it and forks another.
# Celery's 4 s default is shorter than importing torch + transformers on a busy machine: when a
# pool process warmed up itself, a killed one (OOM killer, kill -9) was replaced in an endless
# kill-and-restart loop. Warm-up now runs before the fork (labs/tasks.py); this is the margin.
CELERY_WORKER_PROC_ALIVE_TIMEOUT = env_int("CELERY_WORKER_PROC_ALIVE_TIMEOUT", 30, minimum=4)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# --- Lab grading ---------------------------------------------------------------------------
# Queues: "grading" for new submissions, "grading_low" for instructor re-grades, so a
# re-grade of a whole lab never holds up students' fresh submissions. "maintenance" carries
# beat's periodic tasks to their own small worker, so the sweeper that rescues grading from a
# dead or wedged grading worker never waits on one (docs/operations.md, "Processes").
CELERY_TASK_QUEUES = (
    Queue("celery", routing_key="celery"),
    Queue("grading", routing_key="grading"),
    Queue("grading_low", routing_key="grading_low"),
    Queue("maintenance", routing_key="maintenance"),
)
CELERY_TASK_ROUTES = {
    "labs.tasks.grade_submission": {"queue": "grading"},
    "labs.tasks.regrade_submission": {"queue": "grading_low"},
    "labs.tasks.sweep_submissions": {"queue": "maintenance"},
    "quizzes.tasks.finalize_overdue_attempts": {"queue": "maintenance"},
    # LMS calls (AGS) are network-bound: on the maintenance worker, never behind grading.
    # A student's gradebook refresh after their own write: short, and never behind a lab's
    # grading on the grading queues.
    "gradebook.tasks.student_refresh": {"queue": "maintenance"},
    "lti.tasks.scores_refresh": {"queue": "maintenance"},
    "lti.tasks.score_send": {"queue": "maintenance"},
    "lti.tasks.scores_refresh_linked": {"queue": "maintenance"},
    "lti.tasks.roster_sync": {"queue": "maintenance"},
    "lti.tasks.roster_sync_linked": {"queue": "maintenance"},
}
GRADING_HEARTBEAT_INTERVAL_S = env_int("GRADING_HEARTBEAT_INTERVAL_S", 10, minimum=1)
# A RUNNING submission whose heartbeat is older than this is presumed orphaned (worker died).
GRADING_HEARTBEAT_EXPIRY_S = env_int("GRADING_HEARTBEAT_EXPIRY_S", 90, minimum=5)
# A QUEUED submission older than this is presumed to have lost its task; it is re-sent.
GRADING_STALE_QUEUED_S = env_int("GRADING_STALE_QUEUED_S", 900, minimum=30)
GRADING_SWEEP_EVERY_S = env_int("GRADING_SWEEP_EVERY_S", 60, minimum=5)
# How long a worker keeps retrying to write a finished grade while PostgreSQL is unreachable
# (a restart, a failover), and the longest wait between tries (labs/services/jobs.py).
GRADING_RECORD_RETRY_S = env_int("GRADING_RECORD_RETRY_S", 600, minimum=0)
GRADING_RECORD_RETRY_MAX_WAIT_S = env_int("GRADING_RECORD_RETRY_MAX_WAIT_S", 10, minimum=1)
# Backstop only: the engine enforces each lab's own grading time limit on the child process.
GRADING_TASK_TIME_LIMIT_S = env_int("GRADING_TASK_TIME_LIMIT_S", 3600, minimum=60)
# Import torch + transformers once per grading worker (5-7 s), in its main process before it
# forks the pool, instead of once per submission. Workers that consume no grading queue skip it.
GRADING_WARM_UP = env_bool("GRADING_WARM_UP", True)
# CPU threads one grading job uses; 0: one per CPU the worker may run on. With several worker
# processes on one machine, set it to cores / concurrency (oversubscribed threads are slower).
GRADING_THREADS = env_int("GRADING_THREADS", 0, minimum=0)
# Niceness added to each grading job's process (0-19; 0: same priority as the web server).
# Where web and grading share cores, the portal's requests then get the CPU first and grading
# takes the idle time (the load benchmark measures what it costs grading: docs/benchmarks.md).
GRADING_NICE = env_int("GRADING_NICE", 10, minimum=0, maximum=19)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "sweep-submissions": {
        "task": "labs.tasks.sweep_submissions",
        "schedule": GRADING_SWEEP_EVERY_S,
    },
    # Overdue quiz attempts are also submitted on access; this catches the abandoned ones.
    "finalize-overdue-quiz-attempts": {
        "task": "quizzes.tasks.finalize_overdue_attempts",
        "schedule": 60,
    },
    # LMS gradebooks catch up with what no grade event announces (a lab closing), and LMS
    # rosters are synced (docs/lti.md).
    "lti-scores-refresh": {
        "task": "lti.tasks.scores_refresh_linked",
        "schedule": 15 * 60,
    },
    "lti-roster-sync": {
        "task": "lti.tasks.roster_sync_linked",
        "schedule": 6 * 3600,
    },
}
_visibility = CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout")
if _visibility is not None and _visibility <= GRADING_TASK_TIME_LIMIT_S:
    raise ImproperlyConfigured(
        f"CELERY_VISIBILITY_TIMEOUT={_visibility} must exceed GRADING_TASK_TIME_LIMIT_S="
        f"{GRADING_TASK_TIME_LIMIT_S}, or Redis re-delivers grading tasks that are still running."
    )
