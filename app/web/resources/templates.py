"""Report template screens: list, editor, live PDF preview."""

from __future__ import annotations

import base64
import re
from typing import Any

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from app.datasources.parameters import PARAMETER_TYPES
from app.errors import Forbidden, NotFound, ValidationFailed
from app.models import DataSource, ReportTemplate, Role, Workspace
from app.outbound.llm import llm_configured
from app.rendering.service import get_template, preview_template, save_template
from app.web.helpers import is_fragment_request, workspace_for
from app.web.resources import (
    EMPTY_ROWS,
    PREVIEW_ERRORS,
    _index,
    _may,
    _message,
    _outcome_status,
    _prefixed,
    _text,
    bp,
    log,
)
from app.workspace_items import codes_of


def _template_form(values: MultiDict) -> dict[str, Any]:
    names, types = values.getlist("param_name"), values.getlist("param_type")
    required = set(values.getlist("param_required"))
    aliases, sources = values.getlist("ds_alias"), values.getlist("ds_source")
    return {
        "code": values.get("code", "").strip(),
        "name": values.get("name", "").strip(),
        "html": _text(values, "html"),
        "css": _text(values, "css"),
        "parameters": [
            {"name": name.strip(), "type": kind, "required": str(i) in required}
            for i, (name, kind) in enumerate(zip(names, types, strict=False))
            if name.strip()
        ],
        "data_sources": [
            {"alias": alias.strip(), "source": source}
            for alias, source in zip(aliases, sources, strict=False)
            if alias.strip() or source
        ],
        "summary": {
            "enabled": values.get("summary_enabled") == "1",
            "prompt": _text(values, "summary_prompt"),
        },
    }


def _samples() -> dict[str, str]:
    """The preview's sample values, posted with the form: the save renders with them."""
    return _prefixed(request.form, "sample.")


def _form_of_template(template: ReportTemplate) -> dict[str, Any]:
    fields = ("code", "name", "html", "css", "parameters", "data_sources")
    return {**{field: getattr(template, field) for field in fields}, "summary": template.summary}


def _template_page(
    workspace: Workspace,
    form: dict[str, Any],
    template: ReportTemplate | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    samples = _prefixed(request.values, "sample.")
    preview_url = None
    if template is not None and samples:
        args = {f"sample.{k}": v for k, v in samples.items()}
        preview_url = url_for(
            ".template_preview_pdf", ws=workspace.code, code=template.code, **args
        )
    sources = codes_of(DataSource, workspace.id)
    return render_template(
        "resources/template_edit.html",
        workspace=workspace,
        template=template,
        form=form,
        errors=errors or {},
        can_edit=_may(workspace, Role.editor),
        param_rows=[*form["parameters"], *[{"type": "string", "required": True}] * EMPTY_ROWS],
        source_rows=[*form["data_sources"], *[{}] * (EMPTY_ROWS - 1)],
        parameter_types=PARAMETER_TYPES,
        source_codes=sources,
        samples=samples,
        preview_url=preview_url,
        llm_configured=llm_configured(),
    ), status


@bp.get("/templates")
@login_required
def templates(ws: str) -> str:
    return _index(ws, ReportTemplate, "resources/templates_index.html")


@bp.route("/templates/new", methods=["GET", "POST"])
@login_required
def template_new(ws: str):
    workspace = workspace_for(ws, Role.editor)
    if request.method == "GET":
        empty = {"code": "", "name": "", "html": "", "css": "", "summary": None}
        return _template_page(workspace, {**empty, "parameters": [], "data_sources": []})
    form = _template_form(request.form)
    try:
        saved = save_template(workspace, current_user, **form, sample=_samples())
    except ValidationFailed as exc:
        return _template_page(workspace, form, errors=exc.errors, status=422)
    flash(f"Template “{saved.name}” created.", "success")
    return redirect(url_for(".template_edit", ws=workspace.code, code=saved.code), code=303)


@bp.route("/templates/<code>", methods=["GET", "POST"])
@login_required
def template_edit(ws: str, code: str):
    workspace = workspace_for(ws)
    need = Role.editor if request.method == "POST" else Role.viewer
    template = get_template(workspace, code, current_user, need)
    if request.method == "GET":
        return _template_page(workspace, _form_of_template(template), template)
    form = _template_form(request.form)
    try:
        save_template(workspace, current_user, **form, template=template, sample=_samples())
    except ValidationFailed as exc:
        return _template_page(workspace, form, template, exc.errors, 422)
    flash(f"Template “{template.name}” saved.", "success")
    return redirect(url_for(".template_edit", ws=workspace.code, code=template.code), code=303)


def _preview_response(
    workspace: Workspace, form: dict[str, Any], samples: dict, summarise: bool = False
) -> Response:
    """The PDF (plain request), the iframe fragment around it (htmx), or the error fragment;
    `summarise` asks the model for the summary ("Generate summary")."""
    try:
        rendered = preview_template(
            workspace, current_user, **form, sample=samples, summarise=summarise
        )
    except (NotFound, Forbidden):
        raise
    except Exception as exc:  # a WeasyPrint or data bug must show as a failed preview, too
        if not isinstance(exc, PREVIEW_ERRORS):
            log.exception("template preview failed")
            exc = RuntimeError(f"rendering failed: {type(exc).__name__}: {exc}")
        message = _message(exc)
        line = re.search(r"\bline (\d+)", message)
        response = make_response(
            render_template(
                "resources/_preview_error.html", message=message, line=line and line[1]
            ),
            _outcome_status(True),
        )
    else:
        if is_fragment_request():
            encoded = base64.b64encode(rendered.data).decode()
            response = make_response(
                render_template(
                    "resources/_preview.html",
                    pdf=encoded,
                    warnings=rendered.warnings,
                    narrative=rendered.narrative,
                    row_counts=rendered.row_counts,
                )
            )
        else:
            response = make_response(rendered.data)
            response.mimetype = "application/pdf"
            response.headers["Content-Disposition"] = 'inline; filename="preview.pdf"'
    response.headers["Vary"] = "HX-Request"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/templates/preview")
@login_required
def template_preview(ws: str) -> Response:
    workspace = workspace_for(ws, Role.editor)
    form = _template_form(request.form)
    del form["code"], form["name"]
    summarise = request.form.get("summarise") == "1"
    return _preview_response(workspace, form, _prefixed(request.form, "sample."), summarise)


@bp.get("/templates/<code>/preview.pdf")
@login_required
def template_preview_pdf(ws: str, code: str) -> Response:
    workspace = workspace_for(ws)
    template = get_template(workspace, code, current_user)
    form = _form_of_template(template)
    del form["code"], form["name"]
    return _preview_response(workspace, form, _prefixed(request.args, "sample."))
