"""Data source screens: list, editor, test query, CSV upload."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from app.datasources import service as sources_service
from app.datasources.csvfile import AUTO, DELIMITERS, ENCODINGS
from app.datasources.service import bind_names, get_source, save_source
from app.errors import ValidationFailed
from app.limits import SOURCE, size_error
from app.models import Connection, DataSource, Role, Workspace
from app.web.helpers import page_or_fragment, workspace_for
from app.web.resources import (
    TEST_ERRORS,
    _index,
    _may,
    _message,
    _outcome_status,
    _prefixed,
    _text,
    bp,
)
from app.workspace_items import codes_of

DRAFT_KEYS = ("kind", "content", "connection", "query", "encoding", "delimiter")
DELIMITER_LABELS = {"comma": "Comma ,", "semicolon": "Semicolon ;", "tab": "Tab", "pipe": "Pipe |"}


def _source_form(values: MultiDict, kind: str | None) -> dict[str, Any]:
    kind = kind if kind in sources_service.KINDS else "sql"
    return {
        "code": values.get("code", "").strip(),
        "name": values.get("name", "").strip(),
        "kind": kind,
        "connection": values.get("connection") if kind == "sql" else None,
        "query": _text(values, "query") if kind == "sql" else None,
        "content": _text(values, "content") if kind != "sql" else None,
        "encoding": values.get("encoding", AUTO) if kind == "csv" else AUTO,
        "delimiter": values.get("delimiter", AUTO) if kind == "csv" else AUTO,
    }


def _form_of_source(source: DataSource) -> dict[str, Any]:
    return {
        "code": source.code,
        "name": source.name,
        "kind": source.kind,
        "connection": source.connection.code if source.connection else None,
        "query": source.query,
        "content": source.content,
        "encoding": AUTO,
        "delimiter": AUTO,
    }


def _with_upload(form: dict[str, Any]) -> dict[str, Any]:
    """The form with an uploaded CSV file's bytes as its content (the upload wins)."""
    upload = request.files.get("file")
    if form["kind"] != "csv" or upload is None or not upload.filename:
        return form
    return {**form, "content": upload.read()}


def _source_context(
    workspace: Workspace, form: dict[str, Any], source: DataSource | None, **extra: Any
) -> dict[str, Any]:
    can_edit = _may(workspace, Role.editor)
    if can_edit:
        test_url = url_for(".source_test_draft", ws=workspace.code)
    else:
        test_url = url_for(".source_test", ws=workspace.code, code=source.code)
    connections = codes_of(Connection, workspace.id, kind="sql")
    return {
        "workspace": workspace,
        "source": source,
        # Content over its limit (an upload, mostly) is refused, not sent back into the page.
        "form": {**form, "content": ""} if size_error(SOURCE, form["content"] or "") else form,
        "errors": {},
        "can_edit": can_edit,
        "connections": connections,
        "binds": bind_names(form["query"]) if form["kind"] == "sql" else [],
        "bind_values": _prefixed(request.form, "bind."),
        "test_url": test_url,
        "delimiters": [(AUTO, "Detect")] + [(k, DELIMITER_LABELS[k]) for k in DELIMITERS],
        "encodings": [(AUTO, "Detect")] + list(ENCODINGS.items()),
        **extra,
    }


def _tested(workspace: Workspace, form: dict[str, Any], source: DataSource | None) -> dict:
    """The test panel's outcome: the rows, or the error that stopped them."""
    binds = _prefixed(request.form, "bind.")
    try:
        if source is None:
            draft = {k: v for k, v in _with_upload(form).items() if k in DRAFT_KEYS}
            found = sources_service.test_source(workspace, current_user, **draft, binds=binds)
        else:
            found = sources_service.test_source(workspace, current_user, binds=binds, source=source)
    except TEST_ERRORS as exc:
        outcome = {"test_error": _message(exc)}
        if form["kind"] == "csv" and isinstance(exc, ValidationFailed):
            outcome["errors"] = exc.errors  # beside the file field on a whole page too
        return outcome
    if found.csv is not None:
        # A page without htmx loses the chosen file: the text it held keeps the preview.
        form["content"] = found.csv.text
    return {"result": found}


@bp.get("/sources")
@login_required
def sources(ws: str) -> str:
    return _index(ws, DataSource, "resources/sources_index.html")


@bp.route("/sources/new", methods=["GET", "POST"])
@login_required
def source_new(ws: str):
    workspace = workspace_for(ws, Role.editor)
    form = _source_form(request.form, request.values.get("kind"))
    if request.method == "GET":
        return render_template(
            "resources/source_edit.html", **_source_context(workspace, form, None)
        )
    try:
        saved = save_source(workspace, current_user, **_with_upload(form), replace=False)
    except ValidationFailed as exc:
        context = _source_context(workspace, form, None, errors=exc.errors)
        return render_template("resources/source_edit.html", **context), 422
    flash(f"Data source “{saved.name}” created.", "success")
    return redirect(url_for(".source_edit", ws=workspace.code, code=saved.code), code=303)


@bp.route("/sources/<code>", methods=["GET", "POST"])
@login_required
def source_edit(ws: str, code: str):
    workspace = workspace_for(ws)
    need = Role.editor if request.method == "POST" else Role.viewer
    source = get_source(workspace, code, current_user, need)
    if request.method == "GET":
        context = _source_context(workspace, _form_of_source(source), source)
        return render_template("resources/source_edit.html", **context)
    form = _source_form(request.form, source.kind)
    try:
        save_source(workspace, current_user, **_with_upload(form), source=source)
    except ValidationFailed as exc:
        context = _source_context(workspace, form, source, errors=exc.errors)
        return render_template("resources/source_edit.html", **context), 422
    flash(f"Data source “{source.name}” saved.", "success")
    return redirect(url_for(".source_edit", ws=workspace.code, code=source.code), code=303)


def _test_panel(workspace: Workspace, form: dict, source: DataSource | None, outcome: dict):
    return page_or_fragment(
        "resources/source_edit.html",
        "resources/_rows.html",
        _outcome_status("test_error" in outcome),
        **_source_context(workspace, form, source, **outcome),
    )


@bp.post("/sources/test")
@login_required
def source_test_draft(ws: str) -> Response:
    workspace = workspace_for(ws, Role.editor)
    form = _source_form(request.form, request.form.get("kind"))
    code = request.form.get("saved_code")  # the draft of a saved source: its page around it
    source = get_source(workspace, code, current_user, Role.editor) if code else None
    return _test_panel(workspace, form, source, _tested(workspace, form, None))


@bp.post("/sources/<code>/test")
@login_required
def source_test(ws: str, code: str) -> Response:
    workspace = workspace_for(ws)
    source = get_source(workspace, code, current_user)
    form = _form_of_source(source)
    return _test_panel(workspace, form, source, _tested(workspace, form, source))
