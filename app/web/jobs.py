"""Job list, job detail and Run now."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.access import get_job, role_in
from app.errors import ValidationFailed
from app.extensions import db
from app.jobs.schedule import recent_misses, schedule_summary
from app.jobs.service import definition_of
from app.models import Job, Role, Run
from app.runs.create import start_run
from app.runs.states import bucket_counts
from app.web.helpers import workspace_for

bp = Blueprint("jobs", __name__, url_prefix="/w/<ws>/jobs")


@bp.get("")
@login_required
def index(ws: str) -> str:
    workspace = workspace_for(ws)
    jobs = db.session.scalars(
        select(Job).filter_by(workspace_id=workspace.id).order_by(Job.name)
    ).all()
    return render_template("jobs/index.html", workspace=workspace, jobs=jobs)


def _detail(ws: str, code: str, errors: dict[str, str] | None = None, status: int = 200):
    workspace = workspace_for(ws)
    job = get_job(workspace, code, current_user)
    runs = db.session.scalars(
        select(Run).filter_by(job_id=job.id).order_by(Run.id.desc()).limit(10)
    ).all()
    return render_template(
        "jobs/detail.html",
        workspace=workspace,
        job=job,
        definition=definition_of(job),
        runs=[(run, bucket_counts(run.id)) for run in runs],
        schedule=schedule_summary(job),
        misses=recent_misses(job),
        can_run=role_in(current_user, workspace).rank >= Role.editor.rank,
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
