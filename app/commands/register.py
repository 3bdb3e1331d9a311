"""Attach Herald's command groups to `flask --app wsgi`."""

from __future__ import annotations

from flask import Flask

from app.commands.demo import demo_cli
from app.commands.jobs import jobs_cli
from app.commands.runs import runs_cli
from app.commands.schedule import schedule_cli
from app.commands.sources import sources_cli
from app.commands.tokens import tokens_cli
from app.commands.users import users_cli


def register_commands(app: Flask) -> None:
    """Add the demo, jobs, runs, schedule, sources, tokens and users command groups."""
    for group in (demo_cli, jobs_cli, runs_cli, schedule_cli, sources_cli, tokens_cli, users_cli):
        app.cli.add_command(group)
