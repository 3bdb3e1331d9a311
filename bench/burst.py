"""Burst benchmark: Herald vs the naive serial script vs raw WeasyPrint in 2 processes.

    .venv/bin/python bench/burst.py [--customers 1000] [--workers 2] [--no-naive]
        [--storage-url s3://b/p] [--database-url postgresql+psycopg://…/test]
        [--raw-customers 2000]
    .venv/bin/python bench/burst.py --formats pdf,csv,xlsx [--rounds 2]

Each contender turns the same customers into the same one-page statements; Herald and the
naive script also email each one to a local aiosmtpd server. Prints PDFs/s and the ratios, and
each Herald worker's peak RSS (VmRSS of its working process, sampled each second) up to 50,
1,000, 5,000 and 10,000 entries done. Raw WeasyPrint runs before and after Herald; the ratio
uses the mean and the drift between the two is printed (a shared machine's speed varies).
`--storage-url s3://bucket/prefix` stores Herald's artifacts in that bucket: on a moto S3
server this script starts (in its own process), unless HERALD_S3_ENDPOINT_URL names one.

With --formats beyond pdf, Herald alone runs the burst with the PDF only and with those
formats (the CSV and XLSX of the statement's transactions, all attached to the email),
alternating for --rounds rounds in the same process, and prints entries/s of each and the
cost of the extra files (docs/OUTPUTS.md; target: CSV+XLSX add at most 10%).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import smtplib
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402

from app.demo.data import build_demo_database  # noqa: E402
from app.demo.seed import QUERIES  # noqa: E402
from app.embedded_redis import start_redis  # noqa: E402
from app.storage import parse_storage_url  # noqa: E402
from tests.s3server import CREDENTIALS, REGION, create_bucket, s3_server  # noqa: E402

PERIOD = None  # set in main: the current month, as the demo job's default


class CountingHandler:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
        self.count += 1
        return "250 OK"


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):  # ended meanwhile (ENOENT or ESRCH)
        pass
    return 0.0


def working_rss_mb(pid: int) -> float:
    """RSS of the process doing a worker's jobs: the forked child of `python -m workers.worker`
    (workers/recycle.py), or the process itself when it works alone (max jobs 0)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except (FileNotFoundError, ProcessLookupError):  # ended meanwhile
        children = []
    return max((rss_mb(int(child)) for child in children), default=0.0) or rss_mb(pid)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the naive script a user would write -------------------------------------------------


def _rows(conn: sqlite3.Connection, query: str, binds: dict) -> list[dict]:
    conn.row_factory = sqlite3.Row
    return [dict(r) for r in conn.execute(query, binds)]


def naive_context(conn: sqlite3.Connection, customer_id: int) -> dict:
    binds = {"customerId": customer_id, "period": PERIOD}
    return {
        "params": binds,
        "customer": _rows(conn, QUERIES["customer"][1], binds),
        "transactions": _rows(conn, QUERIES["transactions"][1], binds),
        "opening": _rows(conn, QUERIES["opening"][1], binds),
        "monthly": _rows(conn, QUERIES["monthly"][1], binds),
    }


def jinja_env():
    import jinja2

    from app.rendering.charts import chart
    from app.rendering.environment import format_date, money, month_end

    env = jinja2.Environment(autoescape=True)
    env.filters.update(money=money, date=format_date, month_end=month_end)
    env.globals.update(chart=chart)
    return env


def naive_script(db_path: Path, smtp_port: int, limit: int) -> tuple[int, float]:
    """Query, render, convert and send row by row, as a cron script would."""
    import weasyprint

    html_source = (ROOT / "app/demo/customer-statement.html").read_text()
    css = (ROOT / "app/demo/customer-statement.css").read_text()
    template = jinja_env().from_string(html_source)
    started = time.perf_counter()
    conn = sqlite3.connect(db_path)
    customers = _rows(conn, QUERIES["customers"][1], {})[:limit]
    smtp = smtplib.SMTP("127.0.0.1", smtp_port)
    made = 0
    for customer in customers:
        html = template.render(naive_context(conn, customer["id"]))
        pdf = weasyprint.HTML(string=html).write_pdf(stylesheets=[weasyprint.CSS(string=css)])
        made += 1
        if not customer["email"]:
            continue
        message = EmailMessage()
        message["From"], message["To"] = "billing@northwind.example", customer["email"]
        message["Subject"] = f"Your statement for {PERIOD}"
        message.set_content(f"Dear {customer['name']}, your statement is attached.")
        message.add_attachment(
            pdf, maintype="application", subtype="pdf", filename=f"statement-{customer['id']}.pdf"
        )
        smtp.send_message(message)
    smtp.quit()
    return made, time.perf_counter() - started


