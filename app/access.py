"""Who may see and do what: lookups that 404 across workspaces and 403 on missing rights."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import selectinload

from app.errors import Forbidden, NotFound
from app.extensions import db
from app.models import Entry, EntryDelivery, Job, Membership, Role, Run, User, Workspace


def _role_memo() -> dict[tuple[int, int], Role | None]:
    # Kept on the request itself: an app context (and `g`) may outlive one request.
    return request.environ.setdefault("herald.roles", {}) if has_request_context() else {}


def remember_role(user_id: int, workspace_id: int, role: Role | None) -> None:
    """Record a role already read (with the API token) so this request does not read it again."""
    _role_memo()[(user_id, workspace_id)] = role


def role_in(user: User, workspace: Workspace) -> Role | None:
    """The user's role in the workspace, or None when not a member (looked up once a request)."""
    memo = _role_memo()
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


MAX_ROW_ID = 2**31 - 1  # ids are INTEGER columns: 32 bits in PostgreSQL


def _id_or_code(value: str | int) -> tuple[bool, int | str] | None:
    """(True, id) or (False, code) for what a path segment names; None for a number no row id
    can be (it would overflow the column)."""
    text = str(value)
    if not text.isdigit():
        return False, text
    row_id = int(text)
    return (True, row_id) if row_id <= MAX_ROW_ID else None


def _by_id_or_code(model: Any, value: str | int, **scope: Any) -> Any:
    ref = _id_or_code(value)
    if ref is None:
        return None
    by_id, key = ref
    query = select(model).filter_by(**scope, **{"id" if by_id else "code": key})
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


def get_entry(run: Run, entry_id: int) -> Entry:
    """An entry of `run` with its artifacts and deliveries (NotFound otherwise); the caller has
    already been allowed to see the run."""
    entry = db.session.scalars(
        select(Entry)
        .where(Entry.id == entry_id, Entry.run_id == run.id)
        .options(selectinload(Entry.artifacts), selectinload(Entry.deliveries))
    ).first()
    if entry is None:
        raise NotFound("entry not found")
    return entry


def get_delivery(
    workspace: Workspace, delivery_id: int, user: User | None, need: Role = Role.viewer
) -> tuple[Run, Entry, EntryDelivery]:
    """A delivery of this workspace with its run and entry (NotFound otherwise)."""
    require(user, workspace, need)
    found = db.session.execute(
        select(Run, Entry, EntryDelivery)
        .join(Entry, Entry.run_id == Run.id)
        .join(EntryDelivery, EntryDelivery.entry_id == Entry.id)
        .where(EntryDelivery.id == delivery_id, Run.workspace_id == workspace.id)
    ).first()
    if found is None:
        raise NotFound("delivery not found")
    return found.tuple()


def job_run_queries(statement: Select) -> dict[bool, Select]:
    """`statement` (which joins jobs and runs) narrowed to one run of one job, by job id (True)
    or code (False); binds `workspace_id`, `run_id`, `job`. Built once, at import: building a
    statement costs more than running it, and API run endpoints are polled."""
    narrowed = statement.where(
        Run.id == bindparam("run_id"), Run.workspace_id == bindparam("workspace_id")
    )
    return {
        True: narrowed.where(Job.id == bindparam("job")),
        False: narrowed.where(Job.code == bindparam("job")),
    }


def job_run_params(workspace_id: int, job_id_or_code: str | int, run_id: int) -> tuple[bool, dict]:
    """(by id?, binds) for a statement from `job_run_queries`; NotFound for an impossible id."""
    ref = _id_or_code(job_id_or_code)
    if ref is None or run_id > MAX_ROW_ID:
        raise NotFound("run not found")
    by_id, job = ref
    return by_id, {"run_id": run_id, "workspace_id": workspace_id, "job": job}


_JOB_RUN = job_run_queries(select(Job, Run).join(Run, Run.job_id == Job.id))


def find_job_run(workspace_id: int, job_id_or_code: str | int, run_id: int) -> tuple[Job, Run]:
    """A run of a job (by id or code) in a workspace, read in one query; NotFound otherwise.

    For callers whose right to read the workspace is already established (an API token's role).
    """
    by_id, params = job_run_params(workspace_id, job_id_or_code, run_id)
    found = db.session.execute(_JOB_RUN[by_id], params).first()
    if found is None:
        raise NotFound("run not found")
    return found.Job, found.Run


def workspaces_of(user: User) -> list[tuple[Workspace, Role]]:
    """The workspaces a user belongs to, with their role, by name."""
    rows = db.session.execute(
        select(Workspace, Membership.role)
        .join(Membership, Membership.workspace_id == Workspace.id)
        .where(Membership.user_id == user.id)
        .order_by(Workspace.name)
    ).all()
    return [(ws, Role(role)) for ws, role in rows]
