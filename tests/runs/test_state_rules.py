"""What follows the state machine's moves, written out here literally (never read back from the
modules, so a changed rule fails a test): claims, timestamps, buckets, when a run is finished,
its outcome. Every allowed and refused transition is tested in test_states.py.

These are the fast tests `mutmut` runs against the state machine (see README "Development").
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from app.database import utcnow
from app.extensions import db
from app.models import Entry, EntryDelivery, Job, Run
from app.runs.buckets import bucket_counts
from app.runs.outcome import finish_run_if_done, finish_run_of_entry, run_outcome, settle_run
from app.runs.recovery import recover_stalled_work
from app.runs.states import (
    DeliveryStatus,
    EntryStatus,
    RunStatus,
    move_deliveries,
    move_delivery,
    move_entries,
    move_entry,
    move_run,
)
from tests import factories as make

E = EntryStatus
R = RunStatus
BUCKET_OF = {
    E.ParametersPrepared: "queued",
    E.Queued: "queued",
    E.InProgress: "queued",
    E.PendingReview: "review",
    E.Completed: "completed",
    E.CompletedWithErrors: "errors",
    E.GenerationFailed: "errors",
    E.DeliveryFailed: "errors",
    E.Cancelled: "cancelled",
}
FINAL_ENTRY = {s for s in E if BUCKET_OF[s] != "queued"}


@pytest.fixture
def job(app) -> Job:
    ws = make.workspace()
    return make.people_job(ws, [{"name": "Ada"}], "<p>x</p>")


def new_run(job: Job, status: RunStatus = R.running) -> Run:
    run = Run(workspace_id=job.workspace_id, job_id=job.id, trigger="manual", status=status)
    db.session.add(run)
    db.session.commit()
    return run


def new_entries(run: Run, *statuses: EntryStatus) -> list[int]:
    if not statuses:
        return []
    ids = db.session.scalars(
        insert(Entry).returning(Entry.id, sort_by_parameter_order=True),
        [{"run_id": run.id, "seq": i, "status": s.value} for i, s in enumerate(statuses)],
    ).all()
    db.session.commit()
    return list(ids)


def status_of(entry_id: int) -> str:
    return db.session.scalar(select(Entry.status).filter_by(id=entry_id))


def test_a_stale_job_cannot_reclaim_a_completed_entry(job):
    run = new_run(job)
    (entry_id,) = new_entries(run, E.Completed)
    # A generation job queued before the entry finished: it claims from Queued only.
    assert move_entry(entry_id, E.InProgress, from_=[E.ParametersPrepared, E.Queued]) is False
    assert status_of(entry_id) == E.Completed
    # Re-delivery may claim it, naming where it comes from.
    assert move_entry(entry_id, E.InProgress, from_=[E.Completed]) is True


def test_naming_a_source_does_not_allow_a_transition_the_table_forbids(job):
    run = new_run(job)
    (entry_id,) = new_entries(run, E.Cancelled)
    # `from_` narrows the allowed sources; it never adds one (Cancelled is final).
    assert move_entry(entry_id, E.InProgress, from_=[E.Cancelled, E.Queued]) is False
    assert status_of(entry_id) == E.Cancelled


def test_timestamps_and_lease_follow_the_move(job):
    run = new_run(job)
    first, second = new_entries(run, E.Queued, E.Queued)
    assert move_entry(first, E.InProgress, lease_expires_at=None)
    db.session.commit()
    started = db.session.get(Entry, first).started_at
    assert started is not None and db.session.get(Entry, first).finished_at is None
    assert move_entry(first, E.Queued)
    assert move_entry(first, E.InProgress)  # a second claim keeps the first start
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Entry, first).started_at == started
    from app.database import utcnow

    db.session.execute(db.update(Entry).values(lease_expires_at=utcnow()))
    assert move_entry(first, E.Completed)
    db.session.commit()
    db.session.expire_all()
    done = db.session.get(Entry, first)
    assert done.finished_at is not None and done.lease_expires_at is None
    assert db.session.get(Entry, second).lease_expires_at is not None  # untouched


@pytest.mark.parametrize("status", list(E))
def test_each_status_counts_in_its_bucket(job, status):
    run = new_run(job)
    new_entries(run, status, status)
    counts = bucket_counts(run.id)
    expected = {"queued": 0, "completed": 0, "errors": 0, "review": 0, "cancelled": 0}
    expected[BUCKET_OF[status]] = 2
    assert counts == {**expected, "total": 2}


@pytest.mark.parametrize("unfinished", [E.ParametersPrepared, E.Queued, E.InProgress])
def test_a_run_with_one_entry_in_flight_is_not_finished(job, unfinished):
    run = new_run(job)
    new_entries(run, E.Completed, E.DeliveryFailed, unfinished)
    assert finish_run_if_done(run.id) is False
    db.session.commit()
    assert db.session.scalar(select(Run.status).filter_by(id=run.id)) == R.running


@pytest.mark.parametrize("final", sorted(FINAL_ENTRY))
def test_a_run_whose_entries_are_all_final_is_finished(job, final):
    run = new_run(job)
    new_entries(run, E.Completed, final)
    assert finish_run_if_done(run.id) is True
    db.session.commit()
    db.session.expire_all()
    done = db.session.get(Run, run.id)
    assert done.status == R.finished and done.finished_at is not None
    outcome = {"errors": "completed_with_errors", "review": "pending_review"}
    expected = outcome.get(BUCKET_OF[final], "completed")
    assert db.session.get(Job, job.id).last_run_status == expected


def test_only_a_running_run_is_finished(job):
    run = new_run(job, R.cancelled)
    new_entries(run, E.Completed)
    assert finish_run_if_done(run.id) is False


@pytest.mark.parametrize(
    ("statuses", "outcome"),
    [
        ([E.Completed, E.Queued, E.GenerationFailed], "running"),
        ([E.Completed, E.PendingReview, E.CompletedWithErrors], "completed_with_errors"),
        ([E.Completed, E.PendingReview], "pending_review"),
        ([E.Completed, E.Cancelled], "completed"),
        ([], "completed"),
    ],
)
def test_run_outcome_in_one_word(job, statuses, outcome):
    run = new_run(job, R.finished)
    new_entries(run, *statuses)
    assert run_outcome(run) == outcome


@pytest.mark.parametrize("status", [R.failed, R.cancelled, R.pending, R.preparing])
def test_a_run_that_never_ran_entries_is_its_status(job, status):
    run = new_run(job, status)
    new_entries(run, E.Completed)
    assert run_outcome(run) == status.value


def test_ending_a_run_stamps_it_and_records_the_last_run(job):
    run = new_run(job, R.pending)
    assert move_run(run.id, R.preparing)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Run, run.id).started_at is not None
    assert db.session.get(Run, run.id).finished_at is None
    assert settle_run(run.id, R.failed, error="no rows")  # the transition, then what follows
    db.session.commit()
    db.session.expire_all()
    ended = db.session.get(Run, run.id)
    assert (ended.status, ended.error) == ("failed", "no rows")
    assert ended.finished_at is not None
    assert db.session.get(Job, job.id).last_run_status == "failed"


def test_a_run_ending_after_a_newer_one_started_leaves_the_newer_runs_word(job):
    older, newer = new_run(job), new_run(job)
    new_entries(older, E.Completed)
    new_entries(newer, E.GenerationFailed)
    assert finish_run_if_done(newer.id)
    db.session.commit()
    assert finish_run_if_done(older.id)  # the older run of the two ends last
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Run, older.id).status == R.finished
    assert db.session.get(Job, job.id).last_run_status == "completed_with_errors"


def test_a_run_left_running_with_every_entry_ended_is_finished_by_the_check_after_commit(job):
    # What two workers settling the last two entries at once leave behind: each checked
    # while the other's entry still read open, so neither finished the run.
    run = new_run(job)
    first, _ = new_entries(run, E.Completed, E.DeliveryFailed)
    other = new_run(job)
    (still_open,) = new_entries(other, E.Completed, E.InProgress)[1:]

    assert finish_run_of_entry(first) is True
    assert finish_run_of_entry(still_open) is False
    db.session.expire_all()
    assert db.session.get(Run, run.id).status == R.finished
    assert db.session.get(Run, other.id).status == R.running


def test_the_sweep_finishes_a_run_left_running_with_every_entry_ended(job):
    run = new_run(job)
    new_entries(run, E.Completed, E.Completed)
    other = new_run(job)
    new_entries(other, E.Completed, E.Queued)

    later = utcnow() + timedelta(hours=1)  # past a lease: no live worker is about to check
    assert recover_stalled_work(now=later)["runs_finished"] == 1
    db.session.expire_all()
    assert db.session.get(Run, run.id).status == R.finished
    assert db.session.get(Run, other.id).status == R.running


def test_a_delivery_moves_only_from_the_named_statuses(job):
    run = new_run(job)
    (entry_id,) = new_entries(run, E.InProgress)
    delivery = EntryDelivery(entry_id=entry_id, position=0, kind="email")
    db.session.add(delivery)
    db.session.commit()
    D = DeliveryStatus
    assert move_delivery(delivery.id, D.sent, from_=[D.sending]) is False
    assert move_delivery(delivery.id, D.sending, from_=[D.pending]) is True
    assert move_delivery(delivery.id, D.sent, from_=[D.sending], detail={"id": 1}) is True
    db.session.commit()
    db.session.expire_all()
    sent = db.session.get(EntryDelivery, delivery.id)
    assert (sent.status, sent.detail) == ("sent", {"id": 1})
    assert sent.sent_at is not None


def _final_count(status: str) -> float:
    """herald_entries_total{status=…} as this process counts it."""
    from app.metrics import ENTRIES

    return sum(
        sample.value
        for metric in ENTRIES.collect()
        for sample in metric.samples
        if sample.name == "herald_entries_total" and sample.labels == {"status": status}
    )


def test_entries_that_become_final_are_counted_once_by_status(job):
    run = new_run(job)
    ids = new_entries(run, E.InProgress, E.InProgress, E.Queued)
    before = {s: _final_count(s) for s in ("Completed", "InProgress", "Queued")}
    assert move_entries(ids, E.Completed) == ids[:2]  # Queued -> Completed is refused
    assert move_entries([ids[2]], E.InProgress) == [ids[2]]  # not final: not counted
    assert move_entries([ids[0]], E.Completed) == []  # refused: not counted again
    assert _final_count("Completed") == before["Completed"] + 2
    assert _final_count("InProgress") == before["InProgress"]
    assert _final_count("Queued") == before["Queued"]


def test_a_run_prepared_again_keeps_its_first_start(job):
    run = new_run(job, R.pending)
    assert move_run(run.id, R.preparing)
    db.session.commit()
    db.session.expire_all()
    started = db.session.get(Run, run.id).started_at
    assert move_run(run.id, R.pending)  # the preparation was interrupted
    assert move_run(run.id, R.preparing)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Run, run.id).started_at == started


def test_a_run_moves_only_from_the_named_statuses(job):
    run = new_run(job, R.preparing)
    assert move_run(run.id, R.running, from_=[R.pending]) is False
    db.session.commit()
    assert db.session.scalar(select(Run.status).filter_by(id=run.id)) == R.preparing
    assert move_run(run.id, R.running, from_=[R.preparing, R.finished]) is True


def _deliveries(job: Job, *statuses: DeliveryStatus) -> tuple[list[int], list[int]]:
    """(entry ids, delivery ids): one entry per status, holding one delivery in it."""
    run = new_run(job)
    entry_ids = new_entries(run, *([E.InProgress] * len(statuses)))
    rows = [
        EntryDelivery(entry_id=entry_id, position=0, kind="email", status=status.value)
        for entry_id, status in zip(entry_ids, statuses, strict=True)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return entry_ids, [row.id for row in rows]


def delivery_status(delivery_id: int) -> str:
    return db.session.scalar(select(EntryDelivery.status).filter_by(id=delivery_id))


def test_deliveries_are_named_by_id_or_by_entry_not_both(job):
    D = DeliveryStatus
    entry_ids, delivery_ids = _deliveries(job, D.pending)
    for named in [{}, {"delivery_ids": delivery_ids, "entry_ids": entry_ids}]:
        with pytest.raises(ValueError, match="^name either delivery_ids or entry_ids$"):
            move_deliveries(D.sending, **named)
    assert delivery_status(delivery_ids[0]) == D.pending


def test_every_delivery_of_the_named_entries_moves(job):
    D = DeliveryStatus
    entry_ids, delivery_ids = _deliveries(job, D.pending, D.pending, D.sent)
    assert move_deliveries(D.sending, entry_ids=entry_ids[1:]) == 1  # sent -> sending: refused
    db.session.commit()
    assert [delivery_status(i) for i in delivery_ids] == [D.pending, D.sending, D.sent]
    assert move_deliveries(D.sending, entry_ids=[]) == 0


def test_only_a_sent_delivery_is_stamped_sent(job):
    D = DeliveryStatus
    _, (delivery_id,) = _deliveries(job, D.pending)
    assert move_delivery(delivery_id, D.sending)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(EntryDelivery, delivery_id).sent_at is None


def test_from_narrows_a_delivery_move_too(job):
    D = DeliveryStatus
    _, (sent, failed) = _deliveries(job, D.sent, D.failed)
    # Retry starts over from failed, partial or uncertain only; a sent delivery stays sent.
    retried = [D.failed, D.partial, D.uncertain]
    assert move_delivery(sent, D.pending, from_=retried) is False
    assert move_deliveries(D.pending, delivery_ids=[sent, failed], from_=retried) == 1
    db.session.commit()
    assert (delivery_status(sent), delivery_status(failed)) == (D.sent, D.pending)
