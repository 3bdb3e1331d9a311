"""The one state machine, table-driven: every allowed (from, to) move of a run, an entry and a
delivery succeeds and stamps its time; every other pair is refused and changes nothing.

The expected tables are written out here, not read from app.runs.states: a change to the
machine must change this test too."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Entry, EntryDelivery, Run
from app.runs import states
from app.runs.states import (
    DeliveryStatus,
    EntryStatus,
    RunStatus,
    move_deliveries,
    move_delivery,
    move_entry,
    move_run,
)
from tests import factories

E, R, D = EntryStatus, RunStatus, DeliveryStatus

ENTRY_ALLOWED = {
    (E.ParametersPrepared, E.Queued),
    (E.ParametersPrepared, E.InProgress),
    (E.ParametersPrepared, E.Cancelled),
    (E.Queued, E.InProgress),
    (E.Queued, E.Cancelled),
    (E.InProgress, E.Queued),
    (E.InProgress, E.PendingReview),
    (E.InProgress, E.Completed),
    (E.InProgress, E.CompletedWithErrors),
    (E.InProgress, E.GenerationFailed),
    (E.InProgress, E.DeliveryFailed),
    (E.InProgress, E.Cancelled),
    (E.PendingReview, E.InProgress),
    (E.PendingReview, E.Cancelled),
    (E.Completed, E.InProgress),
    (E.CompletedWithErrors, E.InProgress),
    (E.DeliveryFailed, E.InProgress),
}
RUN_ALLOWED = {
    (R.pending, R.preparing),
    (R.pending, R.cancelled),
    (R.pending, R.failed),
    (R.preparing, R.pending),
    (R.preparing, R.running),
    (R.preparing, R.finished),
    (R.preparing, R.failed),
    (R.preparing, R.cancelled),
    (R.running, R.finished),
    (R.running, R.cancelled),
    (R.finished, R.running),
    (R.finished, R.cancelled),  # its entries held for review cancelled
}
DELIVERY_ALLOWED = {
    (D.pending, D.sending),
    (D.pending, D.skipped),
    (D.pending, D.failed),
    (D.sending, D.sent),
    (D.sending, D.failed),
    (D.sending, D.partial),
    (D.sending, D.uncertain),
    (D.sending, D.pending),
    (D.sending, D.skipped),
    (D.sent, D.pending),
    (D.skipped, D.pending),
    (D.failed, D.pending),
    (D.partial, D.pending),
    (D.uncertain, D.pending),
}
ENTRY_FINAL = {s for s in E if s not in (E.ParametersPrepared, E.Queued, E.InProgress)}
RUN_ENDED = {R.finished, R.failed, R.cancelled}


def test_the_tables_are_the_ones_written_here() -> None:
    def pairs(table: dict) -> set:
        return {(a, b) for a, targets in table.items() for b in targets}

    assert pairs(states.ENTRY_TRANSITIONS) == ENTRY_ALLOWED
    assert pairs(states.RUN_TRANSITIONS) == RUN_ALLOWED
    assert pairs(states.DELIVERY_TRANSITIONS) == DELIVERY_ALLOWED
    assert set(states.ENTRY_TRANSITIONS) == set(E)
    assert set(states.RUN_TRANSITIONS) == set(R)
    assert set(states.DELIVERY_TRANSITIONS) == set(D)


@pytest.fixture
def job(app):
    ws = factories.workspace()
    factories.template(ws, "t", "<p>x</p>")
    return factories.job(ws, reports=[{"template": "t"}])


def _run(job, status: str = "running") -> Run:
    run = Run(workspace_id=job.workspace_id, job_id=job.id, trigger="manual", status=status)
    db.session.add(run)
    db.session.commit()
    return run


def _entry(run: Run, seq: int, status: EntryStatus) -> Entry:
    entry = Entry(run_id=run.id, seq=seq, status=status.value)
    db.session.add(entry)
    db.session.commit()
    return entry


@pytest.mark.parametrize("from_", list(E), ids=str)
def test_entry_moves_from(job, from_: EntryStatus) -> None:
    run = _run(job)
    for seq, to in enumerate(E):
        entry = _entry(run, seq, from_)
        moved = move_entry(entry.id, to)
        db.session.commit()
        db.session.refresh(entry)
        assert moved == ((from_, to) in ENTRY_ALLOWED), (from_, to)
        assert entry.status == (to if moved else from_), (from_, to)
        if moved and to in ENTRY_FINAL:
            assert entry.finished_at is not None, (from_, to)
        if moved and to is E.InProgress:
            assert entry.started_at is not None, (from_, to)


def test_an_entry_move_can_be_narrowed_to_some_sources(job) -> None:
    run = _run(job)
    entry = _entry(run, 0, E.Queued)
    assert not move_entry(entry.id, E.InProgress, from_=[E.ParametersPrepared])
    assert move_entry(entry.id, E.InProgress, from_=[E.Queued])


@pytest.mark.parametrize("from_", list(R), ids=str)
def test_run_moves_from(job, from_: RunStatus) -> None:
    for to in R:
        run = _run(job, from_.value)
        moved = move_run(run.id, to)
        db.session.commit()
        db.session.refresh(run)
        assert moved == ((from_, to) in RUN_ALLOWED), (from_, to)
        assert run.status == (to if moved else from_), (from_, to)
        assert (run.finished_at is not None) == (moved and to in RUN_ENDED), (from_, to)
        if moved and to is R.preparing:
            assert run.started_at is not None


@pytest.mark.parametrize("from_", list(D), ids=str)
def test_delivery_moves_from(job, from_: DeliveryStatus) -> None:
    entry = _entry(_run(job), 0, E.InProgress)
    for position, to in enumerate(D):
        delivery = EntryDelivery(entry_id=entry.id, position=position, kind="email")
        delivery.status = from_.value
        db.session.add(delivery)
        db.session.commit()
        moved = move_delivery(delivery.id, to)
        db.session.commit()
        db.session.refresh(delivery)
        assert moved == ((from_, to) in DELIVERY_ALLOWED), (from_, to)
        assert delivery.status == (to if moved else from_), (from_, to)
        assert (delivery.sent_at is not None) == (moved and to is D.sent), (from_, to)


def test_bulk_delivery_moves_take_only_the_allowed_ones(job) -> None:
    """A bulk move (reject, a report that failed) goes through the same table, row by row."""
    run = _run(job)
    entries = [_entry(run, seq, E.InProgress) for seq in range(2)]
    for entry in entries:
        for position, status in enumerate(D):
            db.session.add(
                EntryDelivery(entry_id=entry.id, position=position, kind="email", status=status)
            )
    db.session.commit()
    moved = move_deliveries(D.skipped, entry_ids=[entries[0].id])
    db.session.commit()
    # Only the pending one and the one being sent (its run cancelled before it went) may be
    # skipped.
    assert moved == 2
    statuses = {
        (d.entry_id, d.position): d.status for d in db.session.scalars(db.select(EntryDelivery))
    }
    assert statuses[(entries[0].id, 0)] == D.skipped  # was pending
    assert statuses[(entries[0].id, 1)] == D.skipped  # was sending
    assert sorted(s for (e, _), s in statuses.items() if e == entries[1].id) == sorted(D)
    with pytest.raises(ValueError):
        move_deliveries(D.skipped)
