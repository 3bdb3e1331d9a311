"""Fan-out benchmark: `prepare_run` for 10,000 / 100,000 / 1,000,000 repeating rows.

    .venv/bin/python bench/fanout.py [--sizes 10000,100000,1000000]
        [--database-url postgresql://postgres@127.0.0.1:5432/herald_x] [--source sql|csv]

What is timed is `prepare_run` alone: the repeating rows read from a real data source (an SQL
table, or a stored CSV), one entry and one pending email delivery created per row, each entry
queued for generation in a private Redis. Each size runs in a fresh child process, so the
peak RSS printed (`ru_maxrss`) is that size's; "base" is the child's RSS before the run
(the app and the run's snapshot loaded). "cpu s" is the preparing process's own CPU time: on
a shared machine wall time follows the load average, printed on each line.

The SQL source is a `customers` table in a database beside Herald's: on SQLite a file in the
SQLite data directory, on PostgreSQL the database `<name>_source` on the same server (created
when missing). `--database-url` must name a scratch database: its schema is dropped and
migrated again for every size. SQLite runs in a temporary instance directory.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from redis import Redis  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app.embedded_redis import start_redis  # noqa: E402

QUERY = "SELECT id, name, email, city, balance FROM customers ORDER BY id"
CITIES = ("Lyon", "Oslo", "Porto", "Riga")


def customer(n: int) -> tuple[int, str, str, str, float]:
    return n, f"Customer {n}", f"customer{n}@example.com", CITIES[n % 4], (n % 1000) * 1.25


# --- the source data (built by the parent, so it costs the measured child nothing) --------


def source_url(database_url: str | None, instance: Path) -> str:
    """The SQL connection URL the workspace uses to read `customers`."""
    if database_url is None:
        return "sqlite:///customers.db"  # inside HERALD_SQLITE_DIR (instance/data)
    url = make_url(database_url)
    return url.set(database=f"{url.database}_source").render_as_string(hide_password=False)


def build_sql_source(database_url: str | None, instance: Path, rows: int) -> None:
    if database_url is None:
        path = instance / "data" / "customers.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        with sqlite3.connect(path) as conn:
            conn.execute(
                "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, "
                "city TEXT, balance REAL)"
            )
            conn.executemany(
                "INSERT INTO customers VALUES (?, ?, ?, ?, ?)",
                (customer(n) for n in range(1, rows + 1)),
            )
        return
    server = make_url(database_url).set(drivername="postgresql+psycopg", database="postgres")
    name = f"{make_url(database_url).database}_source"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if exists.first() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))  # bench-owned name, not user data
    admin.dispose()
    engine = create_engine(server.set(database=name))
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS customers"))
        conn.execute(
            text(
                "CREATE TABLE customers AS SELECT g AS id, 'Customer ' || g AS name, "
                "'customer' || g || '@example.com' AS email, "
                "(ARRAY['Lyon','Oslo','Porto','Riga'])[1 + g % 4] AS city, "
                "((g % 1000) * 1.25)::float AS balance FROM generate_series(1, :rows) AS g"
            ),
            {"rows": rows},
        )
        conn.execute(text("ALTER TABLE customers ADD PRIMARY KEY (id)"))
    engine.dispose()


def csv_content(rows: int) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "name", "email", "city", "balance"])
    writer.writerows(customer(n) for n in range(1, rows + 1))
    return out.getvalue()


# --- the children -------------------------------------------------------------------------


def setup_child(kind: str, rows: int, url: str) -> None:
    """A migrated, empty Herald database with one workspace and one bursting job."""
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.jobs.service import create_job
    from app.models import Connection, DataSource, ReportTemplate, Workspace

    app = create_app()
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        ws = Workspace(code="bench", name="Bench")
        db.session.add(ws)
        db.session.flush()
        smtp = {"host": "127.0.0.1", "port": 2525, "from": "Billing <billing@example.com>"}
        db.session.add(
            Connection(
                workspace_id=ws.id,
                code="mail",
                name="Mail",
                kind="smtp",
                is_default=True,
                settings=smtp,
            )
        )
        if kind == "sql":
            sql = Connection(
                workspace_id=ws.id, code="db", name="db", kind="sql", settings={"url": url}
            )
            db.session.add(sql)
            db.session.flush()
            source = DataSource(
                workspace_id=ws.id,
                code="customers",
                name="Customers",
                kind="sql",
                connection_id=sql.id,
                query=QUERY,
            )
        else:  # stored as a saved upload is: normalized comma CSV (no size limit here)
            source = DataSource(
                workspace_id=ws.id,
                code="customers",
                name="Customers",
                kind="csv",
                content=csv_content(rows),
            )
        db.session.add(source)
        db.session.add(
            ReportTemplate(
                workspace_id=ws.id,
                code="statement",
                name="Statement",
                html="<p>{{ customers.name }}: {{ customers.balance }}</p>",
                css="",
                parameters=[],
                data_sources=[],
            )
        )
        db.session.commit()
        create_job(ws, None, {
            "code": "statements", "name": "Statements",
            "data_sources": [{"alias": "customers", "source": "customers", "repeating": True}],
            "reports": [{"template": "statement"}],
            "deliveries": [{"kind": "email", "to": "{customers.email}",
                            "subject": "Your statement", "message": "Attached."}],
        })  # fmt: skip


def rss_now_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def prepare_child() -> None:
    """Time `prepare_run` of one run of the job; print its figures as one JSON line."""
    from sqlalchemy import func, select

    from app import create_app
    from app.extensions import db, queues
    from app.models import Entry, EntryDelivery, Job, Run
    from app.runs.create import start_run
    from app.runs.prepare import prepare_run

    app = create_app()
    with app.app_context():
        job = db.session.scalars(select(Job).filter_by(code="statements")).one()
        run_id = start_run(job, None).id
        queues.queue("generate").empty()  # the prepare job itself: we call it here
        db.session.get(Run, run_id).snapshot  # noqa: B018 (what any preparing worker loads)
        db.session.expire_all()
        base = rss_now_mb()
        started, cpu = time.perf_counter(), time.process_time()
        prepare_run(run_id)
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu  # this process only (not PostgreSQL's or Redis's)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        run = db.session.get(Run, run_id)
        count = db.session.scalar(select(func.count()).where(Entry.run_id == run_id))
        queued = db.session.scalar(
            select(func.count()).where(Entry.run_id == run_id, Entry.status == "Queued")
        )
        deliveries = db.session.scalar(select(func.count()).select_from(EntryDelivery))
        jobs = queues.queue("generate").count
        print(json.dumps({
            "seconds": seconds, "cpu": cpu, "peak_mb": peak, "base_mb": base, "status": run.status,
            "error": run.error, "entries": count, "queued": queued, "deliveries": deliveries,
            "jobs": jobs, "dialect": db.engine.dialect.name,
        }))  # fmt: skip


# --- the parent ---------------------------------------------------------------------------


def run_size(args: argparse.Namespace, rows: int, tmp: Path, redis_url: str) -> dict:
    instance = tmp / f"instance-{rows}"
    instance.mkdir()
    env = {
        **os.environ,
        "HERALD_INSTANCE_PATH": str(instance),
        "REDIS_URL": redis_url,
        "HERALD_SQL_ROW_LIMIT": str(rows),
        "HERALD_LOG_LEVEL": "WARNING",
    }
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    else:
        env.pop("DATABASE_URL", None)
    if args.source == "sql":
        build_sql_source(args.database_url, instance, rows)
    url = source_url(args.database_url, instance)
    me = [sys.executable, __file__]
    setup = [*me, "--child", "setup", "--source", args.source, "--rows", str(rows), "--url", url]
    made = subprocess.run(setup, env=env, cwd=ROOT, capture_output=True, text=True)
    if made.returncode:
        sys.exit(f"setup failed:\n{made.stderr}")
    Redis.from_url(redis_url).flushall()
    done = subprocess.run(
        [*me, "--child", "prepare"], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(f"prepare failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--database-url", default=None, help="a scratch PostgreSQL database")
    parser.add_argument("--source", choices=("sql", "csv"), default="sql")
    parser.add_argument("--child", choices=("setup", "prepare"), help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--url", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "setup":
        return setup_child(args.source, args.rows, args.url)
    if args.child == "prepare":
        return prepare_child()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="herald-fanout-") as tmp:
        redis, redis_url = start_redis(Path(tmp) / "redis", persist=False)
        try:
            print(f"database: {args.database_url or 'SQLite'}; source: {args.source}")
            print(
                f"{'rows':>9} {'seconds':>8} {'rows/s':>8} {'cpu s':>8} {'peak MB':>8} "
                f"{'base MB':>8}  check  (load {os.getloadavg()[0]:.1f})",
                flush=True,
            )
            for rows in sizes:
                r = run_size(args, rows, Path(tmp), redis_url)
                ok = r["entries"] == r["queued"] == r["jobs"] == r["deliveries"] == rows
                check = "ok" if ok else f"MISMATCH {r}"
                print(
                    f"{rows:9d} {r['seconds']:8.1f} {rows / r['seconds']:8.0f} {r['cpu']:8.1f} "
                    f"{r['peak_mb']:8.0f} {r['base_mb']:8.0f}  {check}  "
                    f"(load {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
        finally:
            redis.terminate()
            redis.wait(10)


if __name__ == "__main__":
    main()
