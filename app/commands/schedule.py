"""`flask --app wsgi schedule preview`: the fire times of one rule or a batch of rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, TextIO

import click

from app.scheduling import ScheduleRuleError, format_instant, parse_rule, preview

MAX_COUNT = 10_000
_BATCH_KEYS = ("rule", "after", "count")

schedule_cli = click.Group("schedule", help="Schedule rule tools.")


@schedule_cli.command("preview")
@click.option("--rule", "rule_json", metavar="JSON", help="The rule as JSON (see SCHEDULE.md).")
@click.option(
    "--after", metavar="ISO", help="List fires strictly after this instant. [default: now]"
)
@click.option(
    "--count",
    type=click.IntRange(0, MAX_COUNT),
    default=20,
    show_default=True,
    help="How many fires to list.",
)
@click.option(
    "--batch",
    type=click.File("r", encoding="utf-8"),
    help='File of JSON lines {"rule": ..., "after": ..., "count": ...}; "-" reads stdin.',
)
@click.pass_context
def preview_command(
    ctx: click.Context, rule_json: str | None, after: str | None, count: int, batch: TextIO | None
) -> None:
    """Print the next fire instants of a rule, one per line (or one JSON line per rule)."""
    if (rule_json is None) == (batch is None):
        raise click.UsageError("give exactly one of --rule or --batch")
    try:
        moment = parse_after(after)
    except ScheduleRuleError as error:
        click.echo(str(error), err=True)
        ctx.exit(2)
    if batch is not None:
        _run_batch(batch, moment, count)
        return
    try:
        rule = parse_rule(_load_json("rule", rule_json))
    except ScheduleRuleError as error:
        click.echo(str(error), err=True)
        ctx.exit(2)
    for fire in preview(rule, moment, count):
        click.echo(format_instant(fire))


def parse_after(text: str | None) -> datetime:
    """An aware instant from ISO 8601 text with an offset; None means now."""
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.utcoffset() is None:
        raise ScheduleRuleError(
            "after", f"{text!r} is not an ISO 8601 date-time with offset, e.g. 2026-01-01T00:00Z"
        )
    return moment


def _load_json(field: str, text: str | None) -> Any:
    try:
        return json.loads(text or "")
    except json.JSONDecodeError as error:
        raise ScheduleRuleError(field, f"invalid JSON: {error}") from None


def _run_batch(batch: TextIO, default_after: datetime, default_count: int) -> None:
    """Answer each line of the batch file with one JSON line, in order."""
    try:
        for line in batch:
            click.echo(json.dumps(_answer(line, default_after, default_count), ensure_ascii=False))
    except (OSError, UnicodeDecodeError) as error:
        raise click.FileError(batch.name, str(error)) from None


def _answer(line: str, default_after: datetime, default_count: int) -> dict[str, Any]:
    """{"fires": [...]} for one batch line, or {"error": message}."""
    try:
        if not line.strip():
            raise ScheduleRuleError("line", "is empty")
        item = _load_json("line", line)
        if not isinstance(item, dict):
            raise ScheduleRuleError("line", "must be a JSON object with a 'rule'")
        unknown = [key for key in item if key not in _BATCH_KEYS]
        if unknown:
            raise ScheduleRuleError(unknown[0], "unknown field")
        if "rule" not in item:
            raise ScheduleRuleError("rule", "is required")
        rule = parse_rule(item["rule"])
        after = default_after if item.get("after") is None else parse_after(item["after"])
        count = default_count if item.get("count") is None else item["count"]
        if type(count) is not int or not 0 <= count <= MAX_COUNT:
            raise ScheduleRuleError("count", f"must be a whole number from 0 to {MAX_COUNT}")
        return {"fires": [format_instant(fire) for fire in preview(rule, after, count)]}
    except (ValueError, OverflowError) as error:
        return {"error": str(error)}
