"""Who may see and do what: lookups that 404 across workspaces and 403 on missing rights."""

from __future__ import annotations

from typing import Any

from flask import g, has_request_context
from sqlalchemy import select

from app.errors import Forbidden, NotFound
from app.extensions import db
from app.models import Job, Membership, Role, Run, User, Workspace


def role_in(user: User, workspace: Workspace) -> Role | None:
    """The user's role in the workspace, or None when not a member (looked up once a request)."""
    memo = g.setdefault("herald_roles", {}) if has_request_context() else {}
    key = (user.id, workspace.id)
    if key not in memo:
        role = db.session.execute(
            select(Membership.role).filter_by(user_id=user.id, workspace_id=workspace.id)
        ).scalar_one_or_none()
        memo[key] = Role(role) if role else None
    return memo[key]


def require(user: User | None, workspace: Workspace, need: Role) -> Role:
    """NotFound for non-members (a workspace is invisible to outsiders); Forbidden if too low."""
    role = role_in(user, workspace) if user is not None else None
    if role is None:
        raise NotFound("workspace not found")
    if role.rank < need.rank:
        raise Forbidden(f"this needs the {need.value} role; you are {role.value}")
    return role


def _by_id_or_code(model: Any, value: str | int, **scope: Any) -> Any:
    query = select(model).filter_by(**scope)
    text = str(value)
    query = query.filter_by(id=int(text)) if text.isdigit() else query.filter_by(code=text)
    return db.session.execute(query).scalar_one_or_none()


def get_workspace(user: User | None, id_or_code: str | int, need: Role = Role.viewer) -> Workspace:
    workspace = _by_id_or_code(Workspace, id_or_code)
    if workspace is None:
        raise NotFound("workspace not found")
    require(user, workspace, need)
    return workspace


def get_job(
    workspace: Workspace, id_or_code: str | int, user: User | None, need: Role = Role.viewer
) -> Job:
    require(user, workspace, need)
    job = _by_id_or_code(Job, id_or_code, workspace_id=workspace.id)
    if job is None:
        raise NotFound("job not found")
    return job


def get_run(
    workspace: Workspace,
    run_id: int,
    user: User | None,
    need: Role = Role.viewer,
    job: Job | None = None,
) -> Run:
    require(user, workspace, need)
    run = db.session.get(Run, run_id)
    if run is None or run.workspace_id != workspace.id or (job and run.job_id != job.id):
        raise NotFound("run not found")
    return run


def workspaces_of(user: User) -> list[tuple[Workspace, Role]]:
    """The workspaces a user belongs to, with their role, by name."""
    rows = db.session.execute(
        select(Workspace, Membership.role)
        .join(Membership, Membership.workspace_id == Workspace.id)
        .where(Membership.user_id == user.id)
        .order_by(Workspace.name)
    ).all()
    return [(ws, Role(role)) for ws, role in rows]