# --- raw WeasyPrint in 2 processes --------------------------------------------------------

_font_config = None


def _raw_render(args: tuple[str, str]) -> int:
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    global _font_config
    _font_config = _font_config or FontConfiguration()
    html, css = args
    pdf = weasyprint.HTML(string=html).write_pdf(
        stylesheets=[weasyprint.CSS(string=css, font_config=_font_config)],
        font_config=_font_config,
    )
    return len(pdf)


def raw_weasyprint(db_path: Path, limit: int, processes: int) -> tuple[int, float]:
    """Only the HTML→PDF conversion of pre-rendered statements, in a process pool."""
    html_source = (ROOT / "app/demo/customer-statement.html").read_text()
    css = (ROOT / "app/demo/customer-statement.css").read_text()
    template = jinja_env().from_string(html_source)
    conn = sqlite3.connect(db_path)
    customers = _rows(conn, QUERIES["customers"][1], {})[:limit]
    pages = [(template.render(naive_context(conn, c["id"])), css) for c in customers]
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        pool.map(_raw_render, pages[: processes * 2])  # warm both processes
        started = time.perf_counter()
        sizes = pool.map(_raw_render, pages, chunksize=4)
    return len(sizes), time.perf_counter() - started


# --- Herald -------------------------------------------------------------------------------


def storage_env(url: str, stack: ExitStack) -> dict[str, str]:
    """Environment selecting the artifact store `url`; for s3 without HERALD_S3_ENDPOINT_URL,
    a moto server started here (stopped by `stack`) with the bucket created."""
    where = parse_storage_url(url, "")
    if where.kind != "s3" or os.environ.get("HERALD_S3_ENDPOINT_URL"):
        return {"HERALD_STORAGE_URL": url} if url else {}
    endpoint = stack.enter_context(s3_server())
    create_bucket(endpoint, where.bucket)
    return {
        "HERALD_STORAGE_URL": url,
        "HERALD_S3_ENDPOINT_URL": endpoint,
        "AWS_REGION": REGION,
        **CREDENTIALS,
    }


@contextmanager
def fresh_database(url: str) -> Iterator[str]:
    """For a PostgreSQL `url` (`--database-url`): a new empty database beside the one named
    (`<name>_burst_<pid>`), dropped afterwards, so the named one is never touched. For "" (the
    default: SQLite under the instance folder), "" again."""
    if not url:
        yield ""
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    given = make_url(url)
    name = f"{given.database}_burst_{os.getpid()}"
    admin = create_engine(given.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))  # our own name, not input
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield given.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def herald_burst(
    instance: Path,
    redis_url: str,
    smtp_port: int,
    customers: int,
    workers: int,
    extra_env: dict[str, str],
    formats: list[str] | None = None,
    database_url: str = "",
) -> dict:
    """One Herald burst; with `database_url` (PostgreSQL) in a fresh database beside it
    (`fresh_database`), else in SQLite under `instance`."""
    with fresh_database(database_url) as url:
        env = {
            **os.environ,
            "HERALD_INSTANCE_PATH": str(instance),
            "REDIS_URL": redis_url,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp_port),
            **extra_env,
            **({"DATABASE_URL": url} if url else {}),
        }
        flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
        subprocess.run(
            [*flask, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True
        )
        subprocess.run(
            [*flask, "demo", "seed", "--customers", str(customers)],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "workers.worker"],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(workers)
        ]
        time.sleep(3)  # workers import and connect
        os.environ.update(env)
        from app import create_app
        from app.extensions import db
        from app.models import Job
        from app.runs.buckets import bucket_counts
        from app.runs.create import start_run

        app = create_app()
        with app.app_context():
            job = db.session.scalars(db.select(Job).filter_by(code="monthly-statements")).one()
            if formats:
                with_formats(job, formats)
            started = time.perf_counter()
            run_id = start_run(job, None, params={"period": PERIOD}).id
            marks = rss_marks(customers)
            rss_at: dict[int, list[float]] = {}
            # Each worker's largest working-process RSS since the previous mark: a recycled
            # worker's RSS saws between a fresh child and one about to hand over, so one sample
            # at a mark says more about where in that cycle it fell than about growth.
            peak = [0.0] * len(procs)
            while True:
                time.sleep(1.0)  # counting entries costs CPU the two workers share
                peak = [max(m, working_rss_mb(p.pid)) for m, p in zip(peak, procs, strict=True)]
                db.session.expire_all()
                counts = bucket_counts(run_id)
                done = counts["total"] - counts["queued"] if counts["total"] else 0
                for mark in marks:  # sampled while the workers work, not after
                    if mark not in rss_at and done >= mark:
                        rss_at[mark], peak = peak, [0.0] * len(procs)
                if counts["total"] == customers and counts["queued"] == 0:
                    break
            elapsed = time.perf_counter() - started
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(120)  # a warm shutdown finishes the job in hand; slow on a busy machine
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return {
            "pdfs": counts["total"],
            "seconds": elapsed,
            "counts": counts,
            "rss_at": rss_at,
        }


