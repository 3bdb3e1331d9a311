"""Values a run must store as JSON (app.datasources.values): NaN and infinity (RFC 8259 JSON
has neither, and PostgreSQL's json type refuses the `NaN` token Python writes) and the driver
types JSON has no word for (interval, time, uuid, inet, arrays of numeric, ranges)."""

from __future__ import annotations

import ipaddress
import json
import os
import uuid
from datetime import time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.engine import make_url

from app.datasources.fetch import parse_json_rows
from app.datasources.sql import QueryError, run_query
from app.datasources.values import json_value


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_a_json_source_with_a_non_json_constant_is_refused_naming_it(token):
    with pytest.raises(QueryError, match=f"invalid JSON: {token} is not a JSON value"):
        parse_json_rows(f'[{{"amount": {token}}}]')


postgresql_only = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"),
    reason="needs TEST_DATABASE_URL pointing at PostgreSQL",
)


@postgresql_only
def test_postgresql_nan_and_infinity_arrive_as_the_text_postgresql_prints(app):
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    sql = (
        "SELECT 'NaN'::float8 AS f, '-Infinity'::float8 AS g, "
        "'NaN'::numeric AS n, 'Infinity'::numeric AS i, 1.5::numeric AS ok"
    )
    [row] = run_query(url, sql, {}, row_limit=10, timeout_seconds=5)
    assert row == {"f": "NaN", "g": "-Infinity", "n": "NaN", "i": "Infinity", "ok": 1.5}
    json.dumps(row, allow_nan=False)  # storable as a run's rows


def test_every_driver_type_becomes_a_json_value():
    row = {
        "when": time(5, 6, 7),
        "span": timedelta(days=1, hours=2, minutes=30),
        "short": timedelta(seconds=-0.5),
        "id": uuid.UUID("3e965853-5f52-4a42-9409-40be8adea3fe"),
        "ip": ipaddress.ip_address("10.0.0.1"),
        "net": ipaddress.ip_network("10.0.0.0/8"),
        "amounts": [Decimal("1.5"), Decimal("2"), Decimal("NaN")],
        "doc": {"a": [Decimal("0.25")], 1: None},
        "blob": b"\x00\xff",
    }
    converted = {k: json_value(v) for k, v in row.items()}
    assert converted == {
        "when": "05:06:07",
        "span": "P1DT2H30M",
        "short": "-PT0.5S",
        "id": "3e965853-5f52-4a42-9409-40be8adea3fe",
        "ip": "10.0.0.1",
        "net": "10.0.0.0/8",
        "amounts": [1.5, 2, "NaN"],
        "doc": {"a": [0.25], "1": None},
        "blob": None,
    }
    json.dumps(converted, allow_nan=False)


@postgresql_only
def test_postgresql_types_json_has_no_word_for_arrive_as_json(app):
    # Each of these made the row unstorable: a repeating source crashed the preparing worker.
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    sql = (
        "SELECT interval '1 day 2 hours' AS i, time '05:06:07' AS t, "
        "'3e965853-5f52-4a42-9409-40be8adea3fe'::uuid AS u, inet '10.0.0.1' AS ip, "
        "ARRAY[1.5::numeric, 2] AS arr, int4range(1, 5) AS r"
    )
    [row] = run_query(url, sql, {}, row_limit=10, timeout_seconds=5)
    assert row == {
        "i": "P1DT2H",
        "t": "05:06:07",
        "u": "3e965853-5f52-4a42-9409-40be8adea3fe",
        "ip": "10.0.0.1",
        "arr": [1.5, 2],
        "r": "[1, 5)",
    }
    json.dumps(row, allow_nan=False)
