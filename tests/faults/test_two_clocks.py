"""Two clock processes at once (issue 12, kind 7): each scheduled fire makes exactly one run,
and each of its emails reaches the real SMTP server once."""

from __future__ import annotations

import signal
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from app.database import utcnow
from app.extensions import db
from app.models import Job, Run
from tests import factories as make
from tests.faults.rig import ROWS, stop, wait_for
from tests.helpers import start_process

FIRES = 3
RULE = {"start": "2026-01-01T00:00", "timezone": "UTC", "trigger": "hourly"}


def runs_of(job_id: int) -> list[Run]:
    db.session.expire_all()
    return list(db.session.scalars(select(Run).filter_by(job_id=job_id).order_by(Run.id)))


def test_two_clocks_make_one_run_per_fire_and_send_each_email_once(
    app, workers, smtp_server, mailbox, tmp_path: Path
):
    ws = make.workspace(smtp=smtp_server.settings)
    job_id = make.mailing_job(ws, ROWS, scheduled=True, schedule=RULE).id
    logs = [tmp_path / f"clock-{n}.log" for n in (1, 2)]
    clocks = [start_process(app, "workers.clock", log) for log in logs]
    workers()
    try:
        for fire in range(1, FIRES + 1):
            # Due now: whichever clock ticks first creates the run; the other must not.
            job = db.session.get(Job, job_id)
            job.next_fire_at = utcnow()
            db.session.commit()
            wait_for(lambda n=fire: len(runs_of(job_id)) >= n)
            wait_for(lambda: all(run.status == "finished" for run in runs_of(job_id)))
        assert all(clock.poll() is None for clock in clocks)  # both ticked all along
    finally:
        for clock in clocks:
            stop(clock)  # lets a tick under way finish: a late duplicate would show below

    runs = runs_of(job_id)
    assert len(runs) == FIRES
    assert len({run.scheduled_for for run in runs}) == FIRES
    assert {(run.trigger, run.status) for run in runs} == {("schedule", "finished")}
    created = sum(log.read_text().count("created scheduled runs") for log in logs)
    assert created == FIRES  # one clock created each run; the other one stood back
    assert len(mailbox.messages) == FIRES * len(ROWS)
    received = Counter(address for envelope in mailbox.envelopes for address in envelope)
    assert received == {row["email"]: FIRES for row in ROWS}


def test_a_clock_goes_on_ticking_after_sighup(app, workers, smtp_server, mailbox, tmp_path: Path):
    ws = make.workspace(smtp=smtp_server.settings)
    job_id = make.mailing_job(ws, ROWS, scheduled=True, schedule=RULE).id
    clock = start_process(app, "workers.clock", tmp_path / "clock.log")
    workers()
    try:
        for fire in (1, 2):
            job = db.session.get(Job, job_id)
            job.next_fire_at = utcnow()
            db.session.commit()
            wait_for(lambda n=fire: clock.poll() is not None or len(runs_of(job_id)) >= n)
            assert clock.poll() is None  # before: SIGHUP's default action had ended it
            clock.send_signal(signal.SIGHUP)  # a service manager's reload, once it ticks
    finally:
        if clock.poll() is None:
            stop(clock)
    assert clock.returncode == 0
    assert "Traceback" not in (tmp_path / "clock.log").read_text()
