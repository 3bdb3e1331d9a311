"""API benchmark: GET .../runs/{id}/status of a finished 1,000-entry run at 50 connections,
next to a bare Flask JSON endpoint, both under the same gunicorn settings, measured by wrk.

    .venv/bin/python bench/api_status.py [--seconds 10] [--connections 50] [--workers 2]
                                         [--database-url postgresql://...]

Also measured: the bare endpoint with only Flask-Limiter on the same Redis, the rate limit
every API call must pass; it bounds what any endpoint behind that limiter can reach.
Needs `wrk` (Debian package wrk).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.embedded_redis import start_redis  # noqa: E402

# Sync workers measured best here (gthread: 315 req/s, sync ×2: 743, on the 2-core machine).
GUNICORN = ["--worker-class", "sync", "--log-level", "warning"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listening on {port}")


def setup(env: dict[str, str]) -> tuple[str, str]:
    """A workspace, job, finished 1,000-entry run and read token; returns (url path, token)."""
    os.environ.update(env)
    if env.get("DATABASE_URL", "").startswith("postgresql"):
        from sqlalchemy import create_engine, text

        with create_engine(env["DATABASE_URL"]).begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    from sqlalchemy import insert

    from app import create_app
    from app.database import utcnow
    from app.extensions import db
    from app.jobs.service import create_job
    from app.models import Entry, Membership, ReportTemplate, Run, User, Workspace
    from app.tokens import create_token

    app = create_app()
    with app.app_context():
        ws = Workspace(code="bench", name="Bench")
        user = User(email="bench@example.com", name="Bench")
        user.set_password("x")
        db.session.add_all([ws, user])
        db.session.flush()
        db.session.add(Membership(user_id=user.id, workspace_id=ws.id, role="admin"))
        db.session.add(ReportTemplate(workspace_id=ws.id, code="t", name="t", html="<p>x</p>"))
        db.session.commit()
        job = create_job(
            ws, None, {"code": "statements", "name": "Statements", "reports": [{"template": "t"}]}
        )
        now = utcnow()
        run = Run(
            workspace_id=ws.id,
            job_id=job.id,
            trigger="api",
            status="finished",
            params={},
            entry_count=1000,
            started_at=now,
            finished_at=now,
        )
        db.session.add(run)
        db.session.flush()
        db.session.execute(
            insert(Entry),
            [
                {
                    "run_id": run.id,
                    "seq": i + 1,
                    "row": {"id": i},
                    "status": "Completed",
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(1000)
            ],
        )
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # What autovacuum does within a minute of a run's rows landing: without statistics
            # the planner sorts all 1,000 entries instead of reading the (run_id, status) index.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        _, token = create_token(user, ws, name="bench", permissions=["jobs:read"])
        return f"/api/v1/ws/bench/jobs/statements/runs/{run.id}/status", token


def wait_until_serving(url: str, token: str | None, workers: int) -> None:
    """Until every worker has imported the app: a listening port only means the master is up."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)
    deadline = time.monotonic() + 60
    served = 0
    while served < 20 * workers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer 200")
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                served += response.status == 200
        except OSError:
            time.sleep(0.2)


def wrk(url: str, seconds: int, connections: int, token: str | None) -> tuple[float, float]:
    """Requests/s and p99 latency (ms)."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if token:
        command[1:1] = ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        raise RuntimeError(f"{non_2xx[1]} failed responses:\n{out}")
    return rate, p99


def serve(
    app_path: str, port: int, env: dict[str, str], cwd: Path, workers: int
) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            app_path,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            *GUNICORN,
        ],
        env=env,
        cwd=cwd,
    )
    wait_for_port(port)
    return process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", help="default: a fresh SQLite file (PostgreSQL: emptied)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    with tempfile.TemporaryDirectory(prefix="herald-api-bench-") as tmp:
        redis, redis_url = start_redis(Path(tmp) / "redis", persist=False)
        env = {
            **os.environ,
            "HERALD_INSTANCE_PATH": str(Path(tmp) / "instance"),
            "REDIS_URL": redis_url,
            "HERALD_API_RATE_LIMIT": "100000000 per minute",
        }
        if args.database_url:
            env["DATABASE_URL"] = args.database_url
        path, token = setup(env)
        env["BENCH_LIMIT_URI"] = "redis+unix://" + redis_url.removeprefix("unix://")
        herald_port, bare_port, limited_port = free_port(), free_port(), free_port()
        herald = serve("wsgi:app", herald_port, env, ROOT, args.workers)
        bare = serve("bare_app:app", bare_port, env, ROOT / "bench", args.workers)
        limited = serve("bare_app:limited", limited_port, env, ROOT / "bench", args.workers)
        try:
            results = []
            for url, bearer in (
                (f"http://127.0.0.1:{herald_port}{path}", token),
                (f"http://127.0.0.1:{bare_port}/status", None),
                (f"http://127.0.0.1:{limited_port}/status", None),
            ):
                wait_until_serving(url, bearer, args.workers)
                wrk(url, 2, args.connections, bearer)  # warm up
                results.append(wrk(url, args.seconds, args.connections, bearer))
            (herald_rate, herald_p99), (bare_rate, bare_p99), (limited_rate, limited_p99) = results
        finally:
            for process in (herald, bare, limited, redis):
                process.terminate()
                process.wait(10)
    print(
        f"GET run status (1,000 entries), {args.connections} connections, {args.seconds} s, "
        f"gunicorn --workers {args.workers} (sync)"
    )
    print(f"herald API   {herald_rate:8.0f} req/s   p99 {herald_p99:6.1f} ms")
    print(f"bare Flask   {bare_rate:8.0f} req/s   p99 {bare_p99:6.1f} ms")
    print(
        f"bare + Flask-Limiter on Redis {limited_rate:8.0f} req/s   p99 {limited_p99:6.1f} ms"
        f"   ({100 * limited_rate / bare_rate:.0f}% of bare)"
    )
    print(f"herald / bare = {100 * herald_rate / bare_rate:.0f}%   (target >= 60%, p99 < 50 ms)")
    print(f"herald / (bare + Flask-Limiter) = {100 * herald_rate / limited_rate:.0f}%")


if __name__ == "__main__":
    main()
