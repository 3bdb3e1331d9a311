"""Job definitions that are known to fail, as issue #11 (kind 6) lists them: each must be
refused beside its field, with nothing saved, by the API and `jobs import` alike (the
wizard's own tests post the same examples through its forms)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.extensions import db
from app.jobs.service import export_job
from app.models import DataSource, Job, Workspace

DEMO_DEFINITION = json.loads(
    (Path(__file__).parent.parent / "app/demo/monthly-statements.json").read_text()
)


def _invalid_to(d: dict) -> None:
    d["deliveries"][0]["to"] = "not-an-email"


def _blank_email(d: dict) -> None:
    d["deliveries"].append({"kind": "email"})


def _never_fires(d: dict) -> None:
    d["scheduled"] = True
    d["schedule"] = {"start": "2020-01-01T07:00", "timezone": "UTC", "trigger": "once"}


def _refused_query(d: dict) -> None:
    ws = db.session.scalars(db.select(Workspace).filter_by(code="demo")).one()
    customers = db.session.scalars(db.select(DataSource).filter_by(code="customers")).one()
    db.session.add(
        DataSource(
            workspace_id=ws.id,
            code="dropped",
            name="A table dropped since",
            kind="sql",
            connection_id=customers.connection_id,
            query="SELECT id, name FROM customers_2019",
        )
    )
    db.session.commit()
    d["data_sources"].append({"alias": "old", "source": "dropped"})


def _missing_column(d: dict) -> None:
    d["reports"][0]["bindings"]["customerId"] = {"column": "customer_no"}


def _unbound_query(d: dict) -> None:
    d["data_sources"].append({"alias": "tx", "source": "transactions"})


# name → (change to the demo definition, field, what the message says)
EXAMPLES: dict[str, tuple[Callable[[dict], None], str, str]] = {
    "invalid literal To": (_invalid_to, "deliveries.0.to", "not-an-email"),
    "email left blank": (_blank_email, "deliveries.1.to", "Enter at least one recipient"),
    "schedule that never fires": (
        _never_fires,
        "schedule",
        "This one-time schedule already fired at 2020-01-01T07:00:00+00:00. A scheduled job "
        "must fire",
    ),
    "query its database refuses": (
        _refused_query,
        "data_sources.1.source",
        "data source 'dropped' fails: query failed: no such table: customers_2019",
    ),
    "column the repeating source lacks": (
        _missing_column,
        "reports.0.bindings.customerId",
        "the Repeating data source 'customers' returns no column 'customer_no' "
        "(it returns id, name, email, address, city, postcode, country)",
    ),
    "bind no parameter provides": (
        _unbound_query,
        "data_sources.1.source",
        "data source 'transactions' needs :customerId, which no job parameter provides",
    ),
}
def example_params() -> list[Any]:
    return [pytest.param(name) for name in EXAMPLES]


def broken_definition(name: str, code: str = "monthly-statements") -> tuple[dict, str, str]:
    """The demo job's definition with example `name` applied: (definition, field, message)."""
    change, field, message = EXAMPLES[name]
    definition = copy.deepcopy(DEMO_DEFINITION)
    definition["code"] = code
    change(definition)
    return definition, field, message


def saved_jobs() -> list[tuple[str, dict]]:
    """Every saved job's code and definition, to show that a refusal changed nothing."""
    db.session.expire_all()
    return [(job.code, export_job(job)) for job in db.session.scalars(db.select(Job))]
