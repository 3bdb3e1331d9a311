"""The demo workspace: customers database, statement template and the monthly-statements job."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select

from app.config import sqlite_dir
from app.demo.data import build_demo_database
from app.extensions import db
from app.jobs.service import create_job
from app.models import Connection, DataSource, Job, Membership, ReportTemplate, User, Workspace
from app.outbound.secrets import set_secrets

HERE = Path(__file__).parent
DEMO_WORKSPACE = "demo"
DEMO_EMAIL = "demo@herald.local"
DEMO_PASSWORD = "herald-demo"
VIEWER_EMAIL = "viewer@herald.local"
DEMO_DATABASE = "northwind.db"

# SQLite queries on the demo database; :customerId and :period are the report's parameters.
QUERIES = {
    "customers": (
        "All customers",
        "SELECT id, name, email, address, city, postcode, country FROM customers ORDER BY id",
    ),
    "customer": ("One customer", "SELECT * FROM customers WHERE id = :customerId"),
    "transactions": (
        "Transactions of a customer in a month",
        "SELECT id, customer_id, booked_on, description, amount_cents FROM transactions "
        "WHERE customer_id = :customerId AND booked_on >= :period "
        "AND booked_on < date(:period, '+1 month') ORDER BY booked_on, id",
    ),
    "opening": (
        "Balance before a month",
        "SELECT COALESCE(SUM(amount_cents), 0) AS opening_cents FROM transactions "
        "WHERE customer_id = :customerId AND booked_on < :period",
    ),
    "monthly": (
        "Charges and payments of a customer by month (the six months up to a month)",
        "SELECT substr('JanFebMarAprMayJunJulAugSepOctNovDec', "
        "3 * CAST(substr(booked_on, 6, 2) AS INTEGER) - 2, 3) AS month, "
        "ROUND(-SUM(CASE WHEN amount_cents < 0 THEN amount_cents ELSE 0 END) / 100.0, 2) "
        'AS "Charges", '
        "ROUND(SUM(CASE WHEN amount_cents > 0 THEN amount_cents ELSE 0 END) / 100.0, 2) "
        'AS "Payments & credits" '
        "FROM transactions WHERE customer_id = :customerId "
        "AND booked_on >= date(:period, '-5 months') AND booked_on < date(:period, '+1 month') "
        "GROUP BY substr(booked_on, 1, 7) ORDER BY substr(booked_on, 1, 7)",
    ),
}


def _get_or_add(model: Any, defaults: dict[str, Any] | None = None, **key: Any) -> Any:
    item = db.session.scalars(select(model).filter_by(**key)).first()
    if item is None:
        item = model(**key, **(defaults or {}))
        db.session.add(item)
        db.session.flush()
    return item


def _member(user: User, workspace: Workspace, role: str) -> None:
    membership = _get_or_add(Membership, user_id=user.id, workspace_id=workspace.id)
    membership.role = role


def _user(email: str, name: str) -> User:
    user = db.session.scalars(select(User).filter_by(email=email)).first()
    if user is None:
        user = User(email=email, name=name)
        user.set_password(DEMO_PASSWORD)
        db.session.add(user)
        db.session.flush()
    return user


def seed_demo(smtp: dict[str, Any], customers: int = 30) -> Workspace:
    """Create the demo workspace (or bring its connections up to date); safe to run repeatedly."""
    workspace = _get_or_add(
        Workspace,
        {"name": "Northwind demo", "timezone": "America/Los_Angeles"},
        code=DEMO_WORKSPACE,
    )
    _member(_user(DEMO_EMAIL, "Demo Admin"), workspace, "admin")
    _member(_user(VIEWER_EMAIL, "Demo Viewer"), workspace, "viewer")

    # Inside the SQLite data directory: the only place a SQL connection may read files from.
    db_path = sqlite_dir(current_app) / DEMO_DATABASE
    if not db_path.exists():
        db_path.parent.mkdir(parents=True, exist_ok=True)
        earlier = Path(current_app.instance_path) / "demo" / DEMO_DATABASE
        if earlier.exists():  # where versions before HERALD_SQLITE_DIR kept it
            earlier.replace(db_path)
        else:
            build_demo_database(db_path, customers=customers)
    sql = _get_or_add(
        Connection,
        {"name": "Northwind database", "kind": "sql"},
        workspace_id=workspace.id,
        code="northwind-db",
    )
    sql.settings = {"url": f"sqlite:///{DEMO_DATABASE}"}  # relative to the data directory
    mail = _get_or_add(
        Connection,
        {"name": "Outgoing mail", "kind": "smtp", "is_default": True},
        workspace_id=workspace.id,
        code="mail",
    )
    mail.settings = {k: v for k, v in smtp.items() if k != "password"}
    set_secrets(mail, {"password": smtp.get("password", "")})

    for code, (name, query) in QUERIES.items():
        source = _get_or_add(
            DataSource, {"name": name, "kind": "sql"}, workspace_id=workspace.id, code=code
        )
        source.connection_id, source.query = sql.id, query

    _get_or_add(
        ReportTemplate,
        {
            "name": "Customer statement",
            "html": (HERE / "customer-statement.html").read_text(),
            "css": (HERE / "customer-statement.css").read_text(),
            "parameters": [
                {"name": "customerId", "type": "number", "required": True},
                {"name": "period", "type": "date", "required": True},
            ],
            "data_sources": [
                {"alias": alias, "source": alias}
                for alias in ("customer", "transactions", "opening", "monthly")
            ],
        },
        workspace_id=workspace.id,
        code="customer-statement",
    )
    db.session.commit()
    definition = json.loads((HERE / "monthly-statements.json").read_text())
    exists = db.session.scalars(
        select(Job).filter_by(workspace_id=workspace.id, code=definition["code"])
    ).first()
    if exists is None:
        create_job(workspace, None, definition)
    return workspace
