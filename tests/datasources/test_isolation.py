"""A workspace's SQL connection never reaches Herald's own database, by any spelling."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from app.config import sqlite_dir
from app.connections.service import save_connection
from app.datasources.fetch import fetch_rows
from app.datasources.isolation import OWN_DATABASE, DatabaseRefused, checked_url
from app.datasources.sql import QueryError
from app.errors import ValidationFailed
from app.extensions import db
from app.models import Connection
from tests import factories as make


def _herald_file(app) -> Path | None:
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    return Path(url.database) if url.get_backend_name() == "sqlite" else None


def _data_dir(app) -> Path:
    path = sqlite_dir(app)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sales_db(app, name: str = "sales.db") -> Path:
    path = _data_dir(app) / name
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE sales (region TEXT, amount INTEGER)")
        conn.execute("INSERT INTO sales VALUES ('north', 7)")
    return path


def _save(ws, url: str) -> Connection:
    return save_connection(
        ws, None, kind="sql", code="db", name="Data", settings={"url": url}, password=None
    )


def _rows(connection: Connection, query: str = "SELECT * FROM users") -> list:
    snapshot = {"code": "s", "kind": "sql", "connection_id": connection.id, "query": query}
    return fetch_rows(snapshot, {})


def _refusal(ws, url: str) -> str:
    with pytest.raises(ValidationFailed) as caught:
        _save(ws, url)
    assert set(caught.value.errors) == {"url"}
    return caught.value.errors["url"]


def test_a_file_in_the_data_directory_is_readable_by_name(app):
    _sales_db(app)
    ws = make.workspace()
    connection = _save(ws, "sqlite:///sales.db")
    assert _rows(connection, "SELECT region, amount FROM sales") == [
        {"region": "north", "amount": 7}
    ]


def test_herald_database_and_every_file_outside_the_data_directory_are_refused(app, tmp_path):
    ws = make.workspace()
    data = _data_dir(app)
    outside = tmp_path / "elsewhere.db"
    sqlite3.connect(outside).close()
    (data / "link.db").unlink(missing_ok=True)
    (data / "link.db").symlink_to(outside)
    herald = _herald_file(app) or Path(app.instance_path) / "test.db"
    spellings = [
        f"sqlite:///{herald}",  # by absolute path
        f"sqlite:////{herald}",  # with an extra slash
        f"sqlite:///{outside}",
        "sqlite:///../test.db",  # by ..
        f"sqlite:///{os.path.relpath(herald, data)}",
        "sqlite:///link.db",  # by symlink
        "sqlite:////etc/passwd",
        "sqlite:///.",  # the directory itself
    ]
    for url in spellings:
        message = _refusal(ws, url)
        assert "HERALD_SQLITE_DIR" in message
        assert app.instance_path not in message and str(tmp_path) not in message
    assert db.session.scalar(db.select(db.func.count()).select_from(Connection)) == 0


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///sales.db?mode=rw",
        "sqlite:///sales.db?uri=true",
        "sqlite:///file:sales.db",
        "sqlite:///FILE:sales.db",
    ],
)
def test_uri_filenames_and_options_are_refused(app, url):
    _sales_db(app)
    assert "no options" in _refusal(make.workspace(), url)


def test_herald_own_file_is_refused_even_inside_the_data_directory(app, monkeypatch):
    herald = _herald_file(app)
    if herald is None:
        pytest.skip("Herald's own database is PostgreSQL here: see the PostgreSQL test")
    monkeypatch.setitem(app.config, "SQLITE_DIR", str(herald.parent))
    ws = make.workspace()
    for name in (herald.name, f"./{herald.name}", f"{herald.name}-wal"):
        assert _refusal(ws, f"sqlite:///{name}") == OWN_DATABASE
    os.link(herald, herald.parent / "hard-link.db")
    try:
        assert _refusal(ws, "sqlite:///hard-link.db") == OWN_DATABASE
    finally:
        (herald.parent / "hard-link.db").unlink()


def test_the_check_is_repeated_before_every_query(app):
    """A connection saved while its file was harmless, then swapped for a symlink to Herald's
    database (or stored by an older version): the query is refused, naming no path."""
    path = _sales_db(app, "swapped.db")
    ws = make.workspace()
    connection = _save(ws, "sqlite:///swapped.db")
    assert _rows(connection, "SELECT amount FROM sales") == [{"amount": 7}]
    herald = _herald_file(app) or Path(app.instance_path) / "test.db"
    path.unlink()
    path.symlink_to(herald)
    with pytest.raises(QueryError) as caught:
        _rows(connection)
    assert "HERALD_SQLITE_DIR" in str(caught.value) and app.instance_path not in str(caught.value)
    old = make.sql_connection(ws, f"sqlite:///{herald}", code="old")
    with pytest.raises(QueryError, match="HERALD_SQLITE_DIR"):
        _rows(old)


def test_herald_own_postgresql_database_is_refused_by_any_host_alias():
    herald = "postgresql+psycopg://herald:secret@localhost:5432/herald"
    data = Path("/nonexistent")
    for url in (
        "postgresql://someone@localhost/herald",
        "postgresql://someone@127.0.0.1:6432/herald",  # another port: a pooler in front
        "postgresql://someone@[::1]/herald",
        "postgresql:///herald?host=/var/run/postgresql",
        "postgresql://herald@127.0.0.1",  # no database: libpq uses the user name
    ):
        with pytest.raises(DatabaseRefused):
            checked_url(make_url(url), sqlite_dir=data, herald_url=herald)
    for url in (
        "postgresql://someone@localhost/other?dbname=herald",
        "postgresql://someone@db.example/other?host=127.0.0.1",
        "postgresql://someone@db.example/other?service=herald",
    ):
        with pytest.raises(DatabaseRefused, match="not allowed"):
            checked_url(make_url(url), sqlite_dir=data, herald_url=herald)
    for url in (
        "postgresql://someone@localhost/sales",
        "postgresql://someone@localhost/sales?sslmode=require&connect_timeout=5",
    ):
        assert checked_url(make_url(url), sqlite_dir=data, herald_url=herald) == make_url(url)


def test_herald_own_postgresql_database_is_refused_on_save(app):
    own = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if own.get_backend_name() != "postgresql":
        pytest.skip("runs when the suite runs on PostgreSQL (TEST_DATABASE_URL)")
    ws = make.workspace()
    assert _refusal(ws, f"postgresql://{own.username}@localhost/{own.database}") == OWN_DATABASE
