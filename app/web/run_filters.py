"""The Runs list's filters from a query string: job code, outcome word and a date range."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from app.runs.queries import OUTCOMES


def _day(value: str) -> date:
    return date.fromisoformat(value)


def run_filters(args: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The filters as typed (`job`, `outcome`, `date_from`, `date_to`; None when empty) and
    an error per field that cannot be used (that filter is then not applied): an unknown
    outcome word, a date that is not YYYY-MM-DD, a range that ends before it starts."""
    errors: dict[str, str] = {}
    filters: dict[str, Any] = {
        "job": (args.get("job") or "").strip()[:64] or None,
        "outcome": args.get("outcome") or None,
        "date_from": (args.get("from") or "").strip() or None,
        "date_to": (args.get("to") or "").strip() or None,
    }
    if filters["outcome"] and filters["outcome"] not in OUTCOMES:
        errors["outcome"] = "choose one of the listed outcomes"
        filters["outcome"] = None
    days: dict[str, date] = {}
    for key, label in (("date_from", "from"), ("date_to", "to")):
        if filters[key]:
            try:
                days[key] = _day(filters[key])
            except ValueError:
                errors[label] = "enter a date as YYYY-MM-DD"
                filters[key] = None
    if len(days) == 2 and days["date_to"] < days["date_from"]:
        errors["to"] = "the range ends before it starts"
        filters["date_to"] = None
    return filters, errors


def date_bounds(
    date_from: str | None, date_to: str | None, zone: tzinfo
) -> tuple[datetime | None, datetime | None]:
    """[start, end) instants of an inclusive day range as the viewer reads it: from the
    start of `date_from` to the end of `date_to`, both in `zone`. Dates already checked."""
    start = datetime.combine(_day(date_from), time(), zone) if date_from else None
    end = datetime.combine(_day(date_to) + timedelta(days=1), time(), zone) if date_to else None
    return start, end
