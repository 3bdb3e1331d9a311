"""Benchmarks for scheduling: `python bench/schedule.py` prints median and p90 timings."""

from __future__ import annotations

import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.scheduling import ScheduleRule, parse_rule, preview  # noqa: E402

PREVIEW_RUNS = 500
PREVIEW_COUNT = 20
AFTER = datetime(2026, 1, 1, tzinfo=UTC)

TYPICAL_RULES: dict[str, dict] = {
    "monthly last weekday, every 3": {
        "start": "2026-01-01T18:00",
        "timezone": "Europe/Berlin",
        "trigger": "monthly",
        "every": 3,
        "days": ["mon", "tue", "wed", "thu", "fri"],
        "occurrence": 1,
        "from_end": True,
    },
    "daily weekdays": {
        "start": "2026-01-01T07:00",
        "timezone": "America/New_York",
        "trigger": "daily",
        "days": ["mon", "tue", "wed", "thu", "fri"],
    },
    "hourly": {"start": "2026-01-01T00:15", "timezone": "Australia/Lord_Howe", "trigger": "hourly"},
    "cron */15 office hours": {
        "start": "2026-01-01T00:00",
        "timezone": "Europe/Berlin",
        "trigger": "cron",
        "cron": "*/15 9-17 * * mon-fri",
    },
    "yearly March 31": {
        "start": "2026-01-01T06:00",
        "timezone": "Pacific/Auckland",
        "trigger": "yearly",
        "month": 3,
        "day": 31,
    },
}


def _percentiles(samples: list[float]) -> tuple[float, float]:
    """Median and 90th percentile, in milliseconds."""
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.9)] * 1000


def _time_preview(rule: ScheduleRule) -> list[float]:
    samples = []
    for _ in range(PREVIEW_RUNS):
        began = time.perf_counter()
        preview(rule, AFTER, PREVIEW_COUNT)
        samples.append(time.perf_counter() - began)
    return samples


def bench_preview() -> dict[str, tuple[float, float]]:
    """Median and p90 (ms) of a 20-fire preview per typical rule, plus 'all' pooled."""
    results: dict[str, tuple[float, float]] = {}
    pooled: list[float] = []
    for name, data in TYPICAL_RULES.items():
        samples = _time_preview(parse_rule(data))
        pooled.extend(samples)
        results[name] = _percentiles(samples)
    results["all"] = _percentiles(pooled)
    return results


def main() -> None:
    print(f"preview: {PREVIEW_COUNT} fires, {PREVIEW_RUNS} runs per rule (ms)")
    for name, (median, p90) in bench_preview().items():
        print(f"  {name:32} median {median:7.3f}   p90 {p90:7.3f}")


if __name__ == "__main__":
    main()
