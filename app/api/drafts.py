"""API handlers for drafts of a job (seed 002's draft workflow): open, change, commit, discard.

A draft is the caller's own; the job and its schedule change only when it is committed, and
runs already started keep the definition they started with."""

from __future__ import annotations

from typing import Any

from flask import Response, g

from app.api.blueprint import bp
from app.api.common import job_of, json_body
from app.api.errors import invalid_request
from app.api.serializers import draft_out, job_summary
from app.errors import NotFound
from app.jobs.drafts import (
    commit_fresh_draft,
    discard_draft,
    draft_errors,
    draft_of_job,
    start_draft,
    update_draft,
)
from app.jobs.service import export_job

EDIT = "/ws/<ws>/jobs/<job>/_edit"


@bp.post(EDIT)
def open_draft(ws: str, job: str) -> Any:
    found_ws, found = job_of(ws, job, "jobs:write")
    draft = start_draft(found_ws, g.api_token.user, found)
    return draft_out(draft, draft_errors(draft))


@bp.put(EDIT)
def change_draft(ws: str, job: str) -> Any:
    found_ws, found = job_of(ws, job, "jobs:write")
    values = json_body()
    if not isinstance(values, dict):
        raise invalid_request({"": "send an object of definition fields"})
    draft = _draft(found_ws, found)
    update_draft(draft, values)
    return draft_out(draft, draft_errors(draft))


@bp.delete(EDIT)
def discard(ws: str, job: str) -> Any:
    found_ws, found = job_of(ws, job, "jobs:write")
    discard_draft(_draft(found_ws, found))
    return Response(status=204)


@bp.post("/ws/<ws>/jobs/<job>/_commit")
def commit(ws: str, job: str) -> Any:
    found_ws, found = job_of(ws, job, "jobs:write")
    saved = commit_fresh_draft(_draft(found_ws, found), g.api_token.user)
    return {**job_summary(saved), "definition": export_job(saved)}


def _draft(found_ws: Any, found: Any) -> Any:
    draft = draft_of_job(found_ws, g.api_token.user, found)
    if draft is None:
        raise NotFound("no draft of this job: open one with POST …/_edit")
    return draft
