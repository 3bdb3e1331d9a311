"""prepare_run: resolve parameters, fetch data once, create the entries, queue their generation."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import insert, literal, select
from sqlalchemy.exc import OperationalError

from app.database import utcnow
from app.datasources.fetch import fetch_rows, iter_rows
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
from app.runs.states import EntryStatus, RunStatus, move_entry_range, move_run

log = logging.getLogger(__name__)


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
    params, shared, rows = streamed_inputs(definition, sources, requested, data, at)
    return params, shared, list(rows)


def streamed_inputs(
    definition: JobDefinition,
    sources: dict[str, dict[str, Any]],
    requested: dict[str, Any],
    data: dict[str, Any],
    at: datetime,
) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]], Iterator[dict[str, Any] | None]]:
    """`run_inputs` with the repeating rows as an iterator, read from their source as it is
    consumed (one `None` row when the job has no Repeating source).

    Raises ValidationFailed or QueryError for what is known before the first row; the
    iterator raises QueryError for a problem met later (the row limit, a bad CSV line).
    """
    params = resolve_parameters(definition.parameters, requested, at=at, timezone=_zone(definition))
    binds = query_binds(params, data)
    shared = {
        ref.alias: fetch_rows(sources[ref.source], binds)
        for ref in definition.data_sources
        if not ref.repeating
    }
    repeating = definition.repeating
    rows: Iterator[dict[str, Any] | None] = (
        iter_rows(sources[repeating.source], binds, batch=chunk_size())
        if repeating
        else iter([None])
    )
    return params, shared, rows


def chunk_size() -> int:
    """Rows read, entries inserted and generations queued at a time (HERALD_PREPARE_CHUNK_ROWS):
    what bounds a preparing worker's memory, whatever the number of rows."""
    return max(1, int(current_app.config["PREPARE_CHUNK_ROWS"]))


def prepare_run(run_id: int) -> None:
    """Turn a pending run into queued entries, or fail it with a message that says why (for an
    unexpected exception: its type and message, see `failure`).

    The rows stream from the Repeating source into entries `chunk_size()` at a time, all in
    one transaction: a run that fails midway (the row limit, a bad line) or a worker killed
    midway leaves no entry behind, and the recovery sweep's next attempt starts over. Once
    that commits, the entries are queued chunk by chunk in row order; entries a killed
    worker did not queue are queued by the sweep (`recovery._requeue_lost_entries`).
    """
    if not move_run(run_id, RunStatus.preparing, from_=[RunStatus.pending]):
        db.session.rollback()
        return
    db.session.execute(db.update(Run).where(Run.id == run_id).values(attempts=Run.attempts + 1))
    db.session.commit()
    pause_point("prepare")
    run = db.session.get(Run, run_id)
    definition = definition_from(run.snapshot)
    try:
        params, shared, rows = streamed_inputs(
            definition,
            run.snapshot["sources"],
            run.requested_params,
            run.data,
            at=run.scheduled_for or run.created_at,
        )
        count = _create_entries(run_id, rows, [d.kind for d in definition.deliveries])
    except (ValidationFailed, QueryError) as exc:
        db.session.rollback()  # the entries of the rows read before the problem
        settle_run(run_id, RunStatus.failed, error=str(exc))
        db.session.commit()
        return
    except OperationalError:
        raise  # Herald's database went away: the recovery sweep prepares the run again
    except Exception as exc:
        # Anything else would fail the same way on every attempt; left to the sweep, the run
        # failed only after the last one, as "interrupted N times", hiding what went wrong.
        db.session.rollback()
        log.exception("preparing run %s failed", run_id)
        settle_run(run_id, RunStatus.failed, from_=[RunStatus.preparing], error=failure(exc))
        db.session.commit()
        return
    finished = not count
    if not settle_run(
        run_id,
        RunStatus.finished if finished else RunStatus.running,
        from_=[RunStatus.preparing],
        params=params,
        shared_data=shared,
        entry_count=count,
        prepared_at=utcnow(),
        error="0 rows: nothing to send" if finished else None,
    ):
        # Cancelled while its rows were read: its entries are never made, so never sent.
        db.session.rollback()
        return
    db.session.commit()
    queue_entries(run_id, count)


# The credentials of a URL in an error message (`scheme://user:password@host`).
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/\s@]+@", re.IGNORECASE)
_MAX_ERROR = 500


def failure(exc: BaseException) -> str:
    """The run error for an unexpected exception: "preparation failed: <type>: <message>",
    with any credentials of a URL in it masked and clipped to 500 characters."""
    text = _URL_CREDENTIALS.sub(r"\g<scheme>***@", f"{type(exc).__name__}: {exc}")
    text = f"preparation failed: {text}"
    return text if len(text) <= _MAX_ERROR else text[: _MAX_ERROR - 1] + "…"


def _chunks(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _create_entries(
    run_id: int, rows: Iterable[dict[str, Any] | None], delivery_kinds: list[str]
) -> int:
    """Insert an entry per row, with its pending deliveries, a chunk at a time (no commit);
    entry ids follow row order. Returns how many entries were made.

    No RETURNING: the deliveries of a chunk are inserted from its entries by the database
    (INSERT … SELECT on the run's seq range), which on PostgreSQL is several times cheaper
    than reading a chunk's ids back in parameter order."""
    count = 0
    for chunk in _chunks(rows, chunk_size()):
        now = utcnow()
        db.session.execute(
            insert(Entry),
            [
                {
                    "run_id": run_id,
                    "seq": count + i + 1,
                    "row": row,
                    "status": EntryStatus.ParametersPrepared.value,
                    "created_at": now,
                    "updated_at": now,
                }
                for i, row in enumerate(chunk)
            ],
        )
        for position, kind in enumerate(delivery_kinds):
            made = select(Entry.id, literal(position), literal(kind)).where(
                Entry.run_id == run_id, Entry.seq > count, Entry.seq <= count + len(chunk)
            )
            db.session.execute(
                insert(EntryDelivery).from_select(["entry_id", "position", "kind"], made)
            )
        count += len(chunk)
        pause_point("prepare.entries")
    return count


def queue_entries(run_id: int, count: int) -> int:
    """Mark the run's entries (seq 1..`count`) Queued and put their generation on the queue,
    a chunk at a time in row order (each chunk committed before it is queued); return how
    many were queued. Entries no longer ParametersPrepared are left alone."""
    size, total = chunk_size(), 0
    for start in range(1, count + 1, size):
        seqs = range(start, min(start + size, count + 1))
        moved = move_entry_range(
            run_id, seqs, EntryStatus.Queued, from_=[EntryStatus.ParametersPrepared]
        )
        db.session.commit()
        dispatch.enqueue_generate((entry_id, 0) for entry_id in moved)
        total += len(moved)
        pause_point("prepare.queue")
    if total:
        log.info("queued %d entries", total)
    return total
