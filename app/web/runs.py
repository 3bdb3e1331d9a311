"""Run list, the live run page, its entries, entry detail, Retry, Deliver, PDFs and Cancel."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app import storage
from app.access import get_delivery, get_entry, get_run, require, role_in
from app.database import utcnow
from app.errors import ValidationFailed
from app.jobs.queries import all_jobs
from app.jobs.service import job_by_code
from app.models import Entry, Role, Run, Workspace
from app.review.queue import held_position
from app.review.redeliver import (
    deliver_entries,
    retry_delivery,
    retry_failed_deliveries,
    selection_counts,
)
from app.review.thumbnails import thumbnail
from app.runs import dispatch, health
from app.runs.buckets import BUCKETS, bucket_counts
from app.runs.create import cancel_run
from app.runs.queries import MAX_QUERY, OUTCOMES, entries_page, runs_page, stored_artifact
from app.runs.states import EntryStatus, RunStatus
from app.web.helpers import is_fragment_request, page_or_fragment, workspace_for
from app.web.run_filters import date_bounds, run_filters
from app.web.timezones import viewer_zone

bp = Blueprint("runs", __name__, url_prefix="/w/<ws>")
PAGE_SIZE = 50
STATUSES = [s.value for s in EntryStatus]


@bp.get("/runs")
@login_required
def index(ws: str) -> str:
    workspace = workspace_for(ws)
    page = max(request.args.get("page", 1, type=int), 1)
    filters, errors = run_filters(request.args)
    job = job_by_code(workspace, filters["job"]) if filters["job"] else None
    if filters["job"] and job is None:
        errors["job"] = f"no job with code '{filters['job']}' in this workspace"
    bounds = date_bounds(filters["date_from"], filters["date_to"], viewer_zone())
    runs = runs_page(
        workspace.id,
        job_id=job.id if job else None,
        outcome=filters["outcome"],
        created_from=bounds[0],
        created_before=bounds[1],
        page=page,
        per_page=PAGE_SIZE,
    )
    return render_template(
        "runs/index.html",
        workspace=workspace,
        runs=[(run, run.job, bucket_counts(run.id)) for run in runs.items],
        page=page,
        has_next=runs.has_next,
        filters=filters,
        errors=errors,
        jobs=all_jobs(workspace.id),
        outcomes=OUTCOMES,
    )


def _can_write(workspace: Workspace) -> bool:
    return role_in(current_user, workspace).rank >= Role.editor.rank


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
        "waiting_for_queue": run.status == RunStatus.pending
        and dispatch.prepare_waiting(run.id, run.attempts),
        # Queued work with no worker to take it would otherwise just sit there, silently.
        "no_worker": active and health.workers_alive() is False,
        # No entries yet while the run is still being prepared: nothing is done, so an empty
        # bar (a full one read as "finished" while no worker had even started).
        "percent": int(100 * done / counts["total"]) if counts["total"] else (0 if active else 100),
        "can_write": _can_write(workspace),
    }


def _filters(args: Any) -> dict[str, Any]:
    """The entry list's filters from a query string or form; unknown values are dropped."""
    bucket = args.get("bucket")
    status = args.get("status")
    return {
        "bucket": bucket if bucket in BUCKETS else None,
        "status": status if status in STATUSES else None,
        "q": (args.get("q") or "").strip()[:MAX_QUERY] or None,
    }


def _page(args: Any) -> int:
    return max(args.get("page", 1, type=int), 1)


@bp.get("/runs/<int:run_id>")
@login_required
def detail(ws: str, run_id: int) -> Response:
    view = _run_view(ws, run_id)
    filters, page = _filters(request.args), _page(request.args)
    entries = entries_page(view["run"].id, page=page, per_page=PAGE_SIZE, **filters)
    return page_or_fragment(
        "runs/detail.html",
        "runs/_live.html",
        entries=entries.items,
        has_next=entries.has_next,
        filters=filters,
        page=page,
        page_size=PAGE_SIZE,
        statuses=STATUSES,
        **view,
    )


@bp.post("/runs/<int:run_id>/cancel")
@login_required
def cancel(ws: str, run_id: int) -> Response:
    workspace = workspace_for(ws)
    run = get_run(workspace, run_id, current_user, Role.editor)
    held_only = run.status == RunStatus.finished  # generation done: only held entries remain
    try:
        cancelled = cancel_run(run, current_user)
        flash(_cancelled_message(run.id, cancelled, held_only), "success")
    except ValidationFailed as exc:
        flash(str(exc), "error")
    return redirect(url_for("runs.detail", ws=workspace.code, run_id=run.id), code=303)


def _cancelled_message(run_id: int, cancelled: int, held_only: bool) -> str:
    """What Cancel did, in the words the run page uses (held for review, not sent)."""
    entries = f"{cancelled} entr{'y' if cancelled == 1 else 'ies'}"
    if held_only:
        return (
            f"Run #{run_id} cancelled: {entries} held for review will not be sent; "
            "entries already delivered stay delivered."
        )
    return f"Run #{run_id} cancelled: {entries} that had not finished will not be sent."


@bp.post("/runs/<int:run_id>/retry-failed")
@login_required
def retry_failed(ws: str, run_id: int) -> Response:
    workspace = workspace_for(ws)
    run = get_run(workspace, run_id, current_user, Role.editor)
    retried = retry_failed_deliveries(run, current_user)
    flash(f"{retried} failed deliver{'y' if retried == 1 else 'ies'} queued again.", "success")
    return redirect(url_for("runs.detail", ws=workspace.code, run_id=run.id), code=303)


