import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str, parse_database_url


def test_env_bool_reads_common_spellings(monkeypatch):
    monkeypatch.setenv("FLAG", "Yes")
    assert env_bool("FLAG", False) is True
    monkeypatch.setenv("FLAG", "off")
    assert env_bool("FLAG", True) is False


def test_env_bool_rejects_a_typo_instead_of_defaulting(monkeypatch):
    monkeypatch.setenv("FLAG", "ture")
    with pytest.raises(ImproperlyConfigured, match="FLAG='ture' is not a boolean"):
        env_bool("FLAG", False)


def test_env_int_rejects_non_numbers_and_values_below_minimum(monkeypatch):
    monkeypatch.setenv("N", "ten")
    with pytest.raises(ImproperlyConfigured, match="not a whole number"):
        env_int("N", 1)
    monkeypatch.setenv("N", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("N", 5, minimum=1)
    monkeypatch.delenv("N")
    assert env_int("N", 5) == 5


def test_env_str_without_default_requires_the_variable(monkeypatch):
    monkeypatch.delenv("MISSING_VAR", raising=False)
    with pytest.raises(ImproperlyConfigured, match="MISSING_VAR is required"):
        env_str("MISSING_VAR")


def test_env_list_splits_and_trims(monkeypatch):
    monkeypatch.setenv("HOSTS", " a.example , b.example,,")
    assert env_list("HOSTS", []) == ["a.example", "b.example"]


def test_parse_database_url_postgres():
    db = parse_database_url("DATABASE_URL", "postgres://cb:s%40cret@db.internal:5433/coursebench")
    assert db.as_django()["ENGINE"] == "django.db.backends.postgresql"
    assert (db.user, db.password, db.host, db.port, db.name) == (
        "cb",
        "s@cret",
        "db.internal",
        "5433",
        "coursebench",
    )


def test_parse_database_url_sqlite_file():
    db = parse_database_url("DATABASE_URL", "sqlite:////srv/cb/db.sqlite3")
    assert db.as_django()["NAME"] == "/srv/cb/db.sqlite3"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://root@localhost/cb", "unsupported scheme 'mysql'"),
        ("postgres://root@localhost:5432/", "names no database"),
        ("sqlite:///", "names no file"),
    ],
)
def test_parse_database_url_rejects_what_it_cannot_use(url, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        parse_database_url("DATABASE_URL", url)
