"""Size limits: how large a request, a parameter value, a run's `data`, a data source's content
and a template's source may be (settings HERALD_MAX_*), how sizes are measured, and the one
message every face shows when something is over its limit."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask import current_app, has_app_context

KB = 1024
MB = 1024 * KB


@dataclass(frozen=True)
class Limit:
    """One bound: the config key that holds it (bytes), its setting's name, what it bounds."""

    key: str
    setting: str
    default: int
    what: str


# The defaults, and why:
# - a request body carries at most one CSV upload (10 MB) plus its form, multipart-encoded;
# - a parameter value is an id, a date, a filter or a short note, shown on run pages and bound
#   into SQL: 4 KB holds any of them (a list of a few hundred ids);
# - a run's `data` is per-run context for templates and `:data_<key>` binds, stored on every
#   run: 64 KB is many pages of text and keeps the runs table small;
# - CSV/JSON content is stored on its row and parsed on every run: 10 MB is ~100,000 rows of
#   100 bytes, the same order as the SQL row limit (HERALD_SQL_ROW_LIMIT);
# - a template is hand-written HTML or CSS compiled for every render: 512 KB is far beyond any
#   real one (images belong in assets, not inline).
REQUEST = Limit("MAX_CONTENT_LENGTH", "HERALD_MAX_REQUEST_BYTES", 16 * MB, "a request")
PARAMETER = Limit("MAX_PARAMETER_BYTES", "HERALD_MAX_PARAMETER_BYTES", 4 * KB, "a parameter value")
DATA = Limit("MAX_DATA_BYTES", "HERALD_MAX_DATA_BYTES", 64 * KB, "a run's data")
SOURCE = Limit("MAX_SOURCE_BYTES", "HERALD_MAX_SOURCE_BYTES", 10 * MB, "a data source's content")
TEMPLATE = Limit("MAX_TEMPLATE_BYTES", "HERALD_MAX_TEMPLATE_BYTES", 512 * KB, "a template source")
LIMITS = (REQUEST, PARAMETER, DATA, SOURCE, TEMPLATE)


def parse_size(text: str) -> int:
    """Bytes from `16777216`, `512KB`/`512K` or `16MB`/`16M` (binary: 1 KB = 1024 bytes).

    Raises ValueError for anything else, or a size below 1 byte."""
    cleaned = text.strip().upper().removesuffix("B")
    factor = {"K": KB, "M": MB}.get(cleaned[-1:], 1)
    number = int(cleaned[:-1] if factor > 1 else cleaned)
    if number < 1:
        raise ValueError(f"a size must be at least 1 byte, not {text!r}")
    return number * factor


def maximum(limit: Limit) -> int:
    """The bound in bytes: the app's setting, or the default outside an app (a plain script)."""
    if has_app_context():
        return int(current_app.config.get(limit.key) or limit.default)
    return limit.default


def format_size(size: int) -> str:
    """`size` bytes for people: "900 bytes", "4 KB", "1.5 MB" (binary multiples)."""
    if size < KB:
        return f"{size} bytes"
    if size < MB:
        return f"{size / KB:.1f}".removesuffix(".0") + " KB"
    return f"{size / MB:.1f}".removesuffix(".0") + " MB"


def size_of(value: Any) -> int:
    """Bytes a value takes: text as UTF-8, anything else as compact JSON (what is stored)."""
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, bytes):
        return len(value)
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return len(text.encode("utf-8"))


def too_large(limit: Limit, size: int | None = None) -> str:
    """The message for something over `limit`, naming the limit and the setting that raises it."""
    bound = format_size(maximum(limit))
    if size is None:
        given = "too large"
    else:  # "4 KB is too large … at most 4 KB" would puzzle: just over shows exact bytes
        shown = format_size(size)
        given = f"{shown if shown != bound else f'{size:,} bytes'} is too large"
    return f"{given}: {limit.what} may be at most {bound} ({limit.setting})"


def size_error(limit: Limit, value: Any) -> str | None:
    """`too_large(...)` when `value` is over `limit`, else None."""
    size = size_of(value)
    return too_large(limit, size) if size > maximum(limit) else None
