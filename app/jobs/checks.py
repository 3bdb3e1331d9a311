"""The one check a job definition passes before it is saved, whoever saves it.

The wizard (per step and at Save), the JSON API and `jobs import` all call
`definition_errors`: nothing is saved that is known to fail. Known means what can be
told now without running the job: the definition's shape and consistency
(`app.jobs.schema`), the templates and data sources it names, the columns its Repeating
source returns, the binds its queries need, the placeholders its deliveries and file
names use, and whether a scheduled job ever fires. What cannot be told now (a database
that does not answer) is no objection.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.database import utcnow
from app.datasources.fetch import source_columns, source_snapshot
from app.datasources.service import bind_names
from app.datasources.sql import QueryError
from app.errors import ValidationFailed
from app.extensions import db
from app.jobs.channels import TEMPLATED_FIELDS
from app.jobs.schema import ColumnBinding, JobDefinition, Parts, definition_problems
from app.models import DataSource, Job, ReportTemplate, Workspace
from app.placeholders import unknown_placeholders
from app.scheduling import empty_preview_reason, preview

# Binds named data_<key> are filled from a run's `data` payload (DESIGN: the run's data).
DATA_BIND_PREFIX = "data_"


def definition_errors(
    workspace: Workspace,
    data: Any,
    *,
    job: Job | None = None,
    now: datetime | None = None,
) -> dict[str, str]:
    """Every problem of definition JSON, as {"field.path": "message"}; empty when it may be
    saved. Parts that are not well-formed yet (a wizard draft) are checked as far as they go.

    `job` is the job being edited (its own code is no clash). `now` is when a
    scheduled job must fire after (default: now).
    """
    parts, errors = definition_problems(data)
    if parts is None:
        return errors
    found = _Found.load(workspace.id, parts)
    checks = (
        _code_clash(workspace, data, job),
        _reference_errors(parts, found),
        _recipient_errors(data),
        _schedule_errors(parts, now or utcnow()),
        _source_errors(parts, found),
        _column_binding_errors(parts, found),
        _bind_errors(parts, found),
        _placeholder_errors(parts, found),
    )
    for problems in checks:
        for field, message in problems.items():
            errors.setdefault(field, message)
    return errors


def check_references(workspace: Workspace, definition: JobDefinition) -> None:
    """Raise ValidationFailed unless every template and data source `definition` names
    exists and its bindings fit the templates: what a dry run needs to render."""
    parts = Parts.of(definition)
    errors = _reference_errors(parts, _Found.load(workspace.id, parts, columns=False))
    if errors:
        raise ValidationFailed(errors)


def known_placeholders(workspace_id: int, data: Mapping[str, Any]) -> dict[str, set[str] | None]:
    """Namespaces and keys a delivery may reference in a draft or definition; None where any
    key may exist (the run's data, or a source whose columns cannot be known now)."""
    parts = Parts.parse(data)
    return _known(parts, _Found.load(workspace_id, parts))


class _Found:
    """The templates and data sources a definition names, and the columns of its sources."""

    def __init__(self, templates: dict[str, ReportTemplate], sources: dict[str, DataSource]):
        self.templates, self.sources = templates, sources
        self.columns: dict[str, list[str] | None] = {}
        self.failures: dict[str, str] = {}

    @classmethod
    def load(cls, workspace_id: int, parts: Parts, columns: bool = True) -> _Found:
        names = {r.template for r in parts.reports or []}
        templates = _by_code(ReportTemplate, workspace_id, names)
        codes = {d.source for d in parts.data_sources or []}
        found = cls(templates, _by_code(DataSource, workspace_id, codes))
        for code, source in found.sources.items() if columns else ():
            try:
                found.columns[code] = source_columns(source_snapshot(source))
            except QueryError as exc:
                found.columns[code], found.failures[code] = None, str(exc)
        return found


def _by_code(model: Any, workspace_id: int, codes: set[str]) -> dict[str, Any]:
    query = select(model).where(model.workspace_id == workspace_id, model.code.in_(codes))
    return {item.code: item for item in db.session.scalars(query)}


def _code_clash(workspace: Workspace, data: Any, job: Job | None) -> dict[str, str]:
    code = data.get("code")
    if not isinstance(code, str):
        return {}
    other = db.session.scalars(
        select(Job.id).filter_by(workspace_id=workspace.id, code=code)
    ).first()
    if other is not None and (job is None or other != job.id):
        return {"code": f"another job already uses the code '{code}'"}
    return {}


def _reference_errors(parts: Parts, found: _Found) -> dict[str, str]:
    """Named data sources and templates exist; bindings name the template's parameters and
    bind every required one."""
    errors: dict[str, str] = {}
    for i, ref in enumerate(parts.data_sources or []):
        if ref.source not in found.sources:
            errors[f"data_sources.{i}.source"] = f"no data source with code '{ref.source}'"
    for i, report in enumerate(parts.reports or []):
        template = found.templates.get(report.template)
        if template is None:
            errors[f"reports.{i}.template"] = f"no report template with code '{report.template}'"
            continue
        declared = {p["name"] for p in template.parameters}
        for name in report.bindings:
            if name not in declared:
                errors[f"reports.{i}.bindings.{name}"] = (
                    f"template '{template.code}' has no parameter '{name}'"
                )
        for param in template.parameters:
            if param.get("required", True) and param["name"] not in report.bindings:
                errors[f"reports.{i}.bindings.{param['name']}"] = (
                    f"bind this required parameter of template '{template.code}'"
                )
        if problem := _section_error(report.table_sections, template):
            errors[f"reports.{i}.table_sections"] = problem
    return errors


def _section_error(sections: list[str], template: ReportTemplate) -> str | None:
    """Why the picked data sections are not all the template's own (None when they are)."""
    own = [ref["alias"] for ref in template.data_sources]
    unknown = [s for s in sections if s not in own]
    if not unknown:
        return None
    offer = f"it has {', '.join(map(repr, own))}" if own else "it has no data sections of its own"
    return f"template '{template.code}' has no data section '{unknown[0]}'; {offer}"


def _recipient_errors(data: Mapping[str, Any]) -> dict[str, str]:
    """An email with no recipient at all fails every entry ("no recipient"). Read from the
    JSON, so a panel left blank hears it beside To along with its other missing fields."""
    deliveries = data.get("deliveries")
    errors = {}
    for i, delivery in enumerate(deliveries if isinstance(deliveries, list) else []):
        if not isinstance(delivery, Mapping) or delivery.get("kind") != "email":
            continue
        recipients = [delivery.get(field) for field in ("to", "cc", "bcc")]
        if not any(isinstance(r, str) and r.strip() for r in recipients):
            errors[f"deliveries.{i}.to"] = "Enter at least one recipient in To, CC or BCC"
    return errors


def _schedule_errors(parts: Parts, now: datetime) -> dict[str, str]:
    """Scheduled generation needs a schedule that fires again."""
    rule = parts.schedule
    if not parts.scheduled or rule is None or preview(rule, now, 1):
        return {}
    return {
        "schedule": f"{empty_preview_reason(rule, now)} A scheduled job must fire: change the "
        "schedule, or turn scheduled generation off."
    }


def _source_errors(parts: Parts, found: _Found) -> dict[str, str]:
    """A data source its database refuses (a table dropped since it was saved) fails every
    run."""
    refs = enumerate(parts.data_sources or [])
    return {
        f"data_sources.{i}.source": f"data source '{r.source}' fails: {found.failures[r.source]}"
        for i, r in refs
        if r.source in found.failures
    }


def _column_binding_errors(parts: Parts, found: _Found) -> dict[str, str]:
    """Column bindings name a column the Repeating source returns."""
    repeating = parts.repeating
    columns = found.columns.get(repeating.source) if repeating else None
    if columns is None:
        return {}
    errors = {}
    for i, report in enumerate(parts.reports or []):
        for name, binding in report.bindings.items():
            if isinstance(binding, ColumnBinding) and binding.column not in columns:
                errors[f"reports.{i}.bindings.{name}"] = (
                    f"the Repeating data source '{repeating.source}' returns no column "
                    f"'{binding.column}' (it returns {', '.join(columns) or 'no columns'})"
                )
    return errors


def _bind_errors(parts: Parts, found: _Found) -> dict[str, str]:
    """Every `:bind` of a query has a value in a run: a job parameter, `data_<key>`, or for a
    template's own data source also one of the report's parameters."""
    if parts.parameters is None:
        return {}
    job_params = {p.name for p in parts.parameters}
    errors = {}
    for i, ref in enumerate(parts.data_sources or []):
        missing = _unbound(found.sources.get(ref.source), job_params)
        if missing:
            errors[f"data_sources.{i}.source"] = (
                f"data source '{ref.source}' needs {_binds(missing)}, which no job parameter "
                f"provides: add {_names(missing)} (binds named :{DATA_BIND_PREFIX}<key> come "
                "from a run's data)"
            )
    for i, report in enumerate(parts.reports or []):
        template = found.templates.get(report.template)
        if template is None:
            continue
        own = _by_code(
            DataSource, template.workspace_id, {d["source"] for d in template.data_sources}
        )
        for ref in template.data_sources:
            missing = _unbound(own.get(ref["source"]), job_params | set(report.bindings))
            if missing:
                errors.setdefault(
                    f"reports.{i}.template",
                    f"template '{template.code}' reads data source '{ref['source']}', which "
                    f"needs {_binds(missing)}: no job parameter or parameter of the report "
                    "provides it",
                )
    return errors


def _unbound(source: DataSource | None, available: set[str]) -> list[str]:
    if source is None or source.kind != "sql":
        return []
    return [
        name
        for name in bind_names(source.query)
        if name not in available and not name.startswith(DATA_BIND_PREFIX)
    ]


def _binds(names: list[str]) -> str:
    return ", ".join(f":{name}" for name in names)


def _names(names: list[str]) -> str:
    quoted = " and ".join(f"'{name}'" for name in names)
    return f"a job parameter named {quoted}" if len(names) == 1 else f"job parameters {quoted}"


def _known(parts: Parts, found: _Found) -> dict[str, set[str] | None]:
    params = parts.parameters
    known: dict[str, set[str] | None] = {
        "params": {p.name for p in params} if params is not None else None,
        "data": None,
        "run": {"id"},
        "entry": {"id", "seq"},
        "report": {"code", "name", "filename"},
        "narrative": {"text"},
    }
    for ref in parts.data_sources or []:
        columns = found.columns.get(ref.source)
        known[ref.alias] = set(columns) if columns is not None else None
    return known


def _placeholder_errors(parts: Parts, found: _Found) -> dict[str, str]:
    """Placeholders in deliveries and report file names name something a run has."""
    if parts.data_sources is None:
        return {}  # which namespaces are aliases is not known yet
    known = _known(parts, found)
    errors = {}
    for i, report in enumerate(parts.reports or []):
        bad = unknown_placeholders(report.filename, known)
        if bad:
            errors[f"reports.{i}.filename"] = f"unknown placeholder {', '.join(bad)}"
    for i, delivery in enumerate(parts.deliveries or []):
        fields = dict(delivery.model_dump(by_alias=True))
        for name in TEMPLATED_FIELDS[delivery.kind]:
            bad = unknown_placeholders(fields.get(name) or "", known)
            if bad:
                errors[f"deliveries.{i}.{name}"] = f"unknown placeholder {', '.join(bad)}"
    return errors
