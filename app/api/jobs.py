"""API handlers for job definitions: list, create, read, replace, delete, fire times."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from flask import Response, g, request

from app.api.blueprint import bp
from app.api.common import body, int_arg, job_of, json_body, list_args, listed, workspace
from app.api.errors import ApiError, invalid_parameter, invalid_request
from app.api.schedule_schemas import MAX_FIRE_TIMES, FireTimesRequest
from app.api.serializers import job_summary
from app.database import utcnow
from app.jobs.fire_times import FirePreview, preview_rule, preview_rule_data
from app.jobs.queries import jobs_window
from app.jobs.schedule import rule_of
from app.jobs.service import create_job, export_job, replace_job
from app.runs.queries import last_errors
from app.runs.removal import delete_job

# The API's sort names for the job list's sorts (app/jobs/queries.py SORTS).
JOB_SORTS = {"name": "name", "code": "code", "nextRunAt": "next_run", "lastRunAt": "last_run"}


@bp.get("/ws/<ws>/jobs")
def list_jobs(ws: str) -> Any:
    wanted = list_args(JOB_SORTS)
    found = jobs_window(
        workspace(ws, "jobs:read").id, replace(wanted, sort=JOB_SORTS.get(wanted.sort or ""))
    )
    errors = last_errors([job.id for job in found.items])
    return listed(found, [job_summary(job, errors.get(job.id)) for job in found.items], False)


@bp.post("/ws/<ws>/jobs")
def create_job_definition(ws: str) -> Any:
    job = create_job(workspace(ws, "jobs:write"), g.api_token.user, json_body())
    return {**job_summary(job), "definition": export_job(job)}, 201


@bp.get("/ws/<ws>/jobs/<job>")
def get_job_definition(ws: str, job: str) -> Any:
    _, found = job_of(ws, job)
    error = last_errors([found.id]).get(found.id)
    return {**job_summary(found, error), "definition": export_job(found)}


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


def _after_and_count() -> tuple[datetime, int]:
    """`after` (ISO 8601; a naive one is UTC; default now) and `count` (1..1000, default 10)
    from the query string; 422 naming the parameter."""
    count = int_arg("count", 10, 1, MAX_FIRE_TIMES)
    return _instant("after", request.args.get("after"), invalid_parameter), count


def _instant(name: str, text: str | None, error: Any) -> datetime:
    if text is None:
        return utcnow()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise error(name, "must be an ISO 8601 date-time, e.g. 2026-01-01T00:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _fire_times_out(found: FirePreview) -> dict[str, Any]:
    return {
        "timezone": found.timezone,
        "description": found.description,
        "fireTimes": found.fire_times,
        "fires": [
            {
                "at": f.at,
                "date": f.date,
                "movedFrom": f.moved_from,
                "holiday": f.holiday,
                "note": f.note,
            }
            for f in found.fires
        ],
        "skipped": [{"date": d.date, "holiday": d.holiday, "note": d.note} for d in found.skipped],
        "emptyReason": found.empty_reason,
    }


@bp.get("/ws/<ws>/jobs/<job>/fire-times")
def fire_times(ws: str, job: str) -> Any:
    _, found = job_of(ws, job)
    rule = rule_of(found)
    if rule is None:
        raise ApiError(404, "this job has no schedule")
    after, count = _after_and_count()
    return _fire_times_out(preview_rule(rule, after, count))


@bp.post("/ws/<ws>/fire-times")
def rule_fire_times(ws: str) -> Any:
    """Any rule's fire times, as `schedule preview` prints them (seed 002's job-fire-times)."""
    workspace(ws, "jobs:read")
    asked = body(FireTimesRequest)
    if (asked.rule is None) == (asked.cron is None):
        raise invalid_request({"rule": "send either rule (SCHEDULE.md) or cron"})
    after = _instant("after", asked.after, lambda n, m: invalid_request({n: m}))
    if asked.rule is not None:
        found = preview_rule_data(asked.rule, after, asked.count, "rule")
    else:
        cron = {"trigger": "cron", "cron": asked.cron, "timezone": asked.timezone or "UTC"}
        cron["start"] = asked.start or after.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")
        found = preview_rule_data({**cron, "until": asked.until}, after, asked.count, "")
    return _fire_times_out(found)
