"""A database value as JSON: what an SQL source's rows hold, as runs store them
(`Entry.row`, `Run.shared_data` are JSON columns) and templates, CSV and XLSX files read them.

Drivers return many types JSON has no word for; each becomes the nearest JSON value, so one
column of an unusual type never stops a run (a row that cannot be stored would crash the
preparing worker on every attempt). The conversions:

- Decimal → int when whole, else float; NaN and ±infinity (float or numeric) → the text
  PostgreSQL prints for them (`NaN`, `Infinity`, `-Infinity`): RFC 8259 JSON has no such
  numbers and PostgreSQL's json type refuses Python's `NaN` token;
- date, datetime, time → ISO 8601 text (`2026-10-01`, `2026-10-01T05:06:07`, `05:06:07`);
- timedelta (an interval) → ISO 8601 duration text (`P1DT2H`, `-PT30M`);
- bytes (BLOB, bytea) → None, as before: binary data has no place in a report's text;
- arrays → lists and JSON objects → dicts, converted item by item;
- anything else (UUID, inet, cidr, ranges, driver-specific types) → its text, `str(value)`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

_NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def json_value(value: Any) -> Any:
    """`value` from a database driver as a JSON value (see the module's list)."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else _NON_FINITE[str(value)]
    if isinstance(value, Decimal):
        if not value.is_finite():
            return _NON_FINITE[str(float(value)).lower()]
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return iso_duration(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return None
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    return str(value)


def iso_duration(value: timedelta) -> str:
    """`value` as an ISO 8601 duration: days, hours, minutes and seconds (`P1DT2H30M`,
    `PT0.5S`, `-P2D`; `PT0S` for none). A negative duration gets a leading `-`."""
    sign = "-" if value < timedelta(0) else ""
    value = abs(value)
    minutes, seconds = divmod(value.seconds, 60)
    hours, minutes = divmod(minutes, 60)
    fraction = f".{value.microseconds:06d}".rstrip("0") if value.microseconds else ""
    clock = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M")) if n) + (
        f"{seconds}{fraction}S" if seconds or fraction else ""
    )
    days = f"{value.days}D" if value.days else ""
    if not days and not clock:
        return "PT0S"
    return f"{sign}P{days}" + (f"T{clock}" if clock else "")
