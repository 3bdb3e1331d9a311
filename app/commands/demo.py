"""`flask --app wsgi demo seed`: the demo workspace, ready to run."""

from __future__ import annotations

import os

import click
from flask.cli import AppGroup

from app.demo.seed import DEMO_EMAIL, DEMO_PASSWORD, seed_demo

demo_cli = AppGroup("demo", help="The demo workspace.")


def smtp_from_env() -> dict:
    """SMTP settings for the demo's mail connection: SMTP_* variables, else the local catcher."""
    return {
        "host": os.environ.get("SMTP_HOST", "127.0.0.1"),
        "port": int(os.environ.get("SMTP_PORT", "8025")),
        "username": os.environ.get("SMTP_USER", ""),
        "password": os.environ.get("SMTP_PASSWORD", ""),
        "use_tls": os.environ.get("SMTP_TLS", "").lower() in ("1", "true", "yes"),
        "use_ssl": os.environ.get("SMTP_SSL", "").lower() in ("1", "true", "yes"),
        "from": os.environ.get("SMTP_FROM", "Northwind Billing <billing@northwind.example>"),
        "reply_to": os.environ.get("SMTP_REPLY_TO", "billing@northwind.example"),
    }


@demo_cli.command("seed")
@click.option("--customers", default=30, show_default=True, help="customers in a new demo database")
def seed_command(customers: int) -> None:
    """Create or refresh the demo workspace (idempotent)."""
    workspace = seed_demo(smtp_from_env(), customers=customers)
    click.echo(f"demo workspace '{workspace.code}' ready; log in as {DEMO_EMAIL} / {DEMO_PASSWORD}")
