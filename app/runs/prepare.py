"""prepare_run: resolve parameters, fetch data once, create the entries, queue their generation."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from app.database import utcnow
from app.datasources.fetch import fetch_rows
from app.datasources.parameters import query_binds, resolve_parameters
from app.datasources.sql import QueryError
from app.errors import ValidationFailed
from app.extensions import db
from app.faults import pause_point
from app.jobs.schema import JobDefinition
from app.models import Entry, EntryDelivery, Run
from app.runs import dispatch
from app.runs.outcome import settle_run
from app.runs.snapshot import definition_from
from app.runs.states import EntryStatus, RunStatus, move_entries, move_run

log = logging.getLogger(__name__)
INSERT_CHUNK = 1000


def _zone(definition: Any) -> str:
    zone = (definition.schedule or {}).get("timezone") or "UTC"
    try:
        ZoneInfo(zone)
    except (KeyError, ValueError):
        return "UTC"
    return zone


def run_inputs(
    definition: JobDefinition,
    sources: dict[str, dict[str, Any]],
    requested: dict[str, Any],
    data: dict[str, Any],
    at: datetime,
) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]], list[dict[str, Any] | None]]:
    """Effective parameters, shared data (fetched once) and the rows the entries are made of.

    Raises ValidationFailed (a parameter without value) or QueryError (a data source failed).
    """
    params = resolve_parameters(definition.parameters, requested, at=at, timezone=_zone(definition))
    binds = query_binds(params, data)
    shared = {
        ref.alias: fetch_rows(sources[ref.source], binds)
        for ref in definition.data_sources
        if not ref.repeating
    }
    repeating = definition.repeating
    rows: list[dict[str, Any] | None] = (
        fetch_rows(sources[repeating.source], binds) if repeating else [None]
    )
    return params, shared, rows


def prepare_run(run_id: int) -> None:
    """Turn a pending run into queued entries, or fail it with a message that says why."""
    if not move_run(run_id, RunStatus.preparing, from_=[RunStatus.pending]):
        db.session.rollback()
        return
    db.session.execute(db.update(Run).where(Run.id == run_id).values(attempts=Run.attempts + 1))
    db.session.commit()
    pause_point("prepare")
    run = db.session.get(Run, run_id)
    definition = definition_from(run.snapshot)
    try:
        params, shared, rows = run_inputs(
            definition,
            run.snapshot["sources"],
            run.requested_params,
            run.data,
            at=run.scheduled_for or run.created_at,
        )
    except (ValidationFailed, QueryError) as exc:
        settle_run(run_id, RunStatus.failed, error=str(exc))
        db.session.commit()
        return
    entry_ids = _create_entries(run_id, rows, [d.kind for d in definition.deliveries])
    finished = not entry_ids
    settle_run(
        run_id,
        RunStatus.finished if finished else RunStatus.running,
        params=params,
        shared_data=shared,
        entry_count=len(entry_ids),
        prepared_at=utcnow(),
        error="0 rows: nothing to send" if finished else None,
    )
    db.session.commit()
    queue_entries(entry_ids)


def _create_entries(
    run_id: int, rows: list[dict[str, Any] | None], delivery_kinds: list[str]
) -> list[int]:
    """Insert entries and their pending deliveries in bulk (no commit); return the entry ids."""
    ids: list[int] = []
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[start : start + INSERT_CHUNK]
        now = utcnow()
        chunk_ids = db.session.scalars(
            insert(Entry).returning(Entry.id, sort_by_parameter_order=True),
            [
                {
                    "run_id": run_id,
                    "seq": start + i + 1,
                    "row": row,
                    "status": EntryStatus.ParametersPrepared.value,
                    "created_at": now,
                    "updated_at": now,
                }
                for i, row in enumerate(chunk)
            ],
        ).all()
        if delivery_kinds:
            db.session.execute(
                insert(EntryDelivery),
                [
                    {"entry_id": entry_id, "position": p, "kind": kind, "updated_at": now}
                    for entry_id in chunk_ids
                    for p, kind in enumerate(delivery_kinds)
                ],
            )
        ids.extend(chunk_ids)
    return ids


def queue_entries(entry_ids: list[int]) -> None:
    """Mark entries Queued and put their generation on the queue."""
    for start in range(0, len(entry_ids), INSERT_CHUNK):
        chunk = entry_ids[start : start + INSERT_CHUNK]
        move_entries(chunk, EntryStatus.Queued, from_=[EntryStatus.ParametersPrepared])
        db.session.commit()
        dispatch.enqueue_generate((entry_id, 0) for entry_id in chunk)
    if entry_ids:
        log.info("queued %d entries", len(entry_ids))
