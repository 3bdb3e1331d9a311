"""Wizard drafts: a job definition edited step by step, checked per step, committed by Save."""

from __future__ import annotations

import re
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select

from app.access import require
from app.delivery.channels import TEMPLATED_FIELDS
from app.delivery.placeholders import unknown_placeholders
from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.jobs.samples import known_placeholders
from app.jobs.schema import (
    CODE_PATTERN,
    DataSourceRef,
    Delivery,
    ParameterDef,
    ReportRef,
    any_repeating,
    binding_errors,
    condition_errors,
    data_source_errors,
    parameter_errors,
    validation_errors,
)
from app.jobs.service import export_job, save_job
from app.models import DataSource, Job, JobDraft, ReportTemplate, Role, User, Workspace
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
    "configuration": ("name", "code", "description", "scheduled", "hold_for_review"),
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
    draft = JobDraft(
        workspace_id=workspace.id,
        job_id=job.id if job else None,
        user_id=user.id,
        data=export_job(job) if job else dict(EMPTY_DEFINITION),
        valid_steps=list(STEPS) if job else [],
    )
    db.session.add(draft)
    db.session.commit()
    return draft


def get_draft(workspace: Workspace, user: User, draft_id: int) -> JobDraft:
    """The user's own draft in this workspace (404 otherwise)."""
    require(user, workspace, Role.editor)
    draft = db.session.get(JobDraft, draft_id)
    if draft is None or draft.workspace_id != workspace.id or draft.user_id != user.id:
        raise NotFound("draft not found")
    return draft


def suggest_code(name: str) -> str:
    """A job code from its name: "Monthly Customer Statements" → "monthly-customer-statements"."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64]


def update_step(draft: JobDraft, step: str, values: dict[str, Any]) -> None:
    """Check one step's values and store them in the draft; on error nothing changes."""
    errors = STEP_CHECKS[step](draft, values)
    if errors:
        raise ValidationFailed(errors)
    draft.data = {**draft.data, **{k: values[k] for k in STEP_FIELDS[step]}}
    draft.valid_steps = sorted(set(draft.valid_steps) | {step}, key=list(STEPS).index)
    db.session.commit()


def step_of(field: str) -> str:
    """The wizard step where a definition field (e.g. "reports.0.bindings.x") is edited."""
    top = field.split(".")[0]
    return next((s for s, fields in STEP_FIELDS.items() if top in fields), "configuration")


def commit_draft(draft: JobDraft, user: User) -> Job:
    """Save the whole draft as the job (all checks again), then discard the draft."""
    workspace = db.session.get(Workspace, draft.workspace_id)
    job = save_job(workspace, user, draft.data, job=draft.job)
    db.session.delete(draft)
    db.session.commit()
    return job


def discard_draft(draft: JobDraft) -> None:
    db.session.delete(draft)
    db.session.commit()


def _adapt(kind: Any, field: str, value: Any) -> tuple[Any, dict[str, str]]:
    try:
        return TypeAdapter(kind).validate_python(value), {}
    except ValidationError as exc:
        return None, {f"{field}.{k}" if k else field: v for k, v in validation_errors(exc).items()}


def _check_configuration(draft: JobDraft, values: dict[str, Any]) -> dict[str, str]:
    errors = {}
    if not values.get("name", "").strip():
        errors["name"] = "a job needs a name"
    code = values.get("code", "")
    if not re.match(CODE_PATTERN, code):
        errors["code"] = "use lowercase letters, digits and '-' (e.g. monthly-statements)"
    else:
        clash = db.session.scalars(
            select(Job).filter_by(workspace_id=draft.workspace_id, code=code)
        ).first()
        if clash is not None and clash.id != draft.job_id:
            errors["code"] = f"another job already uses the code '{code}'"
    return errors


def _check_parameters(draft: JobDraft, values: dict[str, Any]) -> dict[str, str]:
    parameters, errors = _adapt(list[ParameterDef], "parameters", values["parameters"])
    return errors or parameter_errors(parameters)


def _check_data_sources(draft: JobDraft, values: dict[str, Any]) -> dict[str, str]:
    refs, errors = _adapt(list[DataSourceRef], "data_sources", values["data_sources"])
    if errors:
        return errors
    errors = data_source_errors(refs)
    known = set(
        db.session.scalars(select(DataSource.code).filter_by(workspace_id=draft.workspace_id))
    )
    for i, ref in enumerate(refs):
        if ref.source not in known:
            errors[f"data_sources.{i}.source"] = f"no data source '{ref.source}'"
    return errors


def _check_reports(draft: JobDraft, values: dict[str, Any]) -> dict[str, str]:
    if not values["reports"]:
        return {"reports": "add at least one report"}
    reports, errors = _adapt(list[ReportRef], "reports", values["reports"])
    if errors:
        return errors
    refs = [DataSourceRef.model_validate(d) for d in draft.data["data_sources"]]
    names = {p["name"] for p in draft.data["parameters"]}
    errors = binding_errors(reports, names, any_repeating(refs))
    templates = {
        t.code: t
        for t in db.session.scalars(
            select(ReportTemplate).filter_by(workspace_id=draft.workspace_id)
        )
    }
    for i, report in enumerate(reports):
        template = templates.get(report.template)
        if template is None:
            errors[f"reports.{i}.template"] = f"no report template '{report.template}'"
            continue
        for param in template.parameters:
            if param.get("required", True) and param["name"] not in report.bindings:
                errors[f"reports.{i}.bindings.{param['name']}"] = "bind this parameter"
    return errors


def _check_schedule(draft: JobDraft, values: dict[str, Any]) -> dict[str, str]:
    errors = {}
    if values.get("misfire_grace_seconds", 0) < 0:
        errors["misfire_grace_seconds"] = "must be 0 or more"
    rule = values.get("schedule")
    if rule is None:
        if draft.data.get("scheduled"):
            errors["schedule"] = "required when scheduled generation is enabled"
        return errors
    try:
        values["schedule"] = parse_rule(rule).model_dump(mode="json", exclude_defaults=True)
    except ScheduleRuleError as exc:
        errors[f"schedule.{exc.field}"] = exc.message
    return errors


EMAIL_TEMPLATED_FIELDS = (
    "from",
    "reply_to",
    "to",
    "cc",
    "bcc",
    "subject",
    "message",
    "attachment_name",
)


def _check_deliveries(draft: JobDraft, values: dict[str, Any]) -> dict[str, str]:
    deliveries, errors = _adapt(list[Delivery], "deliveries", values["deliveries"])
    if errors:
        return errors
    errors = condition_errors(
        deliveries,
        [DataSourceRef.model_validate(d) for d in draft.data["data_sources"]],
        [ParameterDef.model_validate(p) for p in draft.data["parameters"]],
    )
    known = known_placeholders(draft.workspace_id, draft.data)
    for i, delivery in enumerate(values["deliveries"]):
        kind = delivery.get("kind", "email")
        fields = EMAIL_TEMPLATED_FIELDS if kind == "email" else TEMPLATED_FIELDS.get(kind, ())
        for name in fields:
            bad = unknown_placeholders(delivery.get(name, ""), known)
            if bad:
                errors[f"deliveries.{i}.{name}"] = f"unknown placeholder {', '.join(bad)}"
    return errors


STEP_CHECKS = {
    "configuration": _check_configuration,
    "parameters": _check_parameters,
    "data-sources": _check_data_sources,
    "reports": _check_reports,
    "schedule": _check_schedule,
    "deliveries": _check_deliveries,
}
