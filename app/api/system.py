"""GET /api/v1/system: the system page's facts for an admin's token (app/runs/health.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import g

from app.api.blueprint import bp
from app.api.errors import ApiError
from app.api.schemas import Model
from app.models import Role
from app.runs import health
from app.tokens import ApiCaller


class ServiceCheck(Model):
    ok: bool
    error: str | None


class CurrentWork(Model):
    """What a worker works on; another workspace's item is named by its action alone."""

    action: str
    jobRunId: int | None
    entryId: int | None


class WorkerOut(Model):
    name: str
    host: str | None
    pid: int | None
    queues: list[str]
    state: str
    current: CurrentWork | None
    lastHeartbeat: str | None
    startedAt: str | None


class QueueOut(Model):
    name: str
    depth: int
    oldestAgeSeconds: float | None
    failed: int


class ClockOut(Model):
    """The last loop of any clock; `lagSeconds` is how long ago (null: none in a day)."""

    lastTick: str | None
    host: str | None
    pid: int | None
    lagSeconds: float | None


class SystemStatus(Model):
    """Workers, queues and the clock live in Redis: empty lists while `redis.ok` is false."""

    database: ServiceCheck
    redis: ServiceCheck
    workers: list[WorkerOut]
    queues: list[QueueOut]
    failedJobs: int
    # Pending deliveries held in the database until a later time (a rate-limit slot or a
    # retry back-off); the clock queues each at its time. Counted while Redis is down too.
    deliveriesScheduled: int
    clock: ClockOut


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _current(item: health.WorkItem | None, workspace_id: int) -> dict[str, Any] | None:
    if item is None:
        return None
    if item.workspace_id is not None and item.workspace_id != workspace_id:
        return {"action": f"{item.action} of another workspace", "jobRunId": None, "entryId": None}
    return {"action": item.action, "jobRunId": item.run_id, "entryId": item.entry_id}


def system_status(facts: health.SystemFacts, workspace_id: int) -> dict[str, Any]:
    """The JSON body (SystemStatus) of `facts` as seen from one workspace."""
    return {
        "database": {"ok": facts.database_ok, "error": facts.database_error},
        "redis": {"ok": facts.redis_ok, "error": facts.redis_error},
        "workers": [
            {
                "name": w.name,
                "host": w.host,
                "pid": w.pid,
                "queues": w.queues,
                "state": w.state,
                "current": _current(w.current, workspace_id),
                "lastHeartbeat": _iso(w.last_heartbeat),
                "startedAt": _iso(w.started_at),
            }
            for w in facts.workers
        ],
        "queues": [
            {
                "name": q.name,
                "depth": q.depth,
                "oldestAgeSeconds": q.oldest_age_seconds,
                "failed": q.failed,
            }
            for q in facts.queues
        ],
        "failedJobs": facts.failed_jobs,
        "deliveriesScheduled": facts.deliveries_scheduled,
        "clock": {
            "lastTick": _iso(facts.clock.last_tick),
            "host": facts.clock.host,
            "pid": facts.clock.pid,
            "lagSeconds": facts.clock.lag_seconds,
        },
    }


@bp.get("/system")
def get_system() -> Any:
    caller: ApiCaller = g.api_token
    if caller.role is not Role.admin:
        raise ApiError(403, "the system status needs a token of a workspace admin")
    return system_status(health.system_facts(), caller.workspace_id)
