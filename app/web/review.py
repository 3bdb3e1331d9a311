"""The review queue: entries held for approval, one by one or in bulk; review documents."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    request,
    url_for,
)
from flask_login import current_user, login_required

from app import storage
from app.access import get_run, require, role_in
from app.errors import Conflict, NotFound
from app.extensions import htmx
from app.models import Role
from app.review.decisions import approve_entries, reject_entries
from app.review.document import request_review_document, temporary_file
from app.review.queue import (
    ReviewFilter,
    held_ids,
    matching_ids,
    pending_entries,
    review_row,
)
from app.web.helpers import page_or_fragment, workspace_for

bp = Blueprint("review", __name__, url_prefix="/w/<ws>")
PAGE_SIZE = 50
ACTIONS = {"approve": approve_entries, "reject": reject_entries}


@bp.get("/review")
@login_required
def index(ws: str) -> Response:
    workspace = workspace_for(ws)
    filters = ReviewFilter.from_args(request.args)
    page = max(request.args.get("page", 1, type=int), 1)
    entries, total = pending_entries(workspace, current_user, filters, page, PAGE_SIZE)
    return page_or_fragment(
        "review/index.html",
        "review/_queue.html",
        workspace=workspace,
        entries=entries,
        total=total,
        page=page,
        has_next=page * PAGE_SIZE < total,
        filters=filters,
        can_write=role_in(current_user, workspace).rank >= Role.editor.rank,
    )


def _selection(workspace, filters: ReviewFilter) -> list[int]:
    if request.args.get("entry_id"):  # one row's own Approve / Reject button
        return [int(i) for i in request.args.getlist("entry_id") if i.isdigit()]
    if request.form.get("all") == "1":
        return matching_ids(workspace, current_user, filters)
    return [int(i) for i in request.form.getlist("entry_id") if i.isdigit()]


@bp.post("/review/decide")
@login_required
def decide(ws: str) -> Response:
    """Approve or reject the selected entries (or all matching); bulk asks to confirm first."""
    workspace = workspace_for(ws, Role.editor)
    action = request.args.get("action") or request.form.get("action", "")
    if action not in ACTIONS:
        raise NotFound("unknown review action")
    filters = ReviewFilter.from_args(request.form)
    ids = _selection(workspace, filters)
    if not ids:
        flash("Select at least one entry.", "error")
        return redirect(url_for("review.index", ws=ws, **filters.as_args()), 303)
    if len(ids) > 1 and request.form.get("confirm") != "1":
        return page_or_fragment(
            "review/confirm.html",
            "review/_confirm.html",
            workspace=workspace,
            action=action,
            ids=ids,
            filters=filters,
            everything=request.form.get("all") == "1",
        )
    outcome = ACTIONS[action](workspace, current_user, ids)
    verb = "approved" if action == "approve" else "rejected"
    if outcome.decided:
        flash(f"{outcome.decided} entr{'y' if outcome.decided == 1 else 'ies'} {verb}.", "success")
    if outcome.already_decided:
        flash(f"{outcome.already_decided} were already decided by someone else.", "info")
    if htmx and len(ids) == 1:
        # The row, and the page's counts: the queue's filters come along with the button.
        _, total = pending_entries(workspace, current_user, filters, 1, 1)
        return page_or_fragment(
            "review/_decided.html",
            "review/_decided.html",
            workspace=workspace,
            entry=review_row(workspace, ids[0]),
            decided_now=bool(outcome.decided),
            can_write=True,
            total=total,
        )
    return redirect(
        _local(request.form.get("next")) or url_for("review.index", ws=ws, **filters.as_args()),
        303,
    )


def _local(url: str | None) -> str | None:
    """A page of this site to return to (the entry page's Approve goes on to the next held
    entry); None for anything else, so a form cannot send people away."""
    if url and url.startswith("/") and not url.startswith(("//", "/\\")):
        return url
    return None


@bp.post("/review/document")
@login_required
def document(ws: str) -> Response:
    """Build one PDF of the selected (or all matching) entries in the background."""
    workspace = workspace_for(ws, Role.editor)
    filters = ReviewFilter.from_args(request.form)
    ids = _selection(workspace, filters)
    if not ids:
        flash("Select at least one entry.", "error")
        return redirect(url_for("review.index", ws=ws, **filters.as_args()), 303)
    file = request_review_document(
        workspace, current_user, ids, f"Review document: {len(ids)} entries"
    )
    return redirect(url_for("review.file", ws=ws, file_id=file.id), 303)


@bp.post("/runs/<int:run_id>/review-document")
@login_required
def run_document(ws: str, run_id: int) -> Response:
    """The run page's review document: the selected entries, or every held one of the run."""
    workspace = workspace_for(ws, Role.editor)
    run = get_run(workspace, run_id, current_user, Role.editor)
    ids = request.form.getlist("entry_id", type=int) or held_ids(run)
    if not ids:
        flash("No entry of this run awaits review.", "error")
        return redirect(url_for("runs.detail", ws=ws, run_id=run.id), 303)
    file = request_review_document(
        workspace, current_user, ids, f"Run #{run.id}: {len(ids)} entries", run_id=run.id
    )
    return redirect(url_for("review.file", ws=ws, file_id=file.id), 303)


@bp.get("/files/<file_id>")
@login_required
def file(ws: str, file_id: str) -> Response:
    workspace = workspace_for(ws)
    return page_or_fragment(
        "review/file.html",
        "review/_file.html",
        workspace=workspace,
        file=temporary_file(workspace.id, file_id),
    )


@bp.get("/files/<file_id>/download")
@login_required
def download(ws: str, file_id: str) -> Response:
    workspace = workspace_for(ws)
    require(current_user, workspace, Role.viewer)
    try:
        found = temporary_file(workspace.id, file_id, ready=True)
    except Conflict as exc:  # a page link: nothing to download yet reads as "not found"
        raise NotFound(str(exc)) from None
    return storage.send_stored(found.storage_key, found.filename, "application/pdf")
