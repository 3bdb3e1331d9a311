"""Typed parameters: coercion of given values and resolution of (relative) defaults."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from app.errors import ValidationFailed
from app.limits import PARAMETER, size_error

PARAMETER_TYPES = ("string", "number", "date", "boolean")


def _start_of_previous_month(d: date) -> date:
    return (d.replace(day=1) - timedelta(days=1)).replace(day=1)


RELATIVE_DATES: dict[str, Callable[[date], date]] = {
    "today": lambda d: d,
    "yesterday": lambda d: d - timedelta(days=1),
    "start_of_month": lambda d: d.replace(day=1),
    "start_of_previous_month": _start_of_previous_month,
    "end_of_previous_month": lambda d: d.replace(day=1) - timedelta(days=1),
    "start_of_year": lambda d: d.replace(month=1, day=1),
}

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def check_size(value: Any) -> None:
    """Raise ValueError naming the limit when a given parameter value is larger than
    HERALD_MAX_PARAMETER_BYTES (text measured as UTF-8, anything else as JSON)."""
    if error := size_error(PARAMETER, value):
        raise ValueError(error)


def _shown(value: Any) -> str:
    # An error message quotes the value given, never a page of it.
    text = str(value)
    return text if len(text) <= 60 else text[:60] + "…"


def coerce_value(kind: str, value: Any) -> Any:
    """Return `value` as the JSON form of a `kind` parameter, or raise ValueError saying why."""
    if kind == "string":
        if isinstance(value, bool | dict | list) or value is None:
            raise ValueError("expected text")
        return str(value)
    if kind == "number":
        if isinstance(value, bool):
            raise ValueError("expected a number")
        if isinstance(value, int | float):
            return value
        try:
            number = float(str(value).strip())
        except ValueError:
            raise ValueError(f"'{_shown(value)}' is not a number") from None
        return int(number) if number.is_integer() else number
    if kind == "date":
        if isinstance(value, date):
            return value.isoformat()
        try:
            return date.fromisoformat(str(value).strip()).isoformat()
        except ValueError:
            raise ValueError(f"'{_shown(value)}' is not a date (YYYY-MM-DD)") from None
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(f"'{_shown(value)}' is not true or false")
    raise ValueError(f"unknown parameter type '{kind}'")


class ParameterLike(Protocol):
    name: str
    type: str
    default: Any


def resolve_parameters(
    declared: Iterable[ParameterLike],
    given: Mapping[str, Any],
    at: datetime,
    timezone: str = "UTC",
) -> dict[str, Any]:
    """Effective values: given overrides, else defaults (relative dates read at `at` in `timezone`).

    Raises ValidationFailed naming every parameter that is unknown, malformed or has no value.
    """
    declared = list(declared)
    errors: dict[str, str] = {}
    names = {p.name for p in declared}
    for name in given:
        if name not in names:
            errors[f"params.{name}"] = "unknown parameter"
    today = at.astimezone(ZoneInfo(timezone)).date()
    values: dict[str, Any] = {}
    for param in declared:
        raw = given.get(param.name)
        if raw is None or raw == "":
            raw = param.default
            if param.type == "date" and isinstance(raw, str) and raw in RELATIVE_DATES:
                raw = RELATIVE_DATES[raw](today)
        if raw is None or raw == "":
            errors[f"params.{param.name}"] = f"parameter '{param.name}' has no value"
            continue
        try:
            values[param.name] = coerce_value(param.type, raw)
        except ValueError as exc:
            errors[f"params.{param.name}"] = f"parameter '{param.name}': {exc}"
    if errors:
        raise ValidationFailed(errors)
    return values


def query_binds(params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Named SQL binds: every parameter by name, every scalar of the run's data as data_<key>."""
    binds = dict(params)
    for key, value in data.items():
        if value is None or isinstance(value, str | int | float | bool):
            binds[f"data_{key}"] = value
    return binds
