"""`flask --app wsgi sources import`: upload a CSV or JSON file as a data source."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from app.commands.jobs import _fail, _workspace
from app.datasources.service import save_source
from app.errors import HeraldError, ValidationFailed
from app.limits import SOURCE, maximum, too_large

sources_cli = AppGroup("sources", help="Manage data sources.")


@sources_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--workspace", required=True, help="workspace code")
@click.option("--code", required=True, help="data source code (created or replaced)")
@click.option("--name", default="", help="display name")
def import_command(file: Path, workspace: str, code: str, name: str) -> None:
    """Create or replace a data source from a .csv (header row first) or .json file."""
    kind = file.suffix.lower().lstrip(".")
    if kind not in ("csv", "json"):
        raise click.BadParameter("the file must end in .csv or .json", param_hint="FILE")
    size = file.stat().st_size
    if size > maximum(SOURCE):  # refused before reading it; save_source checks the text too
        raise _fail(ValidationFailed({"content": too_large(SOURCE, size)}))
    try:
        content = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise click.ClickException("the file is not UTF-8 text") from None
    try:
        source = save_source(
            _workspace(workspace), None, code=code, name=name or code, kind=kind, content=content
        )
    except HeraldError as exc:
        raise _fail(exc) from None
    click.echo(f"saved {kind} data source '{source.code}'")
