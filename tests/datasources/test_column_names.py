"""Columns that share a name: a row is a dict keyed by column, so `SELECT a.id, b.id` (or a
JSON object with a key twice) would keep only the last `id` and a report would show the wrong
value without a word."""

from __future__ import annotations

import os
import sqlite3

import pytest
from sqlalchemy.engine import make_url

from app.datasources.fetch import parse_json_rows
from app.datasources.sql import QueryError, connection_url, query_columns, run_query
from app.extensions import queues
from app.runs.create import start_run
from app.runs.prepare import prepare_run
from tests.helpers import entries_of, reload_run
from tests.runs.test_prepare_odd_rows import json_job


@pytest.fixture
def crm(tmp_path):
    path = tmp_path / "crm.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER)")
        conn.execute("INSERT INTO customers VALUES (7, 'Ann')")
        conn.execute("INSERT INTO orders VALUES (1001, 7)")
    return connection_url(
        {"url": f"sqlite:///{path}"}, {}, sqlite_dir=tmp_path, herald_url="sqlite:///herald.db"
    )


JOINED = "SELECT c.id, c.name, o.id FROM customers c JOIN orders o ON o.customer_id = c.id"


def test_a_query_returning_two_columns_of_one_name_fails_naming_it(crm):
    with pytest.raises(QueryError, match="more than one column named 'id'"):
        run_query(crm, JOINED, {}, row_limit=10, timeout_seconds=2)


def test_the_columns_check_names_the_repeat_too(crm):
    with pytest.raises(QueryError, match="more than one column named 'id'"):
        query_columns(crm, JOINED, timeout_seconds=2)


def test_names_that_differ_only_in_case_are_two_columns(crm):
    sql = "SELECT c.id, o.id AS ID FROM customers c JOIN orders o ON o.customer_id = c.id"
    assert run_query(crm, sql, {}, row_limit=10, timeout_seconds=2) == [{"id": 7, "ID": 1001}]
    # SQLite names the second `ID:1` in the LIMIT 0 subquery; the query itself keeps `ID`.
    assert query_columns(crm, sql, timeout_seconds=2) == ["id", "ID"]


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"),
    reason="needs TEST_DATABASE_URL pointing at PostgreSQL",
)
def test_on_postgresql_a_repeated_column_name_fails_too(app):
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    sql = "SELECT 1 AS id, 'x' AS name, 2 AS id"
    with pytest.raises(QueryError, match="more than one column named 'id'"):
        query_columns(url, sql, timeout_seconds=2)
    with pytest.raises(QueryError, match="more than one column named 'id'"):
        run_query(url, sql, {}, row_limit=10, timeout_seconds=2)


@pytest.mark.parametrize(
    "content", ['[{"id": 1, "name": "a", "id": 2}]', '{"id": 1, "meta": {"k": 1, "k": 2}}']
)
def test_a_json_object_with_one_key_twice_is_refused_naming_it(content):
    # json.loads keeps the last of the two without a word.
    with pytest.raises(QueryError, match="has the key '(id|k)' more than once"):
        parse_json_rows(content)


def test_a_stored_json_source_with_a_repeated_key_fails_the_run(app):
    run_id = start_run(json_job('[{"name": "a", "email": "a@example.com", "name": "b"}]'), None).id
    queues.queue("generate").empty()  # the prepare job: run here instead
    prepare_run(run_id)
    run = reload_run(run_id)
    assert (run.status, entries_of(run_id)) == ("failed", [])
    assert "key 'name' more than once" in run.error
