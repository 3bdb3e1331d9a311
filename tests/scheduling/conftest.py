"""Helpers shared by the scheduling tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from app.scheduling import format_instant, parse_rule, preview

BASE = {"start": "2026-01-01T07:00", "timezone": "UTC"}


def fire_strings(data: dict, after: str, count: int = 8) -> list[str]:
    """Preview a rule given as JSON data and format the fires as ISO strings."""
    rule = parse_rule({**BASE, **data})
    return [format_instant(f) for f in preview(rule, datetime.fromisoformat(after), count)]


@pytest.fixture
def fires() -> Callable[..., list[str]]:
    """`fires(rule_data, after_iso, count)` -> ISO strings of the first fires."""
    return fire_strings
