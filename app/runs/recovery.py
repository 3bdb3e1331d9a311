"""Finding work that a dead worker or an emptied Redis left behind, and putting it back in line.

Safe to run any number of times from any number of processes: every worker claims its item
with a conditional UPDATE, so an item queued twice is still done once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from app.database import utcnow
from app.extensions import db, queues
from app.models import Entry, EntryDelivery, Run, TemporaryFile
from app.runs import dispatch
from app.runs.lease import file_lease_key
from app.runs.notify import send_due
from app.runs.outcome import finish_run_if_done, settle_run
from app.runs.states import (
    QUEUED,
    EntryStatus,
    RunStatus,
    move_delivery,
    move_entries,
    move_entry,
    move_run,
)
from app.runs.states import (
    DeliveryStatus as D,
)

BATCH = 2000


def recover_stalled_work(now: datetime | None = None) -> dict[str, int]:
    """Re-queue stalled runs and entries; return how many of each kind were touched."""
    now = now or utcnow()
    config = current_app.config
    stale = now - timedelta(seconds=config["STALE_QUEUED_SECONDS"])
    return {
        "runs_requeued": _requeue_pending_runs(stale, now),
        "runs_restarted": _restart_interrupted_preparations(now),
        "entries_requeued": _requeue_lost_entries(stale, now),
        "entries_recovered": _recover_expired_leases(now),
        "cancelled_sends_ended": _end_cancelled_sends(now),
        "review_documents_requeued": _requeue_review_documents(
            now - timedelta(seconds=config["LEASE_SECONDS"])
        ),
        "completion_webhooks": send_due(now),
        "runs_finished": _finish_settled_runs(now),
    }


def _finish_settled_runs(now: datetime) -> int:
    """Finish running runs whose every entry has ended, left so by a worker that died between
    its entry's commit and the check after it (`finish_run_of_entry`). Runs not touched for a
    lease only: a live worker is about to check itself."""
    lease = timedelta(seconds=current_app.config["LEASE_SECONDS"])
    still_open = select(Entry.id).where(
        Entry.run_id == Run.id, Entry.status.in_([s.value for s in QUEUED])
    )
    run_ids = db.session.scalars(
        select(Run.id)
        .where(Run.status == RunStatus.running, Run.updated_at < now - lease, ~still_open.exists())
        .limit(BATCH)
    ).all()
    finished = sum(finish_run_if_done(run_id) for run_id in run_ids)
    db.session.commit()
    return finished


def _requeue_pending_runs(stale: datetime, now: datetime) -> int:
    runs = db.session.scalars(
        select(Run).where(Run.status == RunStatus.pending, Run.updated_at < stale).limit(BATCH)
    ).all()
    job_ids = [dispatch.prepare_job_id(r.id, r.attempts) for r in runs]
    waiting = dispatch.jobs_waiting(job_ids)
    lost = [r for r, here in zip(runs, waiting, strict=True) if not here]
    for run in lost:
        run.updated_at = now
    db.session.commit()
    dispatch.forget_jobs([j for j, here in zip(job_ids, waiting, strict=True) if not here])
    for run in lost:
        dispatch.enqueue_prepare(run.id, run.attempts)
    return len(lost)


def _restart_interrupted_preparations(now: datetime) -> int:
    lease = timedelta(seconds=current_app.config["LEASE_SECONDS"])
    runs = db.session.scalars(
        select(Run).where(Run.status == RunStatus.preparing, Run.updated_at < now - lease)
    ).all()
    restarted = []
    for run in runs:
        if run.attempts >= current_app.config["MAX_ENTRY_ATTEMPTS"]:
            settle_run(
                run.id,
                RunStatus.failed,
                from_=[RunStatus.preparing],
                error=f"preparation was interrupted {run.attempts} times",
            )
        elif move_run(run.id, RunStatus.pending, from_=[RunStatus.preparing]):
            restarted.append(run)
    db.session.commit()
    for run in restarted:
        dispatch.enqueue_prepare(run.id, run.attempts)
    return len(runs)


def _requeue_lost_entries(stale: datetime, now: datetime) -> int:
    # Oldest first, and an entry found still waiting in its queue is marked as seen now: a
    # backlog of more than BATCH waiting entries (a large burst) would otherwise fill every
    # sweep's batch, and entries really lost behind it (a worker killed while queueing a
    # run's chunks) would never be looked at.
    entries = db.session.execute(
        select(Entry.id, Entry.attempts)
        .where(
            Entry.status.in_([EntryStatus.ParametersPrepared, EntryStatus.Queued]),
            Entry.updated_at < stale,
        )
        .order_by(Entry.updated_at, Entry.id)
        .limit(BATCH)
    ).all()
    job_ids = [dispatch.generate_job_id(i, a) for i, a in entries]
    waiting = dispatch.jobs_waiting(job_ids)
    lost = [(i, a) for (i, a), here in zip(entries, waiting, strict=True) if not here]
    seen = [i for (i, _), here in zip(entries, waiting, strict=True) if here]
    if seen:
        db.session.execute(update(Entry).where(Entry.id.in_(seen)).values(updated_at=now))
        db.session.commit()
    if not lost:
        return 0
    ids = [i for i, _ in lost]
    move_entries(ids, EntryStatus.Queued, from_=[EntryStatus.ParametersPrepared])
    db.session.execute(update(Entry).where(Entry.id.in_(ids)).values(updated_at=now))
    db.session.commit()
    # A worker killed between taking the job and claiming the entry left a started record.
    dispatch.forget_jobs([j for j, here in zip(job_ids, waiting, strict=True) if not here])
    dispatch.enqueue_generate(lost)
    return len(lost)


def _recover_expired_leases(now: datetime) -> int:
    """Take back entries whose lease ran out: their worker died (a live one renews it).

    An entry in its generation stage is queued for another attempt; one in its delivery stage
    is delivered again (deliveries cut off mid-send are sent again once, see
    `reset_interrupted`) — unless its delivery job is still waiting in a long queue.
    """
    entries = db.session.execute(
        select(Entry.id, Entry.attempts, Entry.stage)
        .where(Entry.status == EntryStatus.InProgress, Entry.lease_expires_at < now)
        .limit(BATCH)
    ).all()
    lease = now + timedelta(seconds=current_app.config["LEASE_SECONDS"])
    regenerate, redeliver = [], []
    for entry_id, attempts, stage in entries:
        if stage == "deliver":
            job_id = dispatch.deliver_job_id(entry_id, attempts)
            if dispatch.jobs_waiting([job_id])[0]:
                continue  # still waiting in a long delivery queue
            dispatch.forget_jobs([job_id])  # the dead worker's "started" record never expires
            reset_interrupted(entry_id)
            db.session.execute(
                update(Entry).where(Entry.id == entry_id).values(lease_expires_at=lease)
            )
            redeliver.append((entry_id, attempts))
        elif move_entry(
            entry_id,
            EntryStatus.Queued,
            from_=[EntryStatus.InProgress],
            lease_expires_at=None,
            error=f"the worker stopped during attempt {attempts}; queued again",
        ):
            regenerate.append((entry_id, attempts))
    db.session.commit()
    dispatch.enqueue_generate(regenerate)
    dispatch.enqueue_deliver(redeliver)
    return len(regenerate) + len(redeliver)


def _end_cancelled_sends(now: datetime) -> int:
    """End the deliveries a dead worker left `sending` on an entry cancelled since (its run
    was cancelled): only in-progress entries are delivered again, so these would stay
    `sending` for ever. They end `uncertain`, never sent again — the worker may have handed
    the message over before it died. Two leases (LEASE_SECONDS) after its lease ran out, so a live
    worker's slow send is not taken for a dead one's; a live worker that still finishes
    afterwards cannot move the delivery back (its move is from `sending`)."""
    stale = now - timedelta(seconds=2 * current_app.config["LEASE_SECONDS"])
    stuck = db.session.scalars(
        select(EntryDelivery.id)
        .join(Entry, Entry.id == EntryDelivery.entry_id)
        .where(
            Entry.status == EntryStatus.Cancelled,
            EntryDelivery.status == D.sending,
            EntryDelivery.lease_expires_at < stale,
        )
        .limit(BATCH)
    ).all()
    for delivery_id in stuck:
        move_delivery(
            delivery_id,
            D.uncertain,
            from_=[D.sending],
            lease_expires_at=None,
            last_error=(
                "interrupted while sending, and its run was cancelled: not sent again; the "
                "server may have accepted it"
            ),
        )
    db.session.commit()
    return len(stuck)


def _requeue_review_documents(stale: datetime) -> int:
    """Queue again the review documents created before `stale` that no live worker builds
    (its heartbeat keeps a Redis key) and no queue holds."""
    files = db.session.scalars(
        select(TemporaryFile.id)
        .where(
            TemporaryFile.kind == "review-document",
            TemporaryFile.status == "pending",
            TemporaryFile.created_at < stale,
        )
        .limit(BATCH)
    ).all()
    if not files:
        return 0
    job_ids = [dispatch.review_document_job_id(f) for f in files]
    pipe = queues.connection.pipeline(transaction=False)
    for file_id in files:
        pipe.exists(file_lease_key(file_id))
    leased = pipe.execute()
    waiting = dispatch.jobs_waiting(job_ids)
    lost = [
        (file_id, job_id)
        for file_id, job_id, held, here in zip(files, job_ids, leased, waiting, strict=True)
        if not held and not here
    ]
    for file_id, job_id in lost:
        dispatch.forget_jobs([job_id])
        dispatch.queue_review_document(file_id)
    return len(lost)


def reset_interrupted(entry_id: int) -> None:
    """Deliveries a dead worker left `sending` are sent again — once. Does not commit.

    The worker may have died before, during or after the channel accepted the message, and
    Herald cannot know which (SMTP has no way to ask "did you get this?"): the first time, the
    delivery goes back to pending and is attempted again (so the message may arrive twice);
    a delivery interrupted a second time is failed instead, to never send a third copy. The
    error says so, for the person deciding whether to re-deliver.
    """
    interrupted = db.session.scalars(
        select(EntryDelivery).filter_by(entry_id=entry_id, status=D.sending)
    ).all()
    for delivery in interrupted:
        times = (delivery.detail or {}).get("interrupted", 0) + 1
        if times > 1:
            to, error = (
                D.failed,
                (
                    f"interrupted twice while sending (attempt {delivery.attempts}); not sent "
                    "again: the server may have accepted it, check before re-delivering"
                ),
            )
        else:
            to, error = (
                D.pending,
                (
                    f"interrupted while sending (attempt {delivery.attempts}); sent again "
                    "once: the first attempt may have reached the server"
                ),
            )
        move_delivery(
            delivery.id,
            to,
            from_=[D.sending],
            detail={**(delivery.detail or {}), "interrupted": times},
            lease_expires_at=None,
            next_attempt_at=None,
            last_error=error,
        )
