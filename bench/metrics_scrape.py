"""Benchmark: one scrape of a worker host's exporter (`python -m workers.metrics`) as the
number of processes that wrote to PROMETHEUS_MULTIPROC_DIR grows (each file is read at every
scrape, and files of exited processes stay until the directory is emptied at a start).

    .venv/bin/python bench/metrics_scrape.py [--processes 10,100,1000] [--scrapes 20]

Each "process" is written the way a real one would be: Herald's counters (app/metrics.py,
all label values a worker uses) under its own pid, with prometheus-client's MultiProcessValue.
Prints median and worst milliseconds per scrape over HTTP, and the directory's size.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench"
WRITER = """
import sys
from prometheus_client import values
first, count = int(sys.argv[1]), int(sys.argv[2])
for pid in range(first, first + count):
    values.ValueClass = values.MultiProcessValue(process_identifier=lambda pid=pid: pid)
    sys.modules.pop("app.metrics", None)
    from prometheus_client import REGISTRY
    for collector in list(REGISTRY._collector_to_names):
        REGISTRY.unregister(collector)
    import app.metrics as metrics
    metrics.process_started("worker")
    for status in ("Completed", "DeliveryFailed", "GenerationFailed", "Rejected"):
        metrics.entries_final(status, 3)
    for outcome in ("sent", "retry", "failed"):
        metrics.delivery_attempted("email", outcome)
    metrics.run_ended("manual", "completed")
    metrics.RENDER_SECONDS.observe(0.08)
"""


def write_processes(directory: Path, count: int) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    subprocess.run(
        [sys.executable, "-c", WRITER, "4000000", str(count)], cwd=ROOT, env=env, check=True
    )
    # Those pids (above Linux's usual pid_max) are never alive, and the exporter empties a
    # directory no live process writes to: one file in this (live) process's name keeps them.
    first = next(directory.glob("counter_*.db"))
    (directory / f"counter_{os.getpid()}.db").write_bytes(first.read_bytes())


def scrape_times(directory: Path, scrapes: int) -> list[float]:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory), "HERALD_METRICS_TOKEN": TOKEN}
    process = subprocess.Popen(
        [sys.executable, "-m", "workers.metrics", "--bind", "127.0.0.1", "--port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        while line and "serving http://" not in line:
            line = process.stdout.readline()
        url = line.split("serving ", 1)[1].strip()
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}"})
        times = []
        for _ in range(scrapes):
            start = time.perf_counter()
            with urllib.request.urlopen(request) as response:
                response.read()
            times.append((time.perf_counter() - start) * 1000)
        return times
    finally:
        process.terminate()
        process.wait(20)
        process.stdout.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", default="10,100,1000")
    parser.add_argument("--scrapes", type=int, default=20)
    args = parser.parse_args()
    print("processes  files  dir MB  scrape ms (median)  (worst)")
    for count in [int(n) for n in args.processes.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            directory = Path(tmp)
            write_processes(directory, count)
            files = list(directory.glob("*.db"))
            size = sum(p.stat().st_size for p in files) / 1e6
            times = scrape_times(directory, args.scrapes)
            print(
                f"{count:9d}  {len(files):5d}  {size:6.1f}  {statistics.median(times):18.1f}"
                f"  {max(times):7.1f}"
            )


if __name__ == "__main__":
    main()
