"""Turning models into the API's response bodies (the same everywhere they appear)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import url_for

from app.database import utcnow
from app.models import Entry, Job, Run, TemporaryFile
from app.runs import dispatch
from app.runs.buckets import bucket_counts
from app.runs.progress import RunProgress
from app.runs.states import RunStatus


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def job_summary(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "code": job.code,
        "name": job.name,
        "description": job.description,
        "scheduled": job.scheduled,
        "holdForReview": job.hold_for_review,
        "nextRunAt": iso(job.next_fire_at) if job.scheduled else None,
        "lastRunAt": iso(job.last_run_at),
        "lastRunStatus": job.last_run_status,
    }


def _buckets(counts: dict[str, int]) -> dict[str, int]:
    return {k: counts[k] for k in ("queued", "completed", "errors", "review")}


def run_summary(run: Run, counts: dict[str, int] | None = None) -> dict[str, Any]:
    counts = counts or bucket_counts(run.id)
    return {
        "id": run.id,
        "jobId": run.job_id,
        "trigger": run.trigger,
        "runStatus": run.status,
        "createdAt": iso(run.created_at),
        "finishedAt": iso(run.finished_at),
        "scheduledFor": iso(run.scheduled_for),
        "entries": counts["total"],
        "status": _buckets(counts),
        "params": run.params if run.params is not None else run.requested_params,
        "error": run.error,
    }


def _stage(run: Run | RunProgress, counts: dict[str, int]) -> str:
    if run.status == RunStatus.pending:
        return "waiting_for_queue" if dispatch.prepare_waiting(run.id, run.attempts) else "queued"
    if run.status in (RunStatus.preparing, RunStatus.failed, RunStatus.cancelled):
        return str(run.status)
    if counts["queued"]:
        return "generating"
    return "awaiting_review" if counts["review"] else "done"


def _estimated_wait(run: Run | RunProgress, counts: dict[str, int]) -> int | None:
    """Seconds left at the pace of this run so far; None until an entry has finished."""
    if not counts["queued"] and run.status not in (RunStatus.pending, RunStatus.preparing):
        return 0
    done = counts["total"] - counts["queued"]
    if not done or run.started_at is None:
        return None
    per_entry = (utcnow() - run.started_at).total_seconds() / done
    return round(per_entry * counts["queued"])


def run_status(run: Run | RunProgress, counts: dict[str, int]) -> dict[str, Any]:
    """The seed's JobRunStatus, plus stage and an estimate."""
    open_run = run.status in (RunStatus.pending, RunStatus.preparing)
    return {
        "finished": not open_run and counts["queued"] == 0,
        "entries": counts["total"],
        "status": _buckets(counts),
        "runStatus": run.status,
        "stage": _stage(run, counts),
        "estimatedWaitSec": _estimated_wait(run, counts),
        "cancelled": counts["cancelled"],
        "error": run.error,
    }


def entry_out(entry: Entry, workspace_code: str, job_code: str) -> dict[str, Any]:
    def download(artifact_id: int) -> str:
        return url_for(
            "api.artifact",
            ws=workspace_code,
            job=job_code,
            run_id=entry.run_id,
            entry_id=entry.id,
            artifact_id=artifact_id,
        )

    return {
        "id": entry.id,
        "seq": entry.seq,
        "status": entry.status,
        "row": entry.row,
        "error": entry.error,
        "warnings": entry.warnings or [],
        "reviewDecision": entry.review_decision,
        "reports": [
            {
                "id": a.id,
                "reportCode": a.report_code,
                "filename": a.filename,
                "status": a.status,
                "error": a.error,
                "downloadUrl": download(a.id) if a.storage_key else None,
            }
            for a in entry.artifacts
        ],
        "deliveries": [
            {
                "id": d.id,
                "kind": d.kind,
                "status": d.status,
                "attempts": d.attempts,
                "lastError": d.last_error,
                "sentAt": iso(d.sent_at),
                "recipients": recipients_out(d.detail),
            }
            for d in entry.deliveries
        ],
    }


def recipients_out(detail: dict[str, Any] | None) -> list[dict[str, str]]:
    """An email delivery's per-recipient outcomes (`detail.recipients`, or those of its last
    attempt under `detail.partial`) as a list; empty for other channels."""
    found = (detail or {}).get("recipients") or ((detail or {}).get("partial") or {}).get(
        "recipients"
    )
    return [
        {"address": addr, "status": o.get("status", ""), "reply": o.get("reply", "")}
        for addr, o in (found or {}).items()
    ]


def temporary_file_out(file: TemporaryFile, workspace_code: str) -> dict[str, Any]:
    return {
        "id": file.id,
        "status": file.status,
        "filename": file.filename,
        "pages": file.pages,
        "size": file.size,
        "error": file.error,
        "expiresAt": iso(file.expires_at),
        "downloadUrl": url_for("api.temporary_file_download", ws=workspace_code, file_id=file.id)
        if file.status == "ready"
        else None,
    }
