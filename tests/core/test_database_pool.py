"""Django's psycopg 3 pool (config/env.py) caps the server connections one process can hold:
many threads querying at once share at most `max_size` connections, and hand them back.

Runs on PostgreSQL, like the suite (`make test`, /work/bin/cbtest): the point is the server's
own count of connections, which SQLite has no notion of.
"""

import threading

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from config.env import DatabasePool, env_database_pool, parse_database_url

COUNT_CONNECTIONS = (
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE datname = current_database() AND backend_type = 'client backend'"
)


def server_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(COUNT_CONNECTIONS)
        return cursor.fetchone()[0]


@pytest.fixture
def pool_max_size() -> int:
    assert connection.vendor == "postgresql", (
        "This test measures PostgreSQL's connections: run the suite with "
        "DATABASE_URL=postgres://... (make test and /work/bin/cbtest do)."
    )
    pool = connection.settings_dict["OPTIONS"].get("pool")
    assert pool, "The PostgreSQL test database must run pooled (DATABASE_POOL=1, the default)."
    assert connection.settings_dict["CONN_MAX_AGE"] == 0
    return pool["max_size"]


@pytest.mark.django_db(transaction=True)
def test_threads_querying_at_once_never_hold_more_than_max_size_connections(pool_max_size):
    connection.close()  # the test's own thread gives its connection back to the pool first
    # Each group of max_size threads holds its connections together at the barrier, so the
    # last one in sees the pool full; the threads after them queue in the pool until freed.
    threads_count = pool_max_size * 3
    barrier = threading.Barrier(pool_max_size, timeout=60)
    seen: list[int] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            seen.append(server_connections())
            barrier.wait()
        except BaseException as exc:  # reported below: a thread's exception is otherwise lost
            errors.append(exc)
        finally:
            connection.close()  # back to the pool, as Django does at the end of a request

    threads = [threading.Thread(target=work) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(seen) == threads_count
    assert max(seen) == pool_max_size
    stats = connection.pool.get_stats()
    assert stats["pool_size"] <= pool_max_size
    assert stats.get("requests_waiting", 0) == 0
    # Returned, not leaked: after the threads end every pooled connection is idle again.
    assert stats["pool_available"] == stats["pool_size"]
    assert server_connections() <= pool_max_size


def test_a_pooled_postgresql_config_has_conn_max_age_zero_and_the_sizes():
    db = parse_database_url("DATABASE_URL", "postgres://cb@db:5432/cb")
    config = db.as_django(pool=DatabasePool(min_size=2, max_size=8, timeout=5))
    assert config["CONN_MAX_AGE"] == 0
    assert config["OPTIONS"]["pool"] == {"min_size": 2, "max_size": 8, "timeout": 5}


def test_sqlite_never_gets_a_pool():
    db = parse_database_url("DATABASE_URL", "sqlite:////srv/cb/db.sqlite3")
    config = db.as_django(pool=DatabasePool())
    assert "pool" not in config["OPTIONS"]


def test_the_pool_is_on_by_default_and_off_with_database_pool_0(monkeypatch):
    for name in ("DATABASE_POOL", "DATABASE_POOL_MIN_SIZE", "DATABASE_POOL_MAX_SIZE"):
        monkeypatch.delenv(name, raising=False)
    assert env_database_pool() == DatabasePool()
    monkeypatch.setenv("DATABASE_POOL", "0")
    assert env_database_pool() is None


def test_a_max_size_below_min_size_is_refused(monkeypatch):
    monkeypatch.setenv("DATABASE_POOL_MIN_SIZE", "5")
    monkeypatch.setenv("DATABASE_POOL_MAX_SIZE", "2")
    with pytest.raises(ImproperlyConfigured, match="ceiling must be at least its floor"):
        env_database_pool()
