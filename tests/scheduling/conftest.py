"""Fixtures of the scheduling tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.helpers import fire_strings


@pytest.fixture
def fires() -> Callable[..., list[str]]:
    """`fires(rule_data, after_iso, count)` -> ISO strings of the first fires."""
    return fire_strings
