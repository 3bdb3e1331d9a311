"""Wizard drafts: a job definition edited step by step, checked per step, committed by Save."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from sqlalchemy import select

from app.access import require
from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.jobs.checks import definition_errors
from app.jobs.draft_files import delete_dry_run_files
from app.jobs.service import create_job, export_job, replace_job
from app.models import Job, JobDraft, Role, User, Workspace
from app.scheduling import ScheduleRuleError, parse_rule

STEPS: dict[str, str] = {
    "configuration": "Configuration",
    "parameters": "Parameters",
    "data-sources": "Data Sources",
    "reports": "Reports",
    "schedule": "Schedule",
    "deliveries": "Deliveries",
}
# Which parts of the definition each step edits.
STEP_FIELDS: dict[str, tuple[str, ...]] = {
    "configuration": (
        "name",
        "code",
        "description",
        "scheduled",
        "hold_for_review",
        "error_notice",
        "error_notice_to",
    ),
    "parameters": ("parameters",),
    "data-sources": ("data_sources",),
    "reports": ("reports",),
    "schedule": ("schedule", "misfire_grace_seconds"),
    "deliveries": ("deliveries",),
}
EMPTY_DEFINITION: dict[str, Any] = {
    "code": "",
    "name": "",
    "description": "",
    "scheduled": False,
    "hold_for_review": False,
    "error_notice": "owner",
    "error_notice_to": "",
    "parameters": [],
    "data_sources": [],
    "reports": [],
    "deliveries": [],
    "schedule": None,
    "misfire_grace_seconds": 3600,
}


def start_draft(workspace: Workspace, user: User, job: Job | None = None) -> JobDraft:
    """A new draft for a new job, or the user's draft of `job` (made from the saved definition)."""
    require(user, workspace, Role.editor)
    if job is not None:
        existing = db.session.scalars(
            select(JobDraft).filter_by(job_id=job.id, user_id=user.id)
        ).first()
        if existing is not None:
            return existing
    else:
        # Opening "New job" again (a reload, a second tab, back and forth) continues the
        # user's untouched new draft instead of leaving one empty draft per visit.
        for untouched in db.session.scalars(
            select(JobDraft).filter_by(workspace_id=workspace.id, user_id=user.id, job_id=None)
        ):
            if not untouched.valid_steps and untouched.data == EMPTY_DEFINITION:
                return untouched
    draft = JobDraft(
        workspace_id=workspace.id,
        job_id=job.id if job else None,
        user_id=user.id,
        data=export_job(job) if job else dict(EMPTY_DEFINITION),
        valid_steps=list(STEPS) if job else [],
        base_digest=definition_digest(job) if job else None,
    )
    db.session.add(draft)
    db.session.commit()
    return draft


def draft_of_job(workspace: Workspace, user: User, job: Job) -> JobDraft | None:
    """The user's open draft of `job`, if any."""
    require(user, workspace, Role.editor)
    return db.session.scalars(select(JobDraft).filter_by(job_id=job.id, user_id=user.id)).first()


def get_draft(workspace: Workspace, user: User, draft_id: int) -> JobDraft:
    """The user's own draft in this workspace (404 otherwise)."""
    require(user, workspace, Role.editor)
    draft = db.session.get(JobDraft, draft_id)
    if draft is None or draft.workspace_id != workspace.id or draft.user_id != user.id:
        raise NotFound("draft not found")
    return draft


def drafts_of(workspace: Workspace, user: User, job: Job | None = None) -> list[JobDraft]:
    """The user's named drafts in the workspace (of `job` only, if given), newest first:
    unfinished work the job list and job page point back to."""
    query = select(JobDraft).filter_by(workspace_id=workspace.id, user_id=user.id)
    if job is not None:
        query = query.filter_by(job_id=job.id)
    found = db.session.scalars(query.order_by(JobDraft.updated_at.desc(), JobDraft.id.desc()))
    return [draft for draft in found if "configuration" in draft.valid_steps]


