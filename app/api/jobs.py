"""API handlers for job definitions: list, create, read, replace, delete, fire times."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Response, g, request

from app.api.blueprint import bp
from app.api.common import job_of, json_body, workspace
from app.api.errors import ApiError
from app.api.serializers import job_summary
from app.database import utcnow
from app.jobs.queries import all_jobs
from app.jobs.schedule import rule_of
from app.jobs.service import create_job, export_job, replace_job
from app.runs.removal import delete_job
from app.scheduling import describe, format_instant, preview


@bp.get("/ws/<ws>/jobs")
def list_jobs(ws: str) -> Any:
    return [job_summary(job) for job in all_jobs(workspace(ws, "jobs:read").id)]


@bp.post("/ws/<ws>/jobs")
def create_job_definition(ws: str) -> Any:
    job = create_job(workspace(ws, "jobs:write"), g.api_token.user, json_body())
    return {**job_summary(job), "definition": export_job(job)}, 201


@bp.get("/ws/<ws>/jobs/<job>")
def get_job_definition(ws: str, job: str) -> Any:
    _, found = job_of(ws, job)
    return {**job_summary(found), "definition": export_job(found)}


@bp.put("/ws/<ws>/jobs/<job>")
def update_job(ws: str, job: str) -> Any:
    found_ws, found = job_of(ws, job, "jobs:write")
    saved = replace_job(found_ws, g.api_token.user, found, json_body())
    return {**job_summary(saved), "definition": export_job(saved)}


@bp.delete("/ws/<ws>/jobs/<job>")
def delete_job_definition(ws: str, job: str) -> Any:
    found_ws, found = job_of(ws, job, "jobs:write")
    delete_job(found_ws, g.api_token.user, found)
    return Response(status=204)


@bp.get("/ws/<ws>/jobs/<job>/fire-times")
def fire_times(ws: str, job: str) -> Any:
    _, found = job_of(ws, job)
    rule = rule_of(found)
    if rule is None:
        raise ApiError(404, "this job has no schedule")
    try:
        count = int(request.args.get("count", 10))
        after_text = request.args.get("after")
        after = datetime.fromisoformat(after_text) if after_text else utcnow()
    except ValueError:
        raise ApiError(422, "count must be a number and after an ISO 8601 instant") from None
    if after.tzinfo is None:
        after = after.replace(tzinfo=UTC)
    if not 1 <= count <= 1000:
        raise ApiError(422, "count must be between 1 and 1000")
    return {
        "timezone": rule.timezone,
        "description": describe(rule),
        "fireTimes": [format_instant(t) for t in preview(rule, after, count)],
    }
