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


def env_int(
    name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
) -> int:
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
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(
            f"Environment variable {name}={value} must be at most {maximum}."
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
