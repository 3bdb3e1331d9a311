"""`flask --app wsgi runs recover`: put stalled work back in line (the clock does this too)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.runs.recovery import recover_stalled_work

runs_cli = AppGroup("runs", help="Inspect and repair runs.")


@runs_cli.command("recover")
def recover_command() -> None:
    """Re-queue runs and entries whose worker died or whose queue entry was lost."""
    counts = recover_stalled_work()
    click.echo(" ".join(f"{k}={v}" for k, v in counts.items()))