def suggest_code(name: str) -> str:
    """A job code from its name: "Monthly Customer Statements" → "monthly-customer-statements"."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64]


def draft_errors(draft: JobDraft, data: dict[str, Any] | None = None) -> dict[str, str]:
    """Everything that keeps the draft (or `data` in its place) from being saved as a job:
    the same check Save, the API and `jobs import` run (`definition_errors`)."""
    workspace = db.session.get(Workspace, draft.workspace_id)
    return definition_errors(workspace, draft.data if data is None else data, job=draft.job)


def update_step(draft: JobDraft, step: str, values: dict[str, Any]) -> None:
    """Check one step's values and store them in the draft; on error nothing changes.

    The step is checked as part of the whole draft, by the one definition check, and
    refused for the problems of its own fields; problems of steps not done yet wait for
    those steps (and the review page lists them all)."""
    data = {**draft.data, **{k: values[k] for k in STEP_FIELDS[step]}}
    errors = {k: v for k, v in draft_errors(draft, data).items() if step_of(k) == step}
    if errors:
        raise ValidationFailed(errors)
    if data.get("schedule") is not None and step == "schedule":
        # Stored as Save will store it: defaults dropped, fields the trigger ignores removed.
        data["schedule"] = _normalized(data["schedule"])
    draft.data = data
    draft.valid_steps = sorted(set(draft.valid_steps) | {step}, key=list(STEPS).index)
    db.session.commit()


def step_of(field: str) -> str:
    """The wizard step where a definition field (e.g. "reports.0.bindings.x") is edited."""
    top = field.split(".")[0]
    return next((s for s, fields in STEP_FIELDS.items() if top in fields), "configuration")


def commit_draft(draft: JobDraft, user: User) -> Job:
    """Save the whole draft as the job (all checks again), then discard the draft and its
    dry-run PDFs."""
    workspace = db.session.get(Workspace, draft.workspace_id)
    if draft.job is not None:
        job = replace_job(workspace, user, draft.job, draft.data)
    else:
        try:
            job = create_job(workspace, user, draft.data)
        except Conflict as exc:  # the wizard shows it beside the code field
            raise ValidationFailed({"code": str(exc)}) from None
    draft_id = draft.id
    db.session.delete(draft)
    db.session.commit()
    delete_dry_run_files(draft_id)
    return job


def definition_digest(job: Job) -> str:
    """SHA-256 of the job's saved definition (its export), to tell whether it changed."""
    text = json.dumps(export_job(job), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def update_draft(draft: JobDraft, values: dict[str, Any]) -> None:
    """Change the definition fields in `values` (any steps' fields, e.g. from the API) with
    the wizard's per-step check of every step they touch: all problems at once, beside their
    fields, and on any problem nothing changes. Unknown fields are refused."""
    unknown = sorted(set(values) - {f for fields in STEP_FIELDS.values() for f in fields})
    if unknown:
        raise ValidationFailed({name: "unknown field" for name in unknown})
    touched = [step for step, fields in STEP_FIELDS.items() if set(fields) & set(values)]
    data = {**draft.data, **values}
    errors = {k: v for k, v in draft_errors(draft, data).items() if step_of(k) in touched}
    if errors:
        raise ValidationFailed(errors)
    for step in touched:
        update_step(draft, step, {k: data[k] for k in STEP_FIELDS[step]})


def commit_fresh_draft(draft: JobDraft, user: User) -> Job:
    """`commit_draft`, refused with Conflict (nothing saved, the draft kept) when the job was
    changed by someone or something else since the draft was opened (seed 004's stale draft).
    Runs already started keep the definition they started with (runs snapshot it)."""
    if draft.job is not None and draft.base_digest not in (None, definition_digest(draft.job)):
        raise Conflict(
            f"job '{draft.job.code}' changed since this draft was opened; discard the draft "
            "and open a new one"
        )
    return commit_draft(draft, user)


def discard_draft(draft: JobDraft) -> None:
    """Delete a draft and its dry-run PDFs; the job it edits (if any) stays as saved."""
    draft_id = draft.id
    db.session.delete(draft)
    db.session.commit()
    delete_dry_run_files(draft_id)


def new_job_drafts(workspace: Workspace, user: User) -> list[JobDraft]:
    """The user's unfinished drafts of new jobs (named, i.e. past the first step), newest
    first: what "New job" offers to continue before starting another."""
    return [d for d in drafts_of(workspace, user) if d.job_id is None]


def duplicate_job(workspace: Workspace, user: User, job: Job) -> JobDraft:
    """A draft of a new job copied from `job`: "<name> (copy)" under a code no job or draft
    of the workspace uses ("<code>-copy", "<code>-copy-2", …), every step done, scheduled
    generation off so the copy never fires alongside the original before its owner says so.
    Nothing is a job until the draft is saved. Raises NotFound for another workspace's job,
    Forbidden below editor."""
    require(user, workspace, Role.editor)
    if job.workspace_id != workspace.id:
        raise NotFound("job not found")
    data = export_job(job)
    data["name"] = f"{job.name} (copy)"[:200]
    data["code"] = free_code(workspace, f"{job.code[:55]}-copy")
    data["scheduled"] = False
    draft = JobDraft(
        workspace_id=workspace.id, job_id=None, user_id=user.id, data=data, valid_steps=list(STEPS)
    )
    db.session.add(draft)
    db.session.commit()
    return draft


def free_code(workspace: Workspace, base: str) -> str:
    """`base`, or `base-2`, `base-3`…: the first that no job and no draft of the workspace
    uses (a draft's code is only a suggestion, but two copies should not start equal)."""
    used = set(db.session.scalars(select(Job.code).filter_by(workspace_id=workspace.id)))
    drafts = db.session.scalars(select(JobDraft.data).filter_by(workspace_id=workspace.id))
    used |= {d.get("code") for d in drafts if isinstance(d, dict)}
    candidate, n = base, 1
    while candidate in used:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _normalized(rule: dict[str, Any]) -> dict[str, Any]:
    try:
        return parse_rule(rule).model_dump(mode="json", exclude_defaults=True)
    except ScheduleRuleError:
        return rule  # cannot happen after the check; kept as typed rather than lost
