"""What every entry of a run shares, loaded once per worker process."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

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


@lru_cache(maxsize=16)
def _load(run_id: int) -> RunContext:
    run = db.session.get(Run, run_id)
    if run is None or run.params is None:
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
    """The frozen context of a prepared run (never changes after preparation, so it is cached)."""
    return _load(run_id)
