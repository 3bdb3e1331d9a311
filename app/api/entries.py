"""API handlers for one entry of a run: review decisions, retrying a delivery, report PDFs."""

from __future__ import annotations

from typing import Any

from flask import g

from app import storage
from app.access import get_delivery, get_entry
from app.api.blueprint import bp
from app.api.common import ANY_INT, RUN_PATH, run_of
from app.api.errors import ApiError
from app.errors import NotFound
from app.models import Role
from app.review.decisions import approve_entries, reject_entries
from app.review.redeliver import retry_delivery
from app.runs.queries import stored_artifact

ENTRY = RUN_PATH + f"/entries/<{ANY_INT}:entry_id>"


@bp.post(ENTRY + "/<any(approve, reject):action>")
def decide_entry(ws: str, job: str, run_id: int, entry_id: int, action: str) -> Any:
    _, run = run_of(ws, job, run_id, "jobs:write")
    entry = get_entry(run, entry_id)
    decide = approve_entries if action == "approve" else reject_entries
    outcome = decide(g.api_token.workspace, g.api_token.user, [entry.id])
    if not outcome.decided:
        raise ApiError(409, "this entry is not awaiting review (already decided?)")
    return {"decided": outcome.decided, "alreadyDecided": outcome.already_decided}


@bp.post(RUN_PATH + f"/deliveries/<{ANY_INT}:delivery_id>/retry")
def retry(ws: str, job: str, run_id: int, delivery_id: int) -> Any:
    _, run = run_of(ws, job, run_id, "jobs:write")
    caller = g.api_token
    of_run, _, delivery = get_delivery(caller.workspace, delivery_id, caller.user, Role.editor)
    if of_run.id != run.id:
        raise NotFound("delivery not found")
    retried = retry_delivery(delivery.id, caller.user)
    return {"id": retried.id, "status": retried.status, "attempts": retried.attempts}


@bp.get(ENTRY + f"/artifacts/<{ANY_INT}:artifact_id>")
def artifact(ws: str, job: str, run_id: int, entry_id: int, artifact_id: int) -> Any:
    _, run = run_of(ws, job, run_id)
    entry = get_entry(run, entry_id)
    found = stored_artifact(artifact_id, entry_id=entry.id)
    return storage.send_stored(found.storage_key, found.filename, found.content_type)
