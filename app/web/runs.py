"""Run list, the live run page, its entries, PDF downloads and Cancel."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from app import storage
from app.access import get_run, require, role_in
from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.models import Artifact, Entry, Job, Role, Run
from app.runs.create import cancel_run
from app.runs.states import BUCKETS, RunStatus, bucket_counts
from app.web.helpers import page_or_fragment, workspace_for

bp = Blueprint("runs", __name__, url_prefix="/w/<ws>")
PAGE_SIZE = 50


@bp.get("/runs")
@login_required
def index(ws: str) -> str:
    workspace = workspace_for(ws)
    page = max(request.args.get("page", 1, type=int), 1)
    runs = db.session.execute(
        select(Run, Job)
        .join(Job, Job.id == Run.job_id)
        .where(Run.workspace_id == workspace.id)
        .order_by(Run.id.desc())
        .limit(PAGE_SIZE + 1)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return render_template(
        "runs/index.html",
        workspace=workspace,
        runs=[(run, job, bucket_counts(run.id)) for run, job in runs[:PAGE_SIZE]],
        page=page,
        has_next=len(runs) > PAGE_SIZE,
    )


def _run_view(ws: str, run_id: int) -> dict:
    workspace = workspace_for(ws)
    run = get_run(workspace, run_id, current_user)
    counts = bucket_counts(run.id)
    active = run.status in (RunStatus.pending, RunStatus.preparing) or counts["queued"] > 0
    done = counts["total"] - counts["queued"]
    return {
        "workspace": workspace,
        "run": run,
        "job": run.job,
        "counts": counts,
        "active": active,
        "percent": int(100 * done / counts["total"]) if counts["total"] else 100,
        "can_write": role_in(current_user, workspace).rank >= Role.editor.rank,
    }


def _entries(run: Run, bucket: str | None, page: int) -> tuple[list[Entry], bool]:
    query = select(Entry).where(Entry.run_id == run.id)
    if bucket in BUCKETS:
        query = query.where(Entry.status.in_([s.value for s in BUCKETS[bucket]]))
    entries = db.session.scalars(
        query.order_by(Entry.seq).limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)
    ).all()
    return list(entries[:PAGE_SIZE]), len(entries) > PAGE_SIZE


@bp.get("/runs/<int:run_id>")
@login_required
def detail(ws: str, run_id: int) -> Response:
    view = _run_view(ws, run_id)
    bucket = request.args.get("bucket")
    page = max(request.args.get("page", 1, type=int), 1)
    entries, has_next = _entries(view["run"], bucket, page)
    return page_or_fragment(
        "runs/detail.html",
        "runs/_live.html",
        entries=entries,
        has_next=has_next,
        page=page,
        bucket=bucket,
        **view,
    )


@bp.post("/runs/<int:run_id>/cancel")
@login_required
def cancel(ws: str, run_id: int) -> Response:
    workspace = workspace_for(ws)
    run = get_run(workspace, run_id, current_user, Role.editor)
    try:
        cancelled = cancel_run(run, current_user)
        flash(f"Run cancelled; {cancelled} entries will not be generated.", "success")
    except ValidationFailed as exc:
        flash(str(exc), "error")
    return redirect(url_for("runs.detail", ws=workspace.code, run_id=run.id), code=303)


@bp.get("/artifacts/<int:artifact_id>/<path:filename>")
@login_required
def artifact(ws: str, artifact_id: int, filename: str) -> Response:
    workspace = workspace_for(ws)
    require(current_user, workspace, Role.viewer)
    row = db.session.execute(
        select(Artifact, Run.workspace_id)
        .join(Entry, Entry.id == Artifact.entry_id)
        .join(Run, Run.id == Entry.run_id)
        .where(Artifact.id == artifact_id)
    ).first()
    if row is None or row[1] != workspace.id or row[0].storage_key is None:
        raise NotFound("file not found")
    found = row[0]
    return send_file(
        storage.local_path(found.storage_key),
        mimetype=found.content_type,
        download_name=found.filename,
        as_attachment=request.args.get("download") == "1",
    )
