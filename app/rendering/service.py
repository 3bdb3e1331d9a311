"""Report templates: finding, saving (checked in the sandbox first) and previewing them."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import current_app
from jinja2 import TemplateError, TemplateSyntaxError, nodes
from sqlalchemy import select

from app.access import require
from app.datasources.fetch import fetch_rows, source_snapshot
from app.datasources.parameters import PARAMETER_TYPES, coerce_value
from app.datasources.sql import QueryError
from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.limits import TEMPLATE, size_error
from app.models import DataSource, ReportTemplate, Role, User, Workspace
from app.outbound.llm import llm_configured
from app.placeholders import RESERVED_ALIASES
from app.rendering.deadline import RenderDeadlineExceeded, render_deadline
from app.rendering.environment import TemplateRenderError, sandbox, sandbox_refusal
from app.rendering.narrative import PREVIEW_STAND_IN, summary_errors, summary_settings
from app.rendering.pdf import RenderedPdf
from app.rendering.report import (
    BindingError,
    bind_parameters,
    fetch_own_data,
    render_with_data,
)
from app.validation_messages import IDENTIFIER_PATTERN, PATTERN_RULES
from app.workspace_items import find_by_code, identity_errors

# URL words next to /templates/<code>: a template with one of these codes could not be opened.
RESERVED_CODES = {"new", "preview"}
# Names the preview and the run put into a template's context besides its own data sources.
CONTEXT_NAMES = RESERVED_ALIASES | {"job_params"}


@dataclass(frozen=True)
class TemplatePreview(RenderedPdf):
    """A preview's PDF, and how many rows each of the template's data sections had
    (`row_counts`: alias → count, in the template's order)."""

    row_counts: dict[str, int] = field(default_factory=dict)


def get_template(
    workspace: Workspace, code: str, user: User | None, need: Role = Role.viewer
) -> ReportTemplate:
    """The workspace's template `code`: NotFound if absent, Forbidden below `need`."""
    return find_by_code(ReportTemplate, workspace, code, user, need, "report template")


def save_template(
    workspace: Workspace,
    user: User | None,
    *,
    code: str,
    name: str,
    html: str,
    css: str,
    parameters: Sequence[Mapping[str, Any]],
    data_sources: Sequence[Mapping[str, Any]],
    template: ReportTemplate | None = None,
    sample: Mapping[str, Any] | None = None,
    summary: Mapping[str, Any] | None = None,
) -> ReportTemplate:
    """Create a template, or update `template`; nothing is saved unless all of it checks out,
    including a render in the sandbox with the `sample` parameter values (see `check_render`).

    `summary` is the written summary's settings (`{"enabled", "prompt"}`, docs/SUMMARY.md).
    Raises ValidationFailed keyed by field (`html`, `css`, `parameters.<i>.name`,
    `summary_prompt`, …); HTML or CSS larger than HERALD_MAX_TEMPLATE_BYTES is refused before
    it is compiled."""
    if user is not None:
        require(user, workspace, Role.editor)
    if template is not None and template.workspace_id != workspace.id:
        raise NotFound("report template not found")
    params = [_parameter(p) for p in parameters]
    refs = [_reference(r) for r in data_sources]
    settings = summary_settings(summary)
    errors = {
        **_check_identity(workspace, code, name, template),
        **summary_errors(settings),
        **check_parameters(params),
        **check_data_sources(workspace, refs),
        **(check_sizes(html, css) or check_html(html)),
    }
    if not errors:
        errors = check_render(workspace, html, params, refs, sample or {})
    if errors:
        raise ValidationFailed(errors)
    item = template or ReportTemplate(workspace_id=workspace.id)
    item.code, item.name = code, name.strip()
    item.html, item.css = html, css or ""
    item.parameters, item.data_sources = params, refs
    item.summary = settings
    db.session.add(item)
    db.session.commit()
    return item


def preview_template(
    workspace: Workspace,
    user: User | None,
    *,
    html: str,
    css: str,
    parameters: Sequence[Mapping[str, Any]],
    data_sources: Sequence[Mapping[str, Any]],
    sample: Mapping[str, Any],
    summary: Mapping[str, Any] | None = None,
    summarise: bool = False,
) -> TemplatePreview:
    """The PDF of a (possibly unsaved) template for sample parameter values, rendered as a run
    would: typed parameters, its own data sources fetched with them as binds, the sandbox;
    with the characters no installed font could draw (the warning a run's entry would carry)
    and the row count of each data section.

    With the summary on (`summary`, docs/SUMMARY.md), the model is asked only when
    `summarise` is true (the person pressed "Generate summary"); otherwise the PDF shows
    PREVIEW_STAND_IN where the summary goes, so editing never calls the endpoint.

    Raises ValidationFailed (bad declarations, HTML or CSS over its size limit),
    BindingError (sample values),
    QueryError (data) or TemplateRenderError (the template itself, or a render that took
    longer than HERALD_RENDER_TIMEOUT_SECONDS)."""
    if user is not None:
        require(user, workspace, Role.viewer)
    params = [_parameter(p) for p in parameters]
    refs = [_reference(r) for r in data_sources]
    errors = {
        **check_sizes(html, css),
        **check_parameters(params),
        **check_data_sources(workspace, refs),
    }
    if errors:
        raise ValidationFailed(errors)
    bindings: dict[str, dict[str, Any]] = {}
    for param in params:
        value = sample.get(param["name"])
        if value is None or value == "":
            if param["required"]:
                raise BindingError(f"enter a sample value for parameter '{param['name']}'")
            continue
        bindings[param["name"]] = {"value": value}
    declared = {"code": "preview", "parameters": params}
    values = bind_parameters(bindings, declared, {}, None)
    sources = _sources_by_code(workspace, {ref["source"] for ref in refs})
    context = {"data": {}, "job_params": {}, "run": {"id": 0}, "entry": {"id": 0, "seq": 1}}
    report = {"html": html, "css": css or "", "data_sources": refs}
    report["summary"] = summary_settings(summary)
    snapshots = {code: source_snapshot(source) for code, source in sources.items()}
    seconds = current_app.config["RENDER_TIMEOUT_SECONDS"]
    try:
        with render_deadline(seconds):
            own_data = fetch_own_data(report, snapshots, values)
            rendered = render_with_data(
                report,
                own_data,
                values,
                context,
                workspace.id,
                summarise=summarise,
                stand_in=PREVIEW_STAND_IN if llm_configured() else "",
            )
    except RenderDeadlineExceeded:
        raise TemplateRenderError(f"the preview took longer than {seconds} s") from None
    counts = {alias: len(rows) for alias, rows in own_data.items()}
    return TemplatePreview(**vars(rendered), row_counts=counts)


def check_sizes(html: str, css: str) -> dict[str, str]:
    """Errors keyed `html` / `css` for either larger than HERALD_MAX_TEMPLATE_BYTES (UTF-8)."""
    found = {"html": size_error(TEMPLATE, html or ""), "css": size_error(TEMPLATE, css or "")}
    return {field: error for field, error in found.items() if error}


def check_html(html: str) -> dict[str, str]:
    """Errors of a template that does not compile in the sandbox, keyed `html`, with its line."""
    if not (html or "").strip():
        return {"html": "enter the template's HTML"}
    try:
        sandbox().compile(html)
    except TemplateSyntaxError as exc:
        return {"html": f"line {exc.lineno}: {exc.message}"}
    except TemplateError as exc:
        return {"html": str(exc)}
    return {}


# Methods a template may call on `params` (a dict) besides reading declared parameters.
_DICT_METHODS = {"get", "items", "keys", "values"}


def check_render(
    workspace: Workspace,
    html: str,
    params: Sequence[Mapping[str, Any]],
    refs: Sequence[Mapping[str, Any]],
    sample: Mapping[str, Any],
) -> dict[str, str]:
    """What the sandbox is known to refuse in a compiling template, keyed `html`:
    `params.<name>` of an undeclared parameter, a `__dunder__` attribute, and whatever a
    render with the sample values (typed stand-ins where none is given) hits as unsafe.

    The template's own data sources are fetched for the render when every required
    parameter has a sample; names it does not know (a job's data sources) stay lenient,
    and failures that depend on the data are left to the preview.
    """
    static = _static_refusal(html, {p["name"] for p in params})
    if static:
        return {"html": static}
    values = {p["name"]: _sample_value(p, sample.get(p["name"])) for p in params}
    given = all(sample.get(p["name"]) not in (None, "") for p in params if p["required"])
    context: dict[str, Any] = {"data": {}, "job_params": {}, "run": {"id": 0}}
    context |= {"entry": {"id": 0, "seq": 1}, "params": values, "narrative": {"text": ""}}
    sources = _sources_by_code(workspace, {r["source"] for r in refs}, strict=False)
    for ref in refs:
        context[ref["alias"]] = []
        if given and ref["source"] in sources:
            # A failing fetch is the data's problem, not the template's: the preview shows it.
            with suppress(QueryError, ValidationFailed):
                context[ref["alias"]] = fetch_rows(source_snapshot(sources[ref["source"]]), values)
    refusal = sandbox_refusal(html, context)
    return {"html": refusal} if refusal else {}


def _static_refusal(html: str, declared: set[str]) -> str | None:
    """What the template's text alone shows the sandbox refusing, whatever the data."""
    for node in sandbox().parse(html).find_all((nodes.Getattr, nodes.Getitem)):
        key = node.attr if isinstance(node, nodes.Getattr) else getattr(node.arg, "value", None)
        if not isinstance(key, str):
            continue
        if key.startswith("__") and key.endswith("__"):
            return f"line {node.lineno}: the sandbox refuses '{key}'"
        reads_params = isinstance(node.node, nodes.Name) and node.node.name == "params"
        if reads_params and key not in declared and key not in _DICT_METHODS:
            return (
                f"line {node.lineno}: params.{key} is not a parameter of this template; "
                "declare it among its parameters"
            )
    return None


def _sample_value(param: Mapping[str, Any], given: Any) -> Any:
    """A sample value as its declared type; a stand-in of that type where none fits."""
    kind = param["type"]
    if given not in (None, ""):
        try:
            return coerce_value(kind, given)
        except ValueError:
            pass
    return {"number": 0, "boolean": False, "date": date.today().isoformat()}.get(kind, "")


def check_parameters(params: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Errors of declared parameters, keyed `parameters.<i>.name|type`."""
    errors: dict[str, str] = {}
    seen: set[str] = set()
    for i, param in enumerate(params):
        name = param["name"]
        if not re.match(IDENTIFIER_PATTERN, name):
            errors[f"parameters.{i}.name"] = f"Name {PATTERN_RULES[IDENTIFIER_PATTERN]}"
        elif name in seen:
            errors[f"parameters.{i}.name"] = f"'{name}' is declared twice"
        seen.add(name)
        if param["type"] not in PARAMETER_TYPES:
            errors[f"parameters.{i}.type"] = f"must be one of {', '.join(PARAMETER_TYPES)}"
    return errors


def check_data_sources(workspace: Workspace, refs: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Errors of a template's own data sources, keyed `data_sources.<i>.alias|source`."""
    errors: dict[str, str] = {}
    known = set(_sources_by_code(workspace, {r["source"] for r in refs}, strict=False))
    seen: set[str] = set()
    for i, ref in enumerate(refs):
        alias = ref["alias"]
        if not re.match(IDENTIFIER_PATTERN, alias):
            errors[f"data_sources.{i}.alias"] = f"Alias {PATTERN_RULES[IDENTIFIER_PATTERN]}"
        elif alias in CONTEXT_NAMES:
            errors[f"data_sources.{i}.alias"] = f"'{alias}' is reserved; choose another alias"
        elif alias in seen:
            errors[f"data_sources.{i}.alias"] = f"'{alias}' is used twice"
        seen.add(alias)
        if ref["source"] not in known:
            errors[f"data_sources.{i}.source"] = (
                f"no data source '{ref['source']}' in this workspace"
                if ref["source"]
                else "choose a data source"
            )
    return errors


def _check_identity(
    workspace: Workspace, code: str, name: str, template: ReportTemplate | None
) -> dict[str, str]:
    return identity_errors(
        ReportTemplate,
        workspace,
        code,
        name,
        current=template,
        reserved=RESERVED_CODES,
        what="template",
    )


def _parameter(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": str(raw.get("name") or "").strip(),
        "type": str(raw.get("type") or "string"),
        "required": bool(raw.get("required", True)),
    }


def _reference(raw: Mapping[str, Any]) -> dict[str, str]:
    return {
        "alias": str(raw.get("alias") or "").strip(),
        "source": str(raw.get("source") or "").strip(),
    }


def _sources_by_code(
    workspace: Workspace, codes: set[str], strict: bool = True
) -> dict[str, DataSource]:
    found = db.session.scalars(
        select(DataSource).where(
            DataSource.workspace_id == workspace.id, DataSource.code.in_(codes)
        )
    ).all()
    by_code = {source.code: source for source in found}
    missing = sorted(codes - set(by_code))
    if strict and missing:
        raise ValidationFailed({"data_sources": f"data source not found: {', '.join(missing)}"})
    return by_code