@bp.post("/runs/<int:run_id>/deliver")
@login_required
def deliver(ws: str, run_id: int) -> Response:
    """Deliver (N selected): re-sending finished entries needs a confirmation naming the count."""
    workspace = workspace_for(ws)
    run = get_run(workspace, run_id, current_user, Role.editor)
    ids = request.form.getlist("entry_id", type=int)
    page = _page(request.form)
    filters = {**_filters(request.form), "page": page if page > 1 else None}
    back = url_for("runs.detail", ws=workspace.code, run_id=run.id, **filters)
    if not ids:
        flash("Select at least one entry to deliver.", "error")
        return redirect(back, code=303)
    confirmed_at = _confirmed_at(request.form)
    selection = selection_counts(run, ids)
    if selection["redeliver"] and confirmed_at is None:
        return page_or_fragment(
            "runs/confirm_deliver.html",
            "runs/_confirm_deliver.html",
            workspace=workspace,
            run=run,
            job=run.job,
            ids=ids,
            selection=selection,
            filters=filters,
            back=back,
            asked_at=utcnow().isoformat(),
        )
    counts = deliver_entries(
        run, ids, current_user, redeliver=confirmed_at is not None, finished_by=confirmed_at
    )
    flash(_delivered_message(counts), "success")
    return redirect(back, code=303)


def _confirmed_at(form: Mapping[str, str]) -> datetime | None:
    """When the re-send confirmation was shown, if this request confirms it (else None)."""
    try:
        asked_at = datetime.fromisoformat(form.get("confirmed", ""))
    except ValueError:
        return None
    return asked_at if asked_at.tzinfo is not None else None


def _delivered_message(counts: dict[str, int]) -> str:
    parts = []
    if counts["approved"]:
        parts.append(f"{counts['approved']} approved and queued for delivery")
    if counts["redelivered"]:
        parts.append(f"{counts['redelivered']} queued to be delivered again")
    if counts["skipped"]:
        parts.append(f"{counts['skipped']} skipped (not held for review or finished)")
    return ("Entries: " + "; ".join(parts) + ".") if parts else "Nothing to deliver."


def _entry_view(workspace: Workspace, run: Run, entry: Entry, **extra: Any) -> dict[str, Any]:
    return {
        "workspace": workspace,
        "run": run,
        "job": run.job,
        "entry": entry,
        "can_write": _can_write(workspace),
        **extra,
    }


@bp.get("/runs/<int:run_id>/entries/<int:entry_id>")
@login_required
def entry(ws: str, run_id: int, entry_id: int) -> str:
    workspace = workspace_for(ws)
    run = get_run(workspace, run_id, current_user)
    found = get_entry(run, entry_id)
    view = _entry_view(workspace, run, found, position=held_position(found))
    return render_template("runs/entry.html", **view)


@bp.get("/deliveries/<int:delivery_id>")
@login_required
def delivery(ws: str, delivery_id: int) -> Response:
    """One delivery's row (it polls itself while being sent); without htmx, its entry's page."""
    workspace = workspace_for(ws)
    run, parent, found = get_delivery(workspace, delivery_id, current_user)
    return page_or_fragment(
        "runs/entry.html",
        "runs/_delivery.html",
        **_entry_view(workspace, run, parent, delivery=found),
    )


@bp.post("/deliveries/<int:delivery_id>/retry")
@login_required
def retry(ws: str, delivery_id: int) -> Response:
    """Retry one failed delivery: htmx gets the delivery's row, a plain form its entry's page."""
    workspace = workspace_for(ws)
    run, parent, found = get_delivery(workspace, delivery_id, current_user, Role.editor)
    try:
        retry_delivery(found.id, current_user)
        notice = ("success", "Queued for another attempt.")
    except ValidationFailed as exc:
        notice = ("error", str(exc))
    if is_fragment_request():
        view = _entry_view(workspace, run, parent, delivery=found, notice=notice)
        return page_or_fragment("runs/entry.html", "runs/_delivery.html", **view)
    flash(notice[1], notice[0])
    return redirect(
        url_for("runs.entry", ws=workspace.code, run_id=run.id, entry_id=parent.id), code=303
    )


@bp.get("/artifacts/<int:artifact_id>/thumbnail.png")
@login_required
def artifact_thumbnail(ws: str, artifact_id: int) -> Response:
    """The first page of a report as a small PNG (made once, then kept); a placeholder
    picture when there is none, so a list never shows a broken image."""
    workspace = workspace_for(ws)
    found = stored_artifact(artifact_id, workspace_id=workspace.id, missing="file not found")
    key = thumbnail(found)
    if key is None:
        return redirect(url_for("static", filename="thumbnail-missing.svg"))
    return storage.send_stored(key, "thumbnail.png", "image/png", max_age=3600)


@bp.get("/artifacts/<int:artifact_id>/<path:filename>")
@login_required
def artifact(ws: str, artifact_id: int, filename: str) -> Response:
    workspace = workspace_for(ws)
    require(current_user, workspace, Role.viewer)
    found = stored_artifact(artifact_id, workspace_id=workspace.id, missing="file not found")
    return storage.send_stored(
        found.storage_key,
        found.filename,
        found.content_type,
        as_attachment=request.args.get("download") == "1",
    )
