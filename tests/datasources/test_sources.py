"""Data sources: read-only SQL with binds, row limit and timeout; CSV and JSON; parameters."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import make_url

from app.datasources.fetch import parse_csv, parse_json_rows
from app.datasources.parameters import resolve_parameters
from app.datasources.sql import (
    DatabaseUnreachable,
    QueryError,
    connection_url,
    iter_query,
    query_columns,
    run_query,
)
from app.errors import ValidationFailed
from app.jobs.schema import ParameterDef


@pytest.fixture
def crm(tmp_path):
    path = tmp_path / "crm.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, joined DATE)")
        conn.executemany(
            "INSERT INTO people (name, joined) VALUES (?, ?)",
            [(f"p{n}", "2026-01-0" + str(n % 9 + 1)) for n in range(50)],
        )
    return connection_url(
        {"url": f"sqlite:///{path}"}, {}, sqlite_dir=tmp_path, herald_url="sqlite:///herald.db"
    )


def query(url, sql, binds=None, row_limit=1000, timeout=2):
    return run_query(url, sql, binds or {}, row_limit=row_limit, timeout_seconds=timeout)


def test_binds_are_parameters_not_sql(crm):
    rows = query(crm, "SELECT name FROM people WHERE id = :id", {"id": 3, "unused": 1})
    assert rows == [{"name": "p2"}]
    assert query(crm, "SELECT name FROM people WHERE name = :n", {"n": "p1' OR '1'='1"}) == []


def test_a_missing_bind_names_the_parameter(crm):
    with pytest.raises(ValidationFailed) as caught:
        query(crm, "SELECT * FROM people WHERE id = :customerId")
    assert caught.value.errors == {"params.customerId": "query needs parameter ':customerId'"}


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM people",
        "UPDATE people SET name = 'x'",
        "DROP TABLE people",
        "PRAGMA writable_schema = ON",
        "ATTACH DATABASE '/tmp/x.db' AS x",
    ],
)
def test_only_reading_statements_run(crm, sql):
    with pytest.raises(QueryError, match="only SELECT"):
        query(crm, sql)


def test_a_select_that_writes_is_refused_by_the_read_only_connection(crm):
    with pytest.raises(QueryError, match="attempt to write a readonly database"):
        query(crm, "WITH x AS (SELECT 1) INSERT INTO people (name) SELECT 'x' FROM x")
    with pytest.raises(QueryError, match="one statement at a time"):
        query(crm, "SELECT 1; DELETE FROM people")
    assert len(query(crm, "SELECT * FROM people")) == 50


def test_more_rows_than_the_limit_is_an_error_not_a_silent_cut(crm):
    with pytest.raises(QueryError, match="more than 10 rows"):
        query(crm, "SELECT * FROM people", row_limit=10)
    assert len(query(crm, "SELECT * FROM people", row_limit=50)) == 50


def test_a_query_running_past_the_timeout_is_stopped(crm):
    endless = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
    )
    with pytest.raises(QueryError, match="query timed out"):
        query(crm, endless, timeout=1)


def test_an_sql_error_is_reported_readably(crm):
    with pytest.raises(QueryError, match="query failed: no such table: nope"):
        query(crm, "SELECT * FROM nope")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT id, name FROM people WHERE joined >= :since AND id = :id",
        "WITH recent AS (SELECT * FROM people) SELECT id, name FROM recent -- comment",
        "SELECT id, name FROM people;\n",
    ],
)
def test_the_columns_of_a_query_come_without_its_binds_or_rows(crm, sql):
    assert query_columns(crm, sql, timeout_seconds=2) == ["id", "name"]


@pytest.mark.parametrize(
    ("sql", "error"),
    [
        ("SELECT id, FROM people", "syntax error"),
        ("SELECT id FROM persons", "no such table: persons"),
        ("SELECT nickname FROM people WHERE id = :id", "no such column: nickname"),
        ("SELECT 1; DELETE FROM people", "syntax error"),
        ("DELETE FROM people", "only SELECT"),
    ],
)
def test_a_query_the_database_refuses_is_told_apart(crm, sql, error):
    with pytest.raises(QueryError, match=error) as caught:
        query_columns(crm, sql, timeout_seconds=2)
    assert not isinstance(caught.value, DatabaseUnreachable)


def test_an_unreachable_database_is_not_the_querys_fault(tmp_path):
    gone = connection_url(
        {"url": "sqlite:///gone.db"},
        {},
        sqlite_dir=tmp_path,
        herald_url=f"sqlite:///{tmp_path / 'herald.db'}",
    )
    with pytest.raises(DatabaseUnreachable):
        query_columns(gone, "SELECT 1 AS one", timeout_seconds=2)


postgresql_only = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"),
    reason="needs TEST_DATABASE_URL pointing at PostgreSQL",
)


@postgresql_only
def test_on_postgresql_a_null_binds_unknown_type_is_no_objection(app):
    # The query layer itself, on the test server (a connection to Herald's own database would
    # be refused by connection_url: see test_isolation.py).
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    columns = query_columns(
        url, "SELECT id, code FROM workspaces WHERE id = :id", timeout_seconds=2
    )
    assert columns == ["id", "code"]
    assert query_columns(url, "SELECT abs(:n) AS a", timeout_seconds=2) in (["a"], None)
    assert query_columns(url, "SELECT date_trunc('month', :p) AS m", timeout_seconds=2) is None
    with pytest.raises(QueryError, match="function nosuch\\(integer\\) does not exist"):
        query_columns(url, "SELECT nosuch(1) AS a", timeout_seconds=2)
    with pytest.raises(QueryError, match='relation "nope" does not exist'):
        query_columns(url, "SELECT * FROM nope WHERE id = :id", timeout_seconds=2)


@postgresql_only
def test_postgresql_sources_are_read_only_with_a_statement_timeout(app):
    # The query layer itself, on the test server (a connection to Herald's own database would
    # be refused by connection_url: see test_isolation.py).
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    assert make_url(url).get_backend_name() == "postgresql"
    assert query(url, "SELECT CAST(:x AS int) + 1 AS y", {"x": 41}) == [{"y": 42}]
    # Rows stream through a server-side cursor, which PostgreSQL refuses to open on a
    # writing WITH; a write it would accept is still refused by the read-only transaction.
    with pytest.raises(QueryError, match="read-only transaction|must not contain data-modif"):
        query(url, "WITH gone AS (DELETE FROM workspaces RETURNING id) SELECT * FROM gone")
    with pytest.raises(QueryError, match="read-only transaction"):
        query(url, "SELECT nextval('workspaces_id_seq')")
    with pytest.raises(QueryError, match="query timed out|statement timeout"):
        query(url, "SELECT pg_sleep(3)", timeout=1)


def test_csv_rows_and_errors():
    assert parse_csv("id,name\n1,Ada\n2,Bob\n") == [
        {"id": "1", "name": "Ada"},
        {"id": "2", "name": "Bob"},
    ]
    with pytest.raises(QueryError, match="line 3 has 3 cells but the header has 2 columns"):
        parse_csv("id,name\n1,Ada\n2,Bob,extra\n")
    with pytest.raises(QueryError, match="no header"):
        parse_csv("")


def test_json_rows_and_errors():
    assert parse_json_rows('{"a": 1}') == [{"a": 1}]
    assert parse_json_rows('[{"a": 1}, {"a": 2}]') == [{"a": 1}, {"a": 2}]
    with pytest.raises(QueryError, match="invalid JSON"):
        parse_json_rows("[{")
    with pytest.raises(QueryError, match="list of objects"):
        parse_json_rows("[1, 2]")


def params(*defs):
    return [ParameterDef(**d) for d in defs]


@pytest.mark.parametrize(
    ("default", "expected"),
    [
        ("today", "2026-03-01"),
        ("yesterday", "2026-02-28"),
        ("start_of_month", "2026-03-01"),
        ("start_of_previous_month", "2026-02-01"),
        ("end_of_previous_month", "2026-02-28"),
        ("start_of_year", "2026-01-01"),
    ],
)
def test_relative_date_defaults_are_read_in_the_zone(default, expected):
    # 1 March 2026 05:00 in Auckland is still 28 February in UTC.
    at = datetime(2026, 2, 28, 16, 0, tzinfo=UTC)
    values = resolve_parameters(
        params({"name": "d", "type": "date", "default": default}), {}, at, "Pacific/Auckland"
    )
    assert values == {"d": expected}


def test_parameters_are_typed_and_every_problem_is_named():
    declared = params(
        {"name": "n", "type": "number"},
        {"name": "flag", "type": "boolean", "default": "yes"},
        {"name": "s", "type": "string", "default": "x"},
        {"name": "d", "type": "date"},
    )
    at = datetime(2026, 1, 1, tzinfo=UTC)
    assert resolve_parameters(declared, {"n": "2.5", "d": "2026-05-01"}, at) == {
        "n": 2.5,
        "flag": True,
        "s": "x",
        "d": "2026-05-01",
    }
    with pytest.raises(ValidationFailed) as caught:
        resolve_parameters(declared, {"n": "many", "flag": "perhaps", "x": 1}, at)
    assert caught.value.errors == {
        "params.x": "unknown parameter",
        "params.n": "parameter 'n': 'many' is not a number",
        "params.flag": "parameter 'flag': 'perhaps' is not true or false",
        "params.d": "parameter 'd' has no value",
    }


def test_a_default_that_does_not_match_its_type_is_a_definition_error():
    from app.jobs.schema import parse_definition

    with pytest.raises(ValidationFailed) as caught:
        parse_definition(
            {
                "code": "x",
                "name": "x",
                "reports": [{"template": "t"}],
                "parameters": [{"name": "d", "type": "date", "default": "someday"}],
            }
        )
    assert caught.value.errors == {"parameters.0.default": "'someday' is not a date (YYYY-MM-DD)"}


def test_rows_stream_in_batches_and_the_limit_is_met_where_it_is_passed(crm):
    rows = iter_query(
        crm, "SELECT name FROM people ORDER BY id", {}, row_limit=30, timeout_seconds=2, batch=7
    )
    first = [next(rows)["name"] for _ in range(30)]  # four batches and a bit, all in order
    assert first == [f"p{n}" for n in range(30)]
    with pytest.raises(QueryError, match="more than 30 rows"):
        next(rows)
