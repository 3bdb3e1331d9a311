"""Job list, job detail and Run now."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.access import get_job, role_in
from app.errors import Conflict, ValidationFailed
from app.jobs.drafts import drafts_of, duplicate_job
from app.jobs.queries import SORTS, jobs_page
from app.jobs.schedule import recent_misses, schedule_summary
from app.jobs.service import definition_of, set_scheduled
from app.models import Role
from app.runs.buckets import bucket_counts
from app.runs.create import start_run
from app.runs.queries import run_counts, runs_page
from app.runs.removal import delete_job
from app.web.helpers import workspace_for

bp = Blueprint("jobs", __name__, url_prefix="/w/<ws>/jobs")
JOBS_PER_PAGE = 25


@bp.get("")
@login_required
def index(ws: str) -> str:
    workspace = workspace_for(ws)
    q = (request.args.get("q") or "").strip()[:200] or None
    sort = request.args.get("sort") if request.args.get("sort") in SORTS else "name"
    direction = "desc" if request.args.get("dir") == "desc" else "asc"
    page = max(request.args.get("page", 1, type=int), 1)
    jobs = jobs_page(
        workspace.id, q=q, sort=sort, direction=direction, page=page, per_page=JOBS_PER_PAGE
    )
    may_edit = role_in(current_user, workspace).rank >= Role.editor.rank
    return render_template(
        "jobs/index.html",
        workspace=workspace,
        drafts=drafts_of(workspace, current_user) if may_edit else [],
        jobs=jobs.items,
        run_counts=run_counts(workspace.id, [job.id for job in jobs.items]),
        has_next=jobs.has_next,
        page=page,
        q=q,
        sort=sort,
        direction=direction,
        can_create=role_in(current_user, workspace).rank >= Role.editor.rank,
    )


def _detail(ws: str, code: str, errors: dict[str, str] | None = None, status: int = 200):
    workspace = workspace_for(ws)
    job = get_job(workspace, code, current_user)
    runs = runs_page(workspace.id, job_id=job.id, per_page=10).items
    can_run = role_in(current_user, workspace).rank >= Role.editor.rank
    return render_template(
        "jobs/detail.html",
        workspace=workspace,
        job=job,
        definition=definition_of(job),
        runs=[(run, bucket_counts(run.id)) for run in runs],
        run_count=run_counts(workspace.id, [job.id]).get(job.id, 0),
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


def _back(workspace_code: str, code: str | None = None) -> str:
    """Where a job action returns to: the Jobs list when it was used there, else the job."""
    if request.form.get("from") == "list" or code is None:
        return url_for("jobs.index", ws=workspace_code)
    return url_for("jobs.detail", ws=workspace_code, code=code)


@bp.post("/<code>/delete")
@login_required
def delete(ws: str, code: str) -> Response:
    """Delete a job and its runs; refused, with the reason, while a run is in progress."""
    workspace = workspace_for(ws)
    job = get_job(workspace, code, current_user, Role.editor)
    try:
        delete_job(workspace, current_user, job)
    except Conflict as exc:
        flash(str(exc), "error")
        return redirect(_back(workspace.code, job.code), code=303)
    flash(f"Job '{code}' deleted.", "success")
    return redirect(url_for("jobs.index", ws=workspace.code), code=303)


@bp.post("/<code>/duplicate")
@login_required
def duplicate(ws: str, code: str) -> Response:
    """Open the wizard on a copy of the job (a new draft with a new code)."""
    workspace = workspace_for(ws, Role.editor)
    draft = duplicate_job(workspace, current_user, get_job(workspace, code, current_user))
    flash(
        f"This is a copy of '{code}' with the code '{draft.data['code']}'; scheduled generation "
        "is off until you turn it on. Nothing is saved until you save the job.",
        "info",
    )
    return redirect(
        url_for("wizard.step", ws=workspace.code, draft_id=draft.id, step="configuration"), 303
    )


@bp.post("/<code>/pause")
@login_required
def pause(ws: str, code: str) -> Response:
    """Stop scheduled generation (Run now still works)."""
    return _set_scheduled(ws, code, on=False)


@bp.post("/<code>/resume")
@login_required
def resume(ws: str, code: str) -> Response:
    """Start scheduled generation again, from the next fire time after now."""
    return _set_scheduled(ws, code, on=True)


def _set_scheduled(ws: str, code: str, *, on: bool) -> Response:
    workspace = workspace_for(ws)
    job = get_job(workspace, code, current_user, Role.editor)
    try:
        set_scheduled(workspace, current_user, job, on)
    except ValidationFailed as exc:
        flash("; ".join(exc.errors.values()), "error")
    else:
        state = "resumed" if on else "paused"
        flash(f"Scheduled generation of '{job.name}' {state}.", "success")
    return redirect(_back(workspace.code, job.code), code=303)
