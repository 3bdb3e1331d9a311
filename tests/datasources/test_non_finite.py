"""NaN and infinity: RFC 8259 JSON has neither, and PostgreSQL's json type refuses the `NaN`
token Python writes, so rows holding one could not be stored as a run's entries."""

from __future__ import annotations

import json
import os

import pytest
from sqlalchemy.engine import make_url

from app.datasources.fetch import parse_json_rows
from app.datasources.sql import QueryError, run_query


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_a_json_source_with_a_non_json_constant_is_refused_naming_it(token):
    with pytest.raises(QueryError, match=f"invalid JSON: {token} is not a JSON value"):
        parse_json_rows(f'[{{"amount": {token}}}]')


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"),
    reason="needs TEST_DATABASE_URL pointing at PostgreSQL (SQLite stores NaN as NULL)",
)
def test_postgresql_nan_and_infinity_arrive_as_the_text_postgresql_prints(app):
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    sql = (
        "SELECT 'NaN'::float8 AS f, '-Infinity'::float8 AS g, "
        "'NaN'::numeric AS n, 'Infinity'::numeric AS i, 1.5::numeric AS ok"
    )
    [row] = run_query(url, sql, {}, row_limit=10, timeout_seconds=5)
    assert row == {"f": "NaN", "g": "-Infinity", "n": "NaN", "i": "Infinity", "ok": 1.5}
    json.dumps(row, allow_nan=False)  # storable as a run's rows