def rss_marks(customers: int) -> list[int]:
    """Entries done at which the workers' RSS is sampled: 50, 1k, 5k, 10k (those reached),
    and the last entry."""
    return sorted({m for m in (50, 1000, 5000, 10000) if m < customers} | {customers})


def with_formats(job, formats: list[str]) -> None:
    """Give the demo job's report `formats`, its tables taken from the transactions."""
    from app.jobs.service import export_job, replace_job

    definition = export_job(job)
    for report in definition["reports"]:
        report["formats"] = formats
        if set(formats) - {"pdf"}:
            report["table_sections"] = ["transactions"]
    replace_job(job.workspace, None, job, definition)


def compare_formats(
    tmp_path: Path,
    redis_url: str,
    smtp_port: int,
    args: argparse.Namespace,
    formats: list[str],
    extra_env: dict[str, str],
) -> None:
    """Herald's burst with the PDF only and with `formats`, alternating, in this one run."""
    import shutil

    rates: dict[str, list[float]] = {"pdf": [], ",".join(formats): []}
    for number in range(args.rounds):
        for label, wanted in (("pdf", ["pdf"]), (",".join(formats), formats)):
            instance = tmp_path / f"instance-{number}-{label.replace(',', '-')}"
            (instance / "data").mkdir(parents=True)
            shutil.copy(tmp_path / "instance" / "data" / "northwind.db", instance / "data")
            result = herald_burst(
                instance,
                redis_url,
                smtp_port,
                args.customers,
                args.workers,
                extra_env,
                wanted,
                args.database_url,
            )
            rate = result["pdfs"] / result["seconds"]
            rates[label].append(rate)
            print(
                f"round {number + 1} {label:14s} {result['pdfs']:5d} entries in "
                f"{result['seconds']:7.1f} s = {rate:6.2f} entries/s  (buckets {result['counts']})",
                flush=True,
            )
    base, extra = (sum(r) / len(r) for r in rates.values())
    print(f"customers: {args.customers}, workers: {args.workers}, rounds: {args.rounds}")
    print(f"pdf only            {base:6.2f} entries/s (mean)")
    print(f"{','.join(formats):18s}  {extra:6.2f} entries/s (mean)")
    print(
        f"{','.join(formats)} / pdf = {100 * extra / base:.0f}%   "
        f"(extra files cost {100 * (base - extra) / base:.1f}%; target <= 10%)"
    )


