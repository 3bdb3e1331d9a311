"""How entries and runs end: an entry's outcome from its reports and deliveries, a run's
outcome word, and what follows a run's end (the job's last-run column, the completion notice)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import exists, select, update

from app import metrics
from app.extensions import db
from app.models import Artifact, Entry, EntryDelivery, Job, Run
from app.runs.buckets import bucket_counts
from app.runs.notify import mark_due, mark_error_notice_due
from app.runs.states import (
    QUEUED,
    RUN_ENDED,
    DeliveryStatus,
    EntryStatus,
    RunStatus,
    move_entry,
    move_run,
)


def entry_outcome(
    artifacts: Sequence[Artifact], deliveries: Sequence[EntryDelivery]
) -> tuple[EntryStatus, str | None]:
    """The final status of an entry and the error to show with it (None when all went well)."""
    failed_reports = [a for a in artifacts if a.status == "failed"]
    failed_deliveries = [d for d in deliveries if d.status == DeliveryStatus.failed]
    # Partly or possibly delivered: not a failure of the whole delivery, but never "all went
    # well" either — the entry completes with errors, naming who did not get it.
    doubtful = [
        d for d in deliveries if d.status in (DeliveryStatus.partial, DeliveryStatus.uncertain)
    ]
    errors = [f"report '{a.report_code}': {a.error}" for a in failed_reports]
    errors += [
        f"delivery {d.position + 1} ({d.kind}): {d.last_error}"
        for d in deliveries
        if d in failed_deliveries or d in doubtful
    ]
    error = "; ".join(errors) or None
    if artifacts and len(failed_reports) == len(artifacts):
        return EntryStatus.GenerationFailed, error
    if deliveries and len(failed_deliveries) == len(deliveries):
        return EntryStatus.DeliveryFailed, error
    if errors:
        return EntryStatus.CompletedWithErrors, error
    return EntryStatus.Completed, None


def settle_entry(entry_id: int, run_id: int) -> EntryStatus | None:
    """End an in-progress entry with its outcome; finish the run if it was the last. No commit."""
    artifacts = db.session.scalars(select(Artifact).filter_by(entry_id=entry_id)).all()
    deliveries = db.session.scalars(select(EntryDelivery).filter_by(entry_id=entry_id)).all()
    status, error = entry_outcome(artifacts, deliveries)
    if not move_entry(entry_id, status, from_=[EntryStatus.InProgress], error=error):
        return None
    finish_run_if_done(run_id)
    return status


def settle_run(
    run_id: int, to: RunStatus, *, from_: Iterable[RunStatus] | None = None, **fields: Any
) -> bool:
    """Move a run through the state machine (`move_run`); when that ends it (finished, failed,
    cancelled), record its outcome on the job and make its completion notice due.
    True when it moved. Does not commit."""
    # A finished run whose entries wait for review can still be cancelled: it then ends a
    # second time, which must not count it twice in the metrics.
    ended_before = db.session.scalar(select(Run.status).where(Run.id == run_id)) in RUN_ENDED
    moved = move_run(run_id, to, from_=from_, **fields)
    if moved and to in RUN_ENDED:
        outcome = record_last_run(run_id, count=not ended_before)
        mark_due(run_id)
        mark_error_notice_due(run_id, outcome)
    return moved


def finish_run_of_entry(entry_id: int) -> bool:
    """`finish_run_if_done` for the entry's run again, in a transaction of its own, after the
    entry's job has committed; True when it finished the run. Commits.

    Needed because two workers settling a run's last two entries at once each check inside
    their own transaction, where the other's entry still reads open (PostgreSQL's READ
    COMMITTED): neither finishes the run, and it stays "running" with every entry done. A
    check after the commit cannot miss both: the later commit's sees the two."""
    run_id = db.session.scalar(
        select(Entry.run_id)
        .join(Run, Run.id == Entry.run_id)
        .where(Entry.id == entry_id, Run.status == RunStatus.running)
    )
    finished = run_id is not None and finish_run_if_done(run_id)
    db.session.commit()
    return finished


def finish_run_if_done(run_id: int) -> bool:
    """Mark a running run finished once no entry is queued or in progress. Does not commit."""
    # EXISTS stops at the first unfinished entry: this runs after every entry, and counting
    # them all made each entry of a 100,000-row run pay for the ones still waiting.
    still_queued = db.session.scalar(
        select(exists().where(Entry.run_id == run_id, Entry.status.in_([s.value for s in QUEUED])))
    )
    if still_queued:
        return False
    return settle_run(run_id, RunStatus.finished, from_=[RunStatus.running])


def run_outcome(run: Run, counts: dict[str, int] | None = None) -> str:
    """One word for how a run went, as shown in job lists and `last_run_status`."""
    if run.status in (
        RunStatus.failed,
        RunStatus.cancelled,
        RunStatus.pending,
        RunStatus.preparing,
    ):
        return run.status
    counts = counts or bucket_counts(run.id)
    if counts["queued"]:
        return "running"
    if counts["errors"]:
        return "completed_with_errors"
    if counts["review"]:
        return "pending_review"
    return "completed"


def record_last_run(run_id: int, *, count: bool = True) -> str:
    """Write the run's outcome word to its job's `last_run_status`, unless a newer run of the
    job was started since (its word stands: runs can end out of order); count the run in the
    metrics when `count`. Returns the outcome word. No commit."""
    run = db.session.get(Run, run_id)
    db.session.refresh(run)
    outcome = run_outcome(run)
    newer = select(Run.id).where(Run.job_id == run.job_id, Run.id > run.id)
    db.session.execute(
        update(Job)
        .where(Job.id == run.job_id, ~newer.exists())
        .values(last_run_status=outcome)
        .execution_options(synchronize_session=False)
    )
    if count:
        metrics.run_ended(run.trigger, outcome)
    return outcome
