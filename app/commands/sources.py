"""`flask --app wsgi sources import`: upload a CSV or JSON file as a data source."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from app.commands.jobs import _fail, _workspace
from app.datasources.csvfile import AUTO, DELIMITERS, ENCODINGS, read_csv
from app.datasources.service import save_source
from app.errors import HeraldError, ValidationFailed
from app.limits import SOURCE, maximum, too_large

sources_cli = AppGroup("sources", help="Manage data sources.")

# Excel saves "Unicode text" as .txt and tab-separated values are often .tsv: both are CSV.
CSV_SUFFIXES = ("csv", "tsv", "txt")


@sources_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--workspace", required=True, help="workspace code")
@click.option("--code", required=True, help="data source code (created or replaced)")
@click.option("--name", default="", help="display name")
@click.option(
    "--delimiter",
    type=click.Choice([AUTO, *DELIMITERS]),
    default=AUTO,
    show_default=True,
    help="CSV cell delimiter; auto detects , ; tab or |",
)
@click.option(
    "--encoding",
    type=click.Choice([AUTO, *ENCODINGS]),
    default=AUTO,
    show_default=True,
    help="CSV file encoding; auto reads UTF-8 (BOM or not), UTF-16 with a BOM, else Windows-1252",
)
def import_command(
    file: Path, workspace: str, code: str, name: str, delimiter: str, encoding: str
) -> None:
    """Create or replace a data source from a CSV file (.csv/.tsv/.txt, header first) or .json.

    CSV rules (encodings, delimiters, short and long rows): docs/CSV.md.
    """
    suffix = file.suffix.lower().lstrip(".")
    kind = "csv" if suffix in CSV_SUFFIXES else suffix
    if kind not in ("csv", "json"):
        raise click.BadParameter(
            "the file must end in .csv, .tsv, .txt or .json", param_hint="FILE"
        )
    size = file.stat().st_size
    if size > maximum(SOURCE):  # refused before reading it; save_source checks the text too
        raise _fail(ValidationFailed({"content": too_large(SOURCE, size)}))
    data = file.read_bytes()
    try:
        source = save_source(
            _workspace(workspace),
            None,
            code=code,
            name=name or code,
            kind=kind,
            content=data,
            encoding=encoding,
            delimiter=delimiter,
        )
    except HeraldError as exc:
        raise _fail(exc) from None
    click.echo(f"saved {kind} data source '{source.code}'")
    if kind == "csv":
        # Say how the file was read: a wrong guess is visible here, not in a run.
        table = read_csv(data, encoding=encoding, delimiter=delimiter)
        rows = f"{len(table.rows)} row" + ("" if len(table.rows) == 1 else "s")
        click.echo(
            f"read as {table.encoding}, {table.delimiter_name}-delimited: "
            f"{rows}; columns: {', '.join(table.columns)}"
        )
