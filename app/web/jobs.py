"""Job list, job detail and Run now."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import Select, case, func, or_, select
from werkzeug.wrappers import Response

from app.access import get_job, role_in
from app.errors import ValidationFailed
from app.extensions import db
from app.jobs.drafts import drafts_of
from app.jobs.schedule import recent_misses, schedule_summary
from app.jobs.service import definition_of
from app.models import Job, Role, Run, Workspace
from app.runs.buckets import bucket_counts
from app.runs.create import start_run
from app.web.helpers import workspace_for

bp = Blueprint("jobs", __name__, url_prefix="/w/<ws>/jobs")
JOBS_PER_PAGE = 25
# Sortable columns; jobs with no value (never run, manual only) come last in either direction.
SORTS = {
    "name": func.lower(Job.name),
    "code": Job.code,
    "next_run": case((Job.scheduled, Job.next_fire_at), else_=None),
    "last_run": Job.last_run_at,
}


@bp.get("")
@login_required
def index(ws: str) -> str:
    workspace = workspace_for(ws)
    q = (request.args.get("q") or "").strip()[:200] or None
    sort = request.args.get("sort") if request.args.get("sort") in SORTS else "name"
    direction = "desc" if request.args.get("dir") == "desc" else "asc"
    page = max(request.args.get("page", 1, type=int), 1)
    jobs = db.session.scalars(
        _job_list(workspace, q, sort, direction)
        .limit(JOBS_PER_PAGE + 1)
        .offset((page - 1) * JOBS_PER_PAGE)
    ).all()
    may_edit = role_in(current_user, workspace).rank >= Role.editor.rank
    return render_template(
        "jobs/index.html",
        workspace=workspace,
        drafts=drafts_of(workspace, current_user) if may_edit else [],
        jobs=jobs[:JOBS_PER_PAGE],
        has_next=len(jobs) > JOBS_PER_PAGE,
        page=page,
        q=q,
        sort=sort,
        direction=direction,
        can_create=role_in(current_user, workspace).rank >= Role.editor.rank,
    )


def _job_list(workspace: Workspace, q: str | None, sort: str, direction: str) -> Select:
    """The workspace's jobs matching `q` (name, code or description), in the asked order."""
    query = select(Job).filter_by(workspace_id=workspace.id)
    if q:
        query = query.where(
            or_(*(c.icontains(q, autoescape=True) for c in (Job.name, Job.code, Job.description)))
        )
    column = SORTS[sort]
    ordered = column.desc() if direction == "desc" else column.asc()
    return query.order_by(column.is_(None), ordered, Job.name, Job.id)


def _detail(ws: str, code: str, errors: dict[str, str] | None = None, status: int = 200):
    workspace = workspace_for(ws)
    job = get_job(workspace, code, current_user)
    runs = db.session.scalars(
        select(Run).filter_by(job_id=job.id).order_by(Run.id.desc()).limit(10)
    ).all()
    can_run = role_in(current_user, workspace).rank >= Role.editor.rank
    return render_template(
        "jobs/detail.html",
        workspace=workspace,
        job=job,
        definition=definition_of(job),
        runs=[(run, bucket_counts(run.id)) for run in runs],
        schedule=schedule_summary(job),
        misses=recent_misses(job),
        can_run=can_run,
        drafts=drafts_of(workspace, current_user, job) if can_run else [],
        errors=errors or {},
        values=request.form,
    ), status


@bp.get("/<code>")
@login_required
def detail(ws: str, code: str):
    return _detail(ws, code)


@bp.post("/<code>/runs")
@login_required
def run_now(ws: str, code: str) -> Response:
    workspace = workspace_for(ws)
    job = get_job(workspace, code, current_user, Role.editor)
    params = {
        key.removeprefix("param."): value
        for key, value in request.form.items()
        if key.startswith("param.")
    }
    try:
        run = start_run(job, current_user, trigger="manual", params=params)
    except ValidationFailed as exc:
        return _detail(ws, code, exc.errors, 422)
    flash(f"Run {run.id} started.", "success")
    return redirect(url_for("runs.detail", ws=workspace.code, run_id=run.id), code=303)
