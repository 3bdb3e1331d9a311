"""What every entry of a run shares, loaded once per worker process."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, select

from app import logs
from app.datasources.parameters import query_binds
from app.extensions import db
from app.jobs.schema import JobDefinition
from app.models import Run
from app.runs.snapshot import definition_from


@dataclass(frozen=True)
class RunContext:
    run_id: int
    workspace_id: int
    definition: JobDefinition
    templates: dict[str, dict[str, Any]]
    sources: dict[str, dict[str, Any]]
    params: dict[str, Any]
    data: dict[str, Any]
    shared: dict[str, list[dict[str, Any]]]
    job_id: int = 0  # 0 for a dry run, which has no saved job

    @property
    def binds(self) -> dict[str, Any]:
        return query_binds(self.params, self.data)


# What tells one run from another that reuses its id: SQLite hands a deleted run's id to the
# next run (no AUTOINCREMENT), so the id alone would serve the deleted run's definition.
_STAMP = select(Run.created_at, Run.prepared_at).where(Run.id == bindparam("run_id"))


@lru_cache(maxsize=16)
def _load(run_id: int, created_at: datetime, prepared_at: datetime | None) -> RunContext:
    run = db.session.get(Run, run_id)
    if run is None or run.params is None or run.created_at != created_at:
        raise LookupError(f"run {run_id} is not prepared")
    return RunContext(
        run_id=run.id,
        workspace_id=run.workspace_id,
        definition=definition_from(run.snapshot),
        templates=run.snapshot["templates"],
        sources=run.snapshot["sources"],
        params=run.params,
        data=run.data,
        shared=run.shared_data or {},
        job_id=run.job_id,
    )


def run_context(run_id: int) -> RunContext:
    """The frozen context of a prepared run, cached per process; LookupError when the run is
    gone or not prepared.

    Cached under the run's id *and* its creation and preparation times (read in one small
    query), so a new run reusing a deleted run's id, or a run prepared again after a crash,
    is loaded afresh rather than served a stale definition."""
    logs.set_run_id(run_id)  # log lines about an entry name its run too
    stamp = db.session.execute(_STAMP, {"run_id": run_id}).one_or_none()
    if stamp is None:
        raise LookupError(f"run {run_id} is not prepared")
    return _load(run_id, stamp.created_at, stamp.prepared_at)
