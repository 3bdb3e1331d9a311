"""`flask --app wsgi tokens create`: a Personal Access Token without the browser."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.commands.jobs import _fail, _workspace
from app.errors import HeraldError
from app.extensions import db
from app.models import User
from app.tokens import create_token

tokens_cli = AppGroup("tokens", help="Personal Access Tokens for the API.")


@tokens_cli.command("create")
@click.option("--user", "email", required=True, help="the token acts as this user")
@click.option("--workspace", required=True, help="workspace code")
@click.option(
    "--permissions",
    default="jobs:read",
    show_default=True,
    help="comma separated: jobs:read, jobs:write",
)
@click.option("--expires-days", type=int, default=90, show_default=True, help="0 = never expires")
@click.option("--name", default="command line", show_default=True)
def create_command(
    email: str, workspace: str, permissions: str, expires_days: int, name: str
) -> None:
    """Create a token and print it (only the token, so scripts can capture it)."""
    user = db.session.scalars(db.select(User).filter_by(email=email.lower())).first()
    if user is None:
        raise click.ClickException(f"no user '{email}'")
    try:
        _, text = create_token(
            user,
            _workspace(workspace),
            name=name,
            permissions=[p.strip() for p in permissions.split(",") if p.strip()],
            expires_days=expires_days or None,
        )
    except HeraldError as exc:
        raise _fail(exc) from None
    click.echo(text)
