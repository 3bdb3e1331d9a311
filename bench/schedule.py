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


def bench_clock_lag(jobs: int = 200) -> dict[str, float]:
    """Lag (run created − scheduled_for) of a real clock process with `jobs` due in one minute."""
    import os
    import subprocess
    import tempfile

    from app.embedded_redis import start_redis

    with tempfile.TemporaryDirectory(prefix="herald-clock-bench-") as tmp:
        redis, redis_url = start_redis(Path(tmp) / "redis", persist=False)
        env = {
            **os.environ,
            "HERALD_INSTANCE_PATH": str(Path(tmp) / "instance"),
            "REDIS_URL": redis_url,
        }
        os.environ.update(env)
        root = Path(__file__).resolve().parent.parent
        flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
        subprocess.run(
            [*flask, "db", "upgrade"], env=env, cwd=root, check=True, capture_output=True
        )
        from app import create_app
        from app.extensions import db
        from app.jobs.service import create_job
        from app.models import DataSource, ReportTemplate, Run, Workspace

        app = create_app()
        with app.app_context():
            ws = Workspace(code="bench", name="Bench")
            db.session.add(ws)
            db.session.flush()
            db.session.add(ReportTemplate(workspace_id=ws.id, code="t", name="t", html="<p>x</p>"))
            db.session.add(
                DataSource(
                    workspace_id=ws.id, code="rows", name="rows", kind="json", content='[{"a": 1}]'
                )
            )
            db.session.commit()
            rule = {"start": "2026-01-01T00:00", "trigger": "cron", "cron": "* * * * *"}
            for n in range(jobs):
                create_job(
                    ws,
                    None,
                    {
                        "code": f"job-{n}",
                        "name": f"Job {n}",
                        "scheduled": True,
                        "schedule": rule,
                        "reports": [{"template": "t"}],
                    },
                )
            clock = subprocess.Popen(
                [sys.executable, "-m", "workers.clock"],
                env=env,
                cwd=root,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                # Wait for the next minute's fires to be created, plus a margin.
                time.sleep(62 - datetime.now(UTC).second + 3)
            finally:
                clock.terminate()
                clock.wait(10)
                redis.terminate()
            runs = db.session.scalars(db.select(Run).where(Run.scheduled_for.is_not(None))).all()
            first = min(r.scheduled_for for r in runs)
            lags = sorted(
                (r.created_at - r.scheduled_for).total_seconds()
                for r in runs
                if r.scheduled_for == first
            )
    return {
        "runs": len(lags),
        "p50": lags[len(lags) // 2],
        "p99": lags[min(len(lags) - 1, int(len(lags) * 0.99))],
        "max": lags[-1],
    }


def main() -> None:
    print(f"preview: {PREVIEW_COUNT} fires, {PREVIEW_RUNS} runs per rule (ms)")
    for name, (median, p90) in bench_preview().items():
        print(f"  {name:32} median {median:7.3f}   p90 {p90:7.3f}")
    if "--no-clock" not in sys.argv:
        lag = bench_clock_lag()
        print(
            f"clock lag, {lag['runs']} jobs due in the same minute (s): "
            f"p50 {lag['p50']:.3f}  p99 {lag['p99']:.3f}  max {lag['max']:.3f}"
        )


if __name__ == "__main__":
    main()
