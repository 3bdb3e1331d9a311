"""What the garbage collector costs a render: the demo statement rendered in a process that has
loaded Herald (as a worker has), with its startup heap left to the collector and frozen.

    .venv/bin/python bench/render_heap.py [--statements 40] [--rounds 3]

Each variant runs in a fresh process: the same 40 customers' statements (HTML made first),
rendered by Herald's `html_to_pdf` `--rounds` times; prints the median ms per statement of each
variant and their ratio. A worker freezes its startup heap (workers/worker.py keep_for_life).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def measure(frozen: bool, statements: int, rounds: int) -> float:
    """Median ms per statement, in this process (called in a fresh one per variant)."""
    import gc

    from app import create_app
    from app.demo.data import build_demo_database
    from app.demo.seed import QUERIES
    from bench import burst

    burst.PERIOD = date.today().replace(day=1).isoformat()
    tmp = Path(tempfile.mkdtemp(prefix="herald-heap-"))
    os.environ["HERALD_INSTANCE_PATH"] = str(tmp / "instance")
    create_app()  # a worker's heap: the app and everything it imports
    import workers.tasks  # noqa: F401
    from app.rendering.pdf import html_to_pdf

    build_demo_database(tmp / "northwind.db", customers=statements)
    conn = sqlite3.connect(tmp / "northwind.db")
    template = burst.jinja_env().from_string(
        (ROOT / "app/demo/customer-statement.html").read_text()
    )
    css = (ROOT / "app/demo/customer-statement.css").read_text()
    customers = burst._rows(conn, QUERIES["customers"][1], {})[:statements]
    pages = [template.render(burst.naive_context(conn, c["id"])) for c in customers]
    if frozen:
        gc.collect()
        gc.freeze()
    for page in pages[:3]:
        html_to_pdf(page, css, 1)  # warm the font cache
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        for page in pages:
            html_to_pdf(page, css, 1)
        times.append((time.perf_counter() - started) / len(pages) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--variant", choices=["collected", "frozen"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        print(measure(args.variant == "frozen", args.statements, args.rounds))
        return
    results = {}
    for variant in ("collected", "frozen"):
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--variant",
                variant,
                "--statements",
                str(args.statements),
                "--rounds",
                str(args.rounds),
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        results[variant] = float(out.strip().splitlines()[-1])
        print(f"{variant:9s} heap: {results[variant]:6.1f} ms per statement", flush=True)
    print(f"frozen / collected = {results['frozen'] / results['collected']:.2f}")


if __name__ == "__main__":
    main()
