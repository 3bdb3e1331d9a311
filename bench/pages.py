"""Page benchmark: the run page of a 10,000-entry run, its search and deep paging, the job list.

    .venv/bin/python bench/pages.py [--entries 10000] [--jobs 200] [--repeat 20]
                                    [--database-url postgresql://...]

Writes a finished run directly into a fresh database (bulk inserts: entries with a row, one
artifact and one delivery each; nothing is rendered or sent), logs in through the real form,
then times GETs through the Flask test client and prints the median and worst in ms.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from sqlalchemy import insert, select, text  # noqa: E402

from app.database import utcnow  # noqa: E402

PASSWORD = "bench-password"
CITIES = ["Lisbon", "Porto", "Oslo", "Turku", "Graz", "Lyon", "Ghent", "Cork"]


def make_app(instance: Path, database_url: str | None) -> Flask:
    from app import create_app

    app = create_app(
        {
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": database_url or f"sqlite:///{instance / 'bench.db'}",
            "REDIS_URL": "redis://127.0.0.1:1/0",  # never used: nothing is queued
            "STORAGE_DIR": str(instance / "storage"),
            "OUTBOX_DIR": None,
        }
    )
    with app.app_context():
        from flask_migrate import upgrade

        from app.extensions import db

        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
    return app


def seed(entries: int, jobs: int) -> int:
    """A workspace, an editor, `jobs` jobs and one finished run of `entries` entries; its id."""
    from app.extensions import db
    from app.jobs.service import create_job
    from app.models import (
        Artifact,
        DataSource,
        Entry,
        EntryDelivery,
        Membership,
        ReportTemplate,
        Run,
        User,
        Workspace,
    )

    ws = Workspace(code="bench", name="Bench")
    user = User(email="bench@herald.local", name="Bench")
    user.set_password(PASSWORD)
    db.session.add_all([ws, user])
    db.session.flush()
    db.session.add(Membership(user_id=user.id, workspace_id=ws.id, role="editor"))
    db.session.add(
        DataSource(workspace_id=ws.id, code="people", name="People", kind="json", content="[]")
    )
    db.session.add(
        ReportTemplate(
            workspace_id=ws.id,
            code="letter",
            name="Letter",
            html="<p>{{ people.name }}</p>",
            parameters=[],
            data_sources=[],
        )
    )
    db.session.commit()
    now = utcnow()
    created = []
    for i in range(jobs):
        created.append(
            create_job(
                ws,
                None,
                {
                    "code": f"job-{i:04d}",
                    "name": f"Statement run {i:04d}",
                    "description": f"Monthly statements for region {i % 17}",
                    "data_sources": [{"alias": "people", "source": "people", "repeating": True}],
                    "reports": [{"template": "letter"}],
                },
            )
        )
    for i, job in enumerate(created):
        job.last_run_at, job.last_run_status = now - timedelta(hours=i), "completed"
    db.session.commit()

    run = Run(
        workspace_id=ws.id,
        job_id=created[0].id,
        trigger="manual",
        status="finished",
        entry_count=entries,
        finished_at=now,
    )
    db.session.add(run)
    db.session.flush()
    statuses = ["Completed"] * 97 + ["DeliveryFailed", "CompletedWithErrors", "PendingReview"]
    db.session.execute(
        insert(Entry),
        [
            {
                "run_id": run.id,
                "seq": i,
                "status": statuses[i % len(statuses)],
                "stage": "deliver",
                "row": {
                    "id": i,
                    "name": f"Customer {i:05d}",
                    "email": f"customer{i}@example.com",
                    "city": CITIES[i % len(CITIES)],
                },
                "finished_at": now,
            }
            for i in range(1, entries + 1)
        ],
    )
    ids = db.session.scalars(select(Entry.id).filter_by(run_id=run.id).order_by(Entry.seq)).all()
    db.session.execute(
        insert(Artifact),
        [
            {
                "entry_id": entry_id,
                "position": 0,
                "report_code": "letter",
                "filename": f"statement-{n}.pdf",
                "status": "generated",
                "storage_key": f"bench/{entry_id}.pdf",
                "size": 43_000,
            }
            for n, entry_id in enumerate(ids, 1)
        ],
    )
    db.session.execute(
        insert(EntryDelivery),
        [
            {
                "entry_id": entry_id,
                "position": 0,
                "kind": "email",
                "status": "sent",
                "attempts": 1,
                "detail": {"to": [f"customer{n}@example.com"], "subject": "Your statement"},
                "sent_at": now,
            }
            for n, entry_id in enumerate(ids, 1)
        ],
    )
    db.session.commit()
    return run.id


def login(client) -> None:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)[1]
    response = client.post(
        "/login",
        data={"email": "bench@herald.local", "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302, "login failed"


def timed(client, url: str, repeat: int, expect: str) -> list[float]:
    response = client.get(url)  # warm-up (template compilation, statement caches)
    assert response.status_code == 200 and expect in response.text, url
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, url
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database-url", help="default: a fresh SQLite file (PostgreSQL: emptied)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="herald-pages-") as tmp:
        app = make_app(Path(tmp), args.database_url)
        with app.app_context():
            from app.extensions import db

            started = time.perf_counter()
            run_id = seed(args.entries, args.jobs)
            seeded = time.perf_counter() - started
            dialect = db.engine.dialect.name
        # Requests run outside that context, so each gets its own session as in production.
        client = app.test_client()
        login(client)
        last_page = (args.entries + 49) // 50
        probe = f"Customer {args.entries - 1:05d}"
        pages = [
            ("run page", f"/w/bench/runs/{run_id}", 'data-bucket="total">'),
            ("run page, search ?q=", f"/w/bench/runs/{run_id}?q={probe}", probe),
            (
                "run page, ?status=DeliveryFailed",
                f"/w/bench/runs/{run_id}?status=DeliveryFailed",
                "DeliveryFailed",
            ),
            (f"run page, page {last_page}", f"/w/bench/runs/{run_id}?page={last_page}", probe),
            ("job list", "/w/bench/jobs", "Statement run 0000"),
            (
                "job list, ?sort=last_run&dir=desc&page=2",
                "/w/bench/jobs?sort=last_run&dir=desc&page=2",
                "Statement run 0025",
            ),
            ("job list, search ?q=region 7", "/w/bench/jobs?q=region+7", "region 7"),
        ]
        print(
            f"{dialect}: {args.entries} entries, {args.jobs} jobs seeded in {seeded:.1f} s; "
            f"median / max of {args.repeat} GETs"
        )
        for label, url, expect in pages:
            samples = timed(client, url, args.repeat, expect)
            print(f"  {label:<42} {statistics.median(samples):7.1f} ms {max(samples):7.1f} ms")
        with app.app_context():
            db.engine.dispose()  # before the temporary directory (and SQLite file) goes


if __name__ == "__main__":
    main()