def main() -> None:
    global PERIOD
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--formats", default="pdf", help="e.g. pdf,csv,xlsx (docs/OUTPUTS.md)")
    parser.add_argument("--rounds", type=int, default=2, help="with --formats: alternations")
    parser.add_argument(
        "--storage-url", default="", help="HERALD_STORAGE_URL for Herald (default: local disk)"
    )
    parser.add_argument(
        "--database-url",
        default="",
        help="PostgreSQL server for Herald's own database, e.g. "
        "postgresql+psycopg://postgres@127.0.0.1:5432/test: a fresh database beside it is "
        "created and dropped (default: SQLite in the instance folder)",
    )
    parser.add_argument(
        "--raw-customers",
        type=int,
        default=0,
        help="statements for the raw WeasyPrint baseline (default: all); a rate, so a sample "
        "of a 10,000-customer burst gives the same ratio in less time",
    )
    parser.add_argument(
        "--no-naive",
        dest="naive",
        action="store_false",
        help="skip the naive serial script (the longest part of a large burst)",
    )
    args = parser.parse_args()
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    from datetime import date

    PERIOD = date.today().replace(day=1).isoformat()
    with tempfile.TemporaryDirectory(prefix="herald-bench-") as tmp, ExitStack() as stack:
        tmp_path = Path(tmp)
        extra_env = storage_env(args.storage_url, stack)
        instance = tmp_path / "instance"
        db_path = instance / "data" / "northwind.db"  # HERALD_SQLITE_DIR default
        build_demo_database(db_path, customers=args.customers)
        redis, redis_url = start_redis(tmp_path / "redis", persist=False)
        handler = CountingHandler()
        smtp_port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
        controller.start()
        try:
            if formats != ["pdf"]:
                compare_formats(tmp_path, redis_url, smtp_port, args, formats, extra_env)
                return
            # Raw WeasyPrint before and after Herald: a shared machine's speed drifts over a
            # long burst, and the ratio uses the mean of the two; their spread is printed.
            raw_customers = args.raw_customers or args.customers
            raw_before = raw_weasyprint(db_path, raw_customers, args.workers)
            herald = herald_burst(
                instance,
                redis_url,
                smtp_port,
                args.customers,
                args.workers,
                extra_env,
                database_url=args.database_url,
            )
            herald_mails = handler.count
            naive_n, naive_s = (
                naive_script(db_path, smtp_port, args.customers) if args.naive else (0, 0.0)
            )
            raw_after = raw_weasyprint(db_path, raw_customers, args.workers)
        finally:
            controller.stop()
            redis.terminate()
    herald_rate = herald["pdfs"] / herald["seconds"]
    naive_rate = naive_n / naive_s if naive_s else 0.0
    raw_rates = [n / seconds for n, seconds in (raw_before, raw_after)]
    raw_rate = sum(raw_rates) / 2
    store = args.storage_url or "local disk"
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"customers: {args.customers}, workers: {args.workers}, period {PERIOD}, "
        f"{store}, {database}"
    )
    print(
        f"herald     {herald['pdfs']:5d} PDFs in {herald['seconds']:7.1f} s = {herald_rate:6.2f} "
        f"PDF/s  ({herald_mails} emails; buckets {herald['counts']})"
    )
    if naive_s:
        print(
            f"naive      {naive_n:5d} PDFs in {naive_s:7.1f} s = {naive_rate:6.2f} PDF/s (serial)"
        )
    for label, (n, seconds), rate in zip(
        ("before", "after"), (raw_before, raw_after), raw_rates, strict=True
    ):
        print(
            f"raw x{args.workers} {label:6s} {n:5d} PDFs in {seconds:7.1f} s = {rate:6.2f} PDF/s "
            "(WeasyPrint only)"
        )
    drift = 100 * (raw_rates[1] - raw_rates[0]) / raw_rates[0]
    print(f"raw mean       {raw_rate:6.2f} PDF/s (machine drift before -> after: {drift:+.1f}%)")
    if naive_rate:
        print(f"herald / naive = {herald_rate / naive_rate:.2f}x   (target >= 1.8x)")
    print(f"herald / raw   = {100 * herald_rate / raw_rate:.0f}%    (target >= 90%)")
    for mark, sizes in sorted(herald["rss_at"].items()):
        print(f"worker RSS MB, peak up to {mark:6d} entries done: {[round(x) for x in sizes]}")
    marks = sorted(m for m in herald["rss_at"] if m >= 1000)
    if len(marks) > 1:
        first, last = herald["rss_at"][marks[0]], herald["rss_at"][marks[-1]]
        growth = [100 * (b - a) / a for a, b in zip(first, last, strict=True)]
        print(
            f"worker peak RSS change {marks[0]} -> {marks[-1]} entries: "
            f"{[f'{g:+.1f}%' for g in growth]}   (target within ±10%)"
        )


if __name__ == "__main__":
    main()
