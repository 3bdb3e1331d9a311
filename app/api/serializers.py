"""Turning models into the API's response bodies (the same everywhere they appear)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app, url_for

from app.database import utcnow
from app.delivery.throttle import waiting_text
from app.models import Artifact, Entry, Job, JobDraft, PersonalAccessToken, Run, TemporaryFile
from app.runs import dispatch
from app.runs.buckets import bucket_counts
from app.runs.progress import RunProgress
from app.runs.states import RunStatus


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def job_summary(job: Job, last_error: str | None = None) -> dict[str, Any]:
    """Seed 000's job summary with seed 004's run facts (`last_error`: app.jobs.queries
    last_errors)."""
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
        "lastErrorMessage": last_error,
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
        # In no bucket (DESIGN.md "Buckets"): without it the buckets would not add up.
        "cancelled": counts["cancelled"],
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


def run_created(run: Run, counts: dict[str, int]) -> dict[str, Any]:
    """Seed 000's {jobRunId} with seed 003's status ("queued" until the run is being worked
    on, then "running"), stage and estimatedWaitSec."""
    state = run_status(run, counts)
    return {
        "jobRunId": run.id,
        "status": "queued" if run.status == RunStatus.pending else "running",
        "stage": state["stage"],
        "estimatedWaitSec": state["estimatedWaitSec"],
    }


def _narrative_out(narrative: dict[str, Any] | None) -> dict[str, Any] | None:
    if not narrative:
        return None
    return {
        "text": narrative.get("text") or "",
        "reports": [
            {
                "report": r["report"],
                "promptChars": r["prompt_chars"],
                "responseChars": r["response_chars"],
                "truncated": r["truncated"],
                "ok": r["ok"],
            }
            for r in narrative.get("reports", [])
        ],
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
        "narrative": _narrative_out(entry.narrative),
        "reviewDecision": entry.review_decision,
        "reports": [
            {
                "id": a.id,
                "reportCode": a.report_code,
                "filename": a.filename,
                "contentType": a.content_type,
                "size": a.size,
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
                "nextAttemptAt": iso(d.next_attempt_at) if d.status == "pending" else None,
                "waiting": waiting_text(d.status, d.detail),
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


def review_item(entry: Entry, workspace_code: str) -> dict[str, Any]:
    """An entry of the review queue: the entry as a run shows it, with its run and job."""
    job = entry.run.job
    return {
        **entry_out(entry, workspace_code, job.code),
        "jobRunId": entry.run_id,
        "job": {"id": job.id, "code": job.code, "name": job.name},
    }


def token_out(token: PersonalAccessToken) -> dict[str, Any]:
    """A token as its list shows it: the prefix tells tokens apart; the secret is never kept."""
    return {
        "id": token.id,
        "name": token.name,
        "prefix": token.prefix,
        "permissions": list(token.permissions),
        "createdAt": iso(token.created_at),
        "expiresAt": iso(token.expires_at),
        "lastUsedAt": iso(token.last_used_at),
        "revokedAt": iso(token.revoked_at),
    }


def draft_out(draft: JobDraft, errors: dict[str, str]) -> dict[str, Any]:
    """A draft: its definition, the wizard steps checked so far, and what still keeps it from
    being committed (`errors`: app.jobs.drafts.draft_errors; empty when it can be)."""
    return {
        "id": draft.id,
        "jobId": draft.job_id,
        "definition": draft.data,
        "validSteps": list(draft.valid_steps),
        "errors": field_list(errors),
        "createdAt": iso(draft.created_at),
        "updatedAt": iso(draft.updated_at),
    }


def field_list(errors: dict[str, str]) -> list[dict[str, str]]:
    return [{"field": field, "message": message} for field, message in errors.items()]


def report_by_id(
    artifact: Artifact, entry: Entry, run: Run, job: Job, workspace_code: str
) -> dict[str, Any]:
    """Seed 003's report by id: its entry, run and job, format, size, and an absolute
    `downloadUrl` under HERALD_BASE_URL (null when no file was stored); the download itself
    needs a token that may read the workspace."""
    path = url_for(
        "api.artifact",
        ws=workspace_code,
        job=job.code,
        run_id=run.id,
        entry_id=entry.id,
        artifact_id=artifact.id,
    )
    return {
        "id": artifact.id,
        "reportCode": artifact.report_code,
        "filename": artifact.filename,
        "format": artifact.filename.rsplit(".", 1)[-1].lower() if "." in artifact.filename else "",
        "contentType": artifact.content_type,
        "size": artifact.size,
        "status": artifact.status,
        "error": artifact.error,
        "createdAt": iso(artifact.created_at),
        "entryId": entry.id,
        "jobRunId": run.id,
        "job": {"id": job.id, "code": job.code, "name": job.name},
        "downloadUrl": current_app.config["BASE_URL"].rstrip("/") + path
        if artifact.storage_key
        else None,
    }
