"""`flask --app wsgi jobs export|import|run`: job definitions as JSON, and runs from the shell."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup
from rq import SimpleWorker, Worker

from app.errors import HeraldError, ValidationFailed
from app.extensions import QUEUE_NAMES, db, queues
from app.jobs.service import create_job, export_job, job_by_code, replace_job
from app.models import Job, Run, Workspace
from app.runs.buckets import bucket_counts
from app.runs.create import start_run
from app.runs.lease import start_heartbeat
from app.runs.progress import entry_warnings
from app.runs.states import RunStatus

jobs_cli = AppGroup("jobs", help="Export, import and run jobs.")


def _workspace(code: str) -> Workspace:
    workspace = db.session.scalars(db.select(Workspace).filter_by(code=code)).first()
    if workspace is None:
        raise click.ClickException(f"no workspace '{code}'")
    return workspace


def _job(workspace: Workspace, code: str) -> Job:
    job = db.session.scalars(db.select(Job).filter_by(workspace_id=workspace.id, code=code)).first()
    if job is None:
        raise click.ClickException(f"no job '{code}' in workspace '{workspace.code}'")
    return job


def _fail(exc: HeraldError) -> click.ClickException:
    if isinstance(exc, ValidationFailed):
        lines = [f"  {field or '(job)'}: {msg}" for field, msg in exc.errors.items()]
        return click.ClickException("invalid input:\n" + "\n".join(lines))
    return click.ClickException(str(exc))


@jobs_cli.command("export")
@click.argument("code")
@click.option("--workspace", required=True, help="workspace code")
def export_command(code: str, workspace: str) -> None:
    """Print the job's definition as JSON."""
    job = _job(_workspace(workspace), code)
    click.echo(json.dumps(export_job(job), indent=2))


@jobs_cli.command("import")
@click.argument("file", type=click.File("r"))
@click.option("--workspace", required=True, help="workspace code")
def import_command(file: Any, workspace: str) -> None:
    """Create or update a job (matched by code) from a JSON definition file ('-' = stdin)."""
    try:
        data = json.load(file)
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"not valid JSON: {exc}") from None
    try:
        target = _workspace(workspace)
        existing = job_by_code(target, data.get("code") if isinstance(data, dict) else None)
        if existing is not None:  # `jobs import` is documented to update the job by code
            job = replace_job(target, None, existing, data)
        else:
            job = create_job(target, None, data)
    except HeraldError as exc:
        raise _fail(exc) from None
    click.echo(f"saved job '{job.code}' (id {job.id})")


def _parse_params(pairs: tuple[str, ...]) -> dict[str, str]:
    params = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"'{pair}' is not name=value", param_hint="--param")
        params[name.strip()] = value
    return params


@jobs_cli.command("run")
@click.argument("code")
@click.option("--workspace", required=True, help="workspace code")
@click.option("--param", "params", multiple=True, help="name=value override (repeatable)")
@click.option("--data", "data_json", default=None, help="JSON object available as `data`")
@click.option("--wait/--no-wait", default=False, help="wait until the run is finished")
@click.option("--timeout", default=3600, show_default=True, help="seconds to wait at most")
def run_command(
    code: str,
    workspace: str,
    params: tuple[str, ...],
    data_json: str | None,
    wait: bool,
    timeout: int,
) -> None:
    """Run a job through the queues; --wait prints bucket counts (exit 0 if all completed)."""
    try:
        data = json.loads(data_json) if data_json else None
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not valid JSON: {exc}", param_hint="--data") from None
    job = _job(_workspace(workspace), code)
    try:
        run = start_run(job, None, trigger="manual", params=_parse_params(params), data=data)
    except HeraldError as exc:
        raise _fail(exc) from None
    click.echo(f"run {run.id} queued")
    if not wait:
        return
    run = _wait_for(run.id, timeout)
    counts = bucket_counts(run.id)
    click.echo(
        f"run {run.id} {run.status}: entries={counts['total']} queued={counts['queued']} "
        f"completed={counts['completed']} errors={counts['errors']} review={counts['review']}"
        + (f" cancelled={counts['cancelled']}" if counts["cancelled"] else "")
    )
    if run.error:
        click.echo(f"  {run.error}")
    for seq, warning in entry_warnings(run.id):  # warnings, not errors: the exit code ignores them
        click.echo(f"  warning, entry {seq}: {warning}")
    ok = run.status == RunStatus.finished and counts["completed"] == counts["total"]
    sys.exit(0 if ok else 1)


def _wait_for(run_id: int, timeout: int) -> Run:
    """Poll until the run is finished; drain the queues here if no worker is running."""
    deadline = time.monotonic() + timeout
    while True:
        db.session.expire_all()
        run = db.session.get(Run, run_id)
        counts = bucket_counts(run_id)
        done = run.status in (RunStatus.failed, RunStatus.cancelled, RunStatus.finished)
        if done and not counts["queued"]:
            return run
        if time.monotonic() > deadline:
            raise click.ClickException(f"run {run_id} not finished after {timeout}s")
        if not Worker.all(connection=queues.connection):
            _drain_here()
        else:
            time.sleep(0.5)


def _drain_here() -> None:
    click.echo("no worker is running; working the queues in this process", err=True)
    # Leased like a worker's: a running clock must not take back a long render from here.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    start_heartbeat(app, app.config["HEARTBEAT_SECONDS"])
    worker = SimpleWorker([queues.queue(n) for n in QUEUE_NAMES], connection=queues.connection)
    worker.work(burst=True, logging_level="WARNING")
