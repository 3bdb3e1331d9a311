"""`flask --app wsgi users create`: add a person to a workspace without the browser."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.extensions import db
from app.models import Membership, Role, User, Workspace

users_cli = AppGroup("users", help="Manage people.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", default="")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--workspace", "workspace_code", required=True, help="workspace code")
@click.option("--role", type=click.Choice([r.value for r in Role]), default="editor")
def create_command(email: str, name: str, password: str, workspace_code: str, role: str) -> None:
    """Create a user (or update their password) and give them a role in a workspace."""
    workspace = db.session.scalars(db.select(Workspace).filter_by(code=workspace_code)).first()
    if workspace is None:
        workspace = Workspace(code=workspace_code, name=workspace_code)
        db.session.add(workspace)
    user = db.session.scalars(db.select(User).filter_by(email=email.lower())).first()
    if user is None:
        user = User(email=email.lower(), name=name or email.split("@")[0])
        db.session.add(user)
    user.set_password(password)
    db.session.flush()
    membership = db.session.scalars(
        db.select(Membership).filter_by(user_id=user.id, workspace_id=workspace.id)
    ).first() or Membership(user_id=user.id, workspace_id=workspace.id)
    membership.role = role
    db.session.add(membership)
    db.session.commit()
    click.echo(f"{user.email} is {role} in {workspace.code}")
