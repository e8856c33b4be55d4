"""Typed readers for settings that come from the environment.

Each helper fails loudly (ImproperlyConfigured) on a value it cannot read, naming the
variable and what a valid value looks like, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_UNSET = object()

#: Names the local env file to read (default: `.env` at the repository root); empty: none.
ENV_FILE_VARIABLE = "COURSEBENCH_ENV_FILE"
DEFAULT_ENV_FILE = Path(__file__).resolve().parent.parent / ".env"


def load_env_file() -> Path | None:
    """Read the local env file (`KEY=VALUE` lines: the `.env` that `make run` writes with
    DEBUG=1 and a generated SECRET_KEY) into `os.environ`, so every documented command works
    in a checkout as written. A variable already in the environment always wins.

    `COURSEBENCH_ENV_FILE` names another file, or is set empty to read none. Inside a pytest
    run (pytest sets PYTEST_VERSION, and the workers the tests start inherit it) the default
    `.env` is never read, so a developer's local settings cannot change what the suite tests.
    Returns the file read, or None."""
    raw = os.environ.get(ENV_FILE_VARIABLE)
    if raw == "" or (raw is None and "PYTEST_VERSION" in os.environ):
        return None
    path = Path(raw).expanduser() if raw else DEFAULT_ENV_FILE
    if not path.is_file():
        if raw:  # asked for by name: a typo must not silently fall back to nothing
            raise ImproperlyConfigured(f"{ENV_FILE_VARIABLE}={raw!r} is not a file.")
        return None
    load_dotenv(path, override=False)
    return path


def env_str(name: str, default: str | object | None = _UNSET) -> str:
    value = os.environ.get(name)
    if value is not None:
        return value
    if default is _UNSET:
        raise ImproperlyConfigured(f"Environment variable {name} is required but not set.")
    return default  # type: ignore[return-value]


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"Environment variable {name}={raw!r} is not a boolean: "
        "use one of 1/0, true/false, yes/no, on/off."
    )


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(
            f"Environment variable {name}={raw!r} is not a whole number."
        ) from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(
            f"Environment variable {name}={value} must be at least {minimum}."
        )
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_path(name: str, default: Path) -> Path:
    raw = os.environ.get(name)
    return Path(raw).expanduser().resolve() if raw else default


@dataclass(frozen=True)
class DatabaseUrl:
    engine: str
    name: str
    user: str = ""
    password: str = ""
    host: str = ""
    port: str = ""

    def as_django(self, pool: DatabasePool | None = None) -> dict:
        """Django's DATABASES entry. With `pool` (PostgreSQL only), each process keeps a
        psycopg 3 pool of at most `pool.max_size` connections, so a threaded or multi-worker
        server can never open more than workers x max_size; Django requires CONN_MAX_AGE = 0
        with a pool (the pool, not the request cycle, decides when a connection closes)."""
        config: dict = {"ENGINE": self.engine, "NAME": self.name}
        if self.engine.endswith("postgresql"):
            config.update(
                USER=self.user,
                PASSWORD=self.password,
                HOST=self.host,
                PORT=self.port,
                CONN_MAX_AGE=0 if pool else 60,
                # With a pool, Django passes this on as the pool's `check`: a connection broken
                # by a PostgreSQL restart is replaced as it leaves the pool, not handed out.
                CONN_HEALTH_CHECKS=True,
            )
            if pool:
                config["OPTIONS"] = {"pool": pool.as_options()}
        else:
            # A worker and the web process share the SQLite file: wait for locks instead of failing.
            config["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
        return config


@dataclass(frozen=True)
class DatabasePool:
    """Sizes of the per-process psycopg 3 connection pool (docs/operations.md, "Database
    connections")."""

    min_size: int = 1
    max_size: int = 4
    timeout: int = 10

    def as_options(self) -> dict:
        return {
            "min_size": self.min_size,
            "max_size": self.max_size,
            # Seconds a request waits for a free connection before failing (PoolTimeout):
            # a full pool queues requests instead of opening connection number 101.
            "timeout": self.timeout,
        }


def env_database_pool() -> DatabasePool | None:
    """DATABASE_POOL (default on) and its sizes; None when the pool is switched off."""
    if not env_bool("DATABASE_POOL", True):
        return None
    defaults = DatabasePool()
    min_size = env_int("DATABASE_POOL_MIN_SIZE", defaults.min_size, minimum=0)
    max_size = env_int("DATABASE_POOL_MAX_SIZE", defaults.max_size, minimum=1)
    if max_size < min_size:
        raise ImproperlyConfigured(
            f"DATABASE_POOL_MAX_SIZE={max_size} is below DATABASE_POOL_MIN_SIZE={min_size}: "
            "the pool's ceiling must be at least its floor."
        )
    timeout = env_int("DATABASE_POOL_TIMEOUT", defaults.timeout, minimum=1)
    return DatabasePool(min_size=min_size, max_size=max_size, timeout=timeout)


def parse_database_url(name: str, url: str) -> DatabaseUrl:
    """Read `postgres://user:pass@host:port/db`, `sqlite:////absolute/path.sqlite3` or
    `sqlite:///relative/path.sqlite3` (the usual dj-database-url conventions)."""
    parts = urlsplit(url)
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        db_name = unquote(parts.path.lstrip("/"))
        if not db_name:
            raise ImproperlyConfigured(
                f"{name}={url!r} names no database: use postgres://USER@HOST:5432/DBNAME."
            )
        return DatabaseUrl(
            engine="django.db.backends.postgresql",
            name=db_name,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            host=parts.hostname or "",
            port=str(parts.port or ""),
        )
    if parts.scheme == "sqlite":
        path = unquote(parts.path)[1:]  # "//abs" -> "/abs", "/rel" -> "rel"
        if not path or path == "/":
            raise ImproperlyConfigured(
                f"{name}={url!r} names no file: use sqlite:////absolute/path.sqlite3."
            )
        return DatabaseUrl(engine="django.db.backends.sqlite3", name=path)
    raise ImproperlyConfigured(
        f"{name}={url!r} has an unsupported scheme {parts.scheme!r}: use postgres:// or sqlite:///."
    )


# --- Object storage (docs/deploy.md, "Object storage (S3)") ----------------------------------

#: Presigned URLs (media only: private storage hands out none) expire after this many seconds.
S3_URL_EXPIRY_S = 300


@dataclass(frozen=True)
class S3Settings:
    """What STORAGE_BACKEND=s3 needs, as read from the S3_* variables."""

    bucket: str
    access_key_id: str
    secret_access_key: str
    endpoint_url: str = ""
    region: str = "us-east-1"
    addressing_style: str = "path"
    private_prefix: str = "private"
    media_prefix: str = "media"

    def options(self, *, prefix: str) -> dict:
        """django-storages S3Storage OPTIONS for the objects under `prefix`."""
        from botocore.config import Config

        return {
            "bucket_name": self.bucket,
            "endpoint_url": self.endpoint_url or None,  # None: AWS's own endpoint
            "region_name": self.region,
            "access_key": self.access_key_id,
            "secret_key": self.secret_access_key,
            "addressing_style": self.addressing_style,
            "signature_version": "s3v4",
            "location": prefix,
            # A second upload under the same name gets a new name, never replaces the first.
            "file_overwrite": False,
            # No ACL on upload: objects get the bucket's default, which is private.
            "default_acl": None,
            # Any URL the storage makes is signed and short-lived.
            "querystring_auth": True,
            "querystring_expire": S3_URL_EXPIRY_S,
            # Reads spill to a temporary file past 1 MiB instead of holding a whole object.
            "max_memory_size": 1024 * 1024,
            # django-storages uses this Config as given (its addressing_style and
            # signature_version options are then ignored, so they are repeated here). It fails
            # within seconds when the server is unreachable (the student sees an error while
            # the request is still open) instead of botocore's 60 s and retries.
            "client_config": Config(
                s3={"addressing_style": self.addressing_style},
                signature_version="s3v4",
                connect_timeout=5,
                read_timeout=60,
                retries={"max_attempts": 2, "mode": "standard"},
            ),
        }


_S3_REQUIRED = {
    "S3_BUCKET": "the bucket's name",
    "S3_ACCESS_KEY_ID": "the access key of a user allowed to read and write the bucket",
    "S3_SECRET_ACCESS_KEY": "that access key's secret",
}


def s3_settings(
    *,
    bucket: str,
    access_key_id: str,
    secret_access_key: str,
    endpoint_url: str,
    region: str,
    addressing_style: str,
    private_prefix: str,
    media_prefix: str,
) -> S3Settings:
    """Check the S3_* values for STORAGE_BACKEND=s3 (settings.py reads them), naming every
    missing or invalid one and how to fix it."""
    given = {
        "S3_BUCKET": bucket,
        "S3_ACCESS_KEY_ID": access_key_id,
        "S3_SECRET_ACCESS_KEY": secret_access_key,
    }
    missing = [name for name, value in given.items() if not value.strip()]
    if missing:
        lines = "\n".join(f"  {name}: {_S3_REQUIRED[name]}" for name in missing)
        raise ImproperlyConfigured(
            f"STORAGE_BACKEND=s3 needs {', '.join(missing)}, not set:\n{lines}\n"
            "Set them in the environment file (see .env.example and "
            'docs/deploy.md, "Object storage (S3)"), or set STORAGE_BACKEND=local.'
        )
    if addressing_style not in {"path", "virtual"}:
        raise ImproperlyConfigured(
            f"S3_ADDRESSING_STYLE={addressing_style!r} is not supported: use path or virtual."
        )
    if endpoint_url and urlsplit(endpoint_url).scheme not in {"http", "https"}:
        raise ImproperlyConfigured(
            f"S3_ENDPOINT_URL={endpoint_url!r} is not a URL: use https://HOST[:PORT]."
        )
    for name, prefix in (("S3_PRIVATE_PREFIX", private_prefix), ("S3_MEDIA_PREFIX", media_prefix)):
        if not prefix.strip("/"):
            raise ImproperlyConfigured(
                f"{name} is empty: name a folder in the bucket, e.g. {name.split('_')[1].lower()}."
            )
    if private_prefix.strip("/") == media_prefix.strip("/"):
        raise ImproperlyConfigured(
            "S3_PRIVATE_PREFIX and S3_MEDIA_PREFIX are the same: private files must not share "
            "a folder with media."
        )
    return S3Settings(
        bucket=bucket.strip(),
        access_key_id=access_key_id.strip(),
        secret_access_key=secret_access_key,
        endpoint_url=endpoint_url.strip(),
        region=region.strip() or "us-east-1",
        addressing_style=addressing_style,
        private_prefix=private_prefix.strip("/"),
        media_prefix=media_prefix.strip("/"),
    )


def storage_backends(
    backend: str,
    *,
    media_root: Path,
    media_url: str,
    private_root: Path,
    s3: S3Settings | None = None,
) -> dict:
    """Django's STORAGES "default" (media) and "private" entries for STORAGE_BACKEND."""
    if backend == "local":
        return {
            "default": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(media_root), "base_url": "/" + media_url},
            },
            "private": {
                "BACKEND": "core.storage.PrivateFileSystemStorage",
                "OPTIONS": {"location": str(private_root)},
            },
        }
    if backend == "s3":
        if s3 is None:
            raise ImproperlyConfigured("STORAGE_BACKEND=s3 needs the S3_* settings.")
        return {
            "default": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": s3.options(prefix=s3.media_prefix),
            },
            "private": {
                "BACKEND": "core.storage.PrivateS3Storage",
                "OPTIONS": s3.options(prefix=s3.private_prefix),
            },
        }
    raise ImproperlyConfigured(f"STORAGE_BACKEND={backend!r} is not supported: use local or s3.")
