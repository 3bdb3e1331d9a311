"""Screens for report templates, data sources and connections."""

from __future__ import annotations

import base64
import logging
import re
from typing import Any

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from app.access import role_in
from app.connections import service as connections_service
from app.connections.secrets import get_secrets
from app.connections.service import (
    CHANNEL_KINDS,
    SECRET_FIELDS,
    connection_summary,
    get_connection,
    public_url,
    save_connection,
    send_test_email,
    service_account_email,
)
from app.datasources import service as sources_service
from app.datasources.parameters import PARAMETER_TYPES
from app.datasources.service import bind_names, get_source, save_source
from app.datasources.sql import QueryError
from app.delivery.errors import DeliveryError
from app.errors import Forbidden, NotFound, ValidationFailed
from app.extensions import db
from app.models import Connection, DataSource, ReportTemplate, Role, Workspace
from app.rendering.environment import TemplateRenderError
from app.rendering.report import BindingError
from app.rendering.service import get_template, preview_template, save_template
from app.web.helpers import is_fragment_request, page_or_fragment, workspace_for

bp = Blueprint("resources", __name__, url_prefix="/w/<ws>")
log = logging.getLogger(__name__)

PREVIEW_ERRORS = (TemplateRenderError, QueryError, BindingError, ValidationFailed, RuntimeError)
TEST_ERRORS = (QueryError, ValidationFailed, RuntimeError, SQLAlchemyError)
EMPTY_ROWS = 3


def _may(workspace: Workspace, need: Role) -> bool:
    role = role_in(current_user, workspace)
    return role is not None and role.rank >= need.rank


def _outcome_status(failed: bool) -> int:
    # htmx swaps only 2xx responses: a failed test or preview is still the fragment to show.
    return 422 if failed and not is_fragment_request() else 200


def _text(values: MultiDict, key: str) -> str:
    # Browsers send textarea line breaks as CRLF; store what the author typed.
    return values.get(key, "").replace("\r\n", "\n")


def _prefixed(values: MultiDict, prefix: str) -> dict[str, str]:
    return {k.removeprefix(prefix): v for k, v in values.items() if k.startswith(prefix)}


def _index(ws: str, model: Any, page: str, need: Role = Role.viewer, **extra: Any) -> str:
    """A list page: the workspace's items of `model` by name."""
    workspace = workspace_for(ws, need)
    items = db.session.scalars(
        select(model).filter_by(workspace_id=workspace.id).order_by(model.name)
    ).all()
    return render_template(
        page, workspace=workspace, items=items, can_edit=_may(workspace, Role.editor), **extra
    )


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationFailed):
        return "; ".join(exc.errors.values())
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


# ---- Report templates ---------------------------------------------------------------------


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
    }


def _form_of_template(template: ReportTemplate) -> dict[str, Any]:
    fields = ("code", "name", "html", "css", "parameters", "data_sources")
    return {field: getattr(template, field) for field in fields}


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
    sources = db.session.scalars(
        select(DataSource.code).filter_by(workspace_id=workspace.id).order_by(DataSource.code)
    ).all()
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
        empty = {"code": "", "name": "", "html": "", "css": ""}
        return _template_page(workspace, {**empty, "parameters": [], "data_sources": []})
    form = _template_form(request.form)
    try:
        saved = save_template(workspace, current_user, **form)
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
        save_template(workspace, current_user, **form, template=template)
    except ValidationFailed as exc:
        db.session.rollback()
        return _template_page(workspace, form, template, exc.errors, 422)
    flash(f"Template “{template.name}” saved.", "success")
    return redirect(url_for(".template_edit", ws=workspace.code, code=template.code), code=303)


def _preview_response(workspace: Workspace, form: dict[str, Any], samples: dict) -> Response:
    """The PDF (plain request), the iframe fragment around it (htmx), or the error fragment."""
    try:
        pdf = preview_template(workspace, current_user, **form, sample=samples)
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
            encoded = base64.b64encode(pdf).decode()
            response = make_response(render_template("resources/_preview.html", pdf=encoded))
        else:
            response = make_response(pdf)
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
    return _preview_response(workspace, form, _prefixed(request.form, "sample."))


@bp.get("/templates/<code>/preview.pdf")
@login_required
def template_preview_pdf(ws: str, code: str) -> Response:
    workspace = workspace_for(ws)
    template = get_template(workspace, code, current_user)
    form = _form_of_template(template)
    del form["code"], form["name"]
    return _preview_response(workspace, form, _prefixed(request.args, "sample."))


# ---- Data sources -------------------------------------------------------------------------


def _source_form(values: MultiDict, kind: str | None) -> dict[str, Any]:
    kind = kind if kind in sources_service.KINDS else "sql"
    return {
        "code": values.get("code", "").strip(),
        "name": values.get("name", "").strip(),
        "kind": kind,
        "connection": values.get("connection") if kind == "sql" else None,
        "query": _text(values, "query") if kind == "sql" else None,
        "content": _text(values, "content") if kind != "sql" else None,
    }


def _form_of_source(source: DataSource) -> dict[str, Any]:
    return {
        "code": source.code,
        "name": source.name,
        "kind": source.kind,
        "connection": source.connection.code if source.connection else None,
        "query": source.query,
        "content": source.content,
    }


def _with_upload(form: dict[str, Any]) -> dict[str, Any]:
    """The form with an uploaded file's text as its content (the upload wins over the paste)."""
    upload = request.files.get("file")
    if form["kind"] == "sql" or upload is None or not upload.filename:
        return form
    try:
        return {**form, "content": upload.read().decode("utf-8-sig").replace("\r\n", "\n")}
    except UnicodeDecodeError:
        raise ValidationFailed({"content": "the file is not UTF-8 text"}) from None


def _source_context(
    workspace: Workspace, form: dict[str, Any], source: DataSource | None, **extra: Any
) -> dict[str, Any]:
    can_edit = _may(workspace, Role.editor)
    if can_edit:
        test_url = url_for(".source_test_draft", ws=workspace.code)
    else:
        test_url = url_for(".source_test", ws=workspace.code, code=source.code)
    connections = db.session.scalars(
        select(Connection.code).filter_by(workspace_id=workspace.id, kind="sql")
    ).all()
    return {
        "workspace": workspace,
        "source": source,
        "form": form,
        "errors": {},
        "can_edit": can_edit,
        "connections": connections,
        "binds": bind_names(form["query"]) if form["kind"] == "sql" else [],
        "bind_values": _prefixed(request.form, "bind."),
        "test_url": test_url,
        **extra,
    }


def _tested(workspace: Workspace, form: dict[str, Any], source: DataSource | None) -> dict:
    """The test panel's outcome: the rows, or the error that stopped them."""
    binds = _prefixed(request.form, "bind.")
    try:
        if source is None:
            form.update(_with_upload(form))
            draft = {k: form[k] for k in ("kind", "content", "connection", "query")}
            found = sources_service.test_source(workspace, current_user, **draft, binds=binds)
        else:
            found = sources_service.test_source(workspace, current_user, binds=binds, source=source)
    except TEST_ERRORS as exc:
        return {"test_error": _message(exc)}
    columns, rows, total = found
    return {"result": {"columns": columns, "rows": rows, "total": total}}


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
        form = _with_upload(form)
        saved = save_source(workspace, current_user, **form, replace=False)
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
        form = _with_upload(form)
        save_source(workspace, current_user, **form, source=source)
    except ValidationFailed as exc:
        db.session.rollback()
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


# ---- Connections (admins only) --------------------------------------------------------------


def _connection_form(values: MultiDict, kind: str) -> dict[str, Any]:
    if kind == "smtp":
        keys = ("host", "port", "username", "from", "reply_to", "max_per_minute")
        settings: dict[str, Any] = {key: values.get(key, "").strip() for key in keys}
        settings |= {flag: bool(values.get(flag)) for flag in ("use_tls", "use_ssl")}
    elif kind == "google":
        settings = {key: values.get(key, "").strip() for key in ("api_endpoint", "scopes")}
    elif kind in CHANNEL_KINDS:
        settings = {}  # the URL of a Slack/Teams connection is a secret, not a setting
    else:
        settings = {"url": values.get("url", "").strip()}
    return {
        "kind": kind,
        "code": values.get("code", "").strip(),
        "name": values.get("name", "").strip(),
        "settings": settings,
        "is_default": bool(values.get("is_default")),
    }


def _form_of_connection(connection: Connection) -> dict[str, Any]:
    settings = dict(connection.settings)
    if connection.kind == "sql":
        settings["url"] = public_url(connection)
    if isinstance(settings.get("scopes"), list | tuple):
        settings["scopes"] = " ".join(settings["scopes"])
    return {
        "kind": connection.kind,
        "code": connection.code,
        "name": connection.name,
        "settings": settings,
        "is_default": connection.is_default,
    }


def _connection_context(
    workspace: Workspace, form: dict[str, Any], connection: Connection | None, **extra: Any
) -> dict[str, Any]:
    secrets: dict[str, Any] = {}
    unreadable = False
    if connection is not None and connection.secrets_encrypted:
        try:
            secrets = get_secrets(connection)
        except RuntimeError:
            unreadable = True
    secret_field = SECRET_FIELDS.get(form["kind"], "password")
    return {
        "workspace": workspace,
        "connection": connection,
        "form": form,
        "errors": {},
        "has_password": unreadable or bool(secrets.get("password")),
        # Channel kinds: whether a secret is stored (never the secret itself).
        "has_secret": unreadable or bool(secrets.get(secret_field)),
        "secret_unreadable": unreadable,
        "client_email": service_account_email(secrets.get("key")),
        "insecure_allowed": connections_service.insecure_webhooks_allowed(),
        "to": request.form.get("to", current_user.email),
        **extra,
    }


def _typed_secrets(kind: str) -> dict[str, str]:
    """The secret typed (or, for a Google key, uploaded) into a channel connection's form."""
    field = SECRET_FIELDS.get(kind)
    if field is None:
        return {}
    value = request.form.get(field, "")
    upload = request.files.get("key_file") if kind == "google" else None
    if upload is not None and upload.filename:
        try:
            value = upload.read().decode("utf-8-sig")  # the upload wins over the paste
        except UnicodeDecodeError:
            raise ValidationFailed({field: "the file is not a JSON key (not UTF-8 text)"}) from None
    return {field: value}


def _save_connection(workspace: Workspace, form: dict, connection: Connection | None):
    """Save the posted connection: 303 to its page, or the form again with the errors (422)."""
    try:
        saved = save_connection(
            workspace,
            current_user,
            **form,
            password=request.form.get("password", ""),
            clear_password=bool(request.form.get("clear_password")),
            connection=connection,
            secrets=_typed_secrets(form["kind"]),
        )
    except ValidationFailed as exc:
        db.session.rollback()
        context = _connection_context(workspace, form, connection, errors=exc.errors)
        return render_template("resources/connection_edit.html", **context), 422
    flash(f"Connection “{saved.name}” saved.", "success")
    return redirect(url_for(".connection_edit", ws=workspace.code, code=saved.code), code=303)


@bp.get("/connections")
@login_required
def connections(ws: str) -> str:
    page = "resources/connections_index.html"
    return _index(
        ws, Connection, page, Role.admin, public_url=public_url, summary=connection_summary
    )


@bp.route("/connections/new", methods=["GET", "POST"])
@login_required
def connection_new(ws: str):
    workspace = workspace_for(ws, Role.admin)
    kind = request.values.get("kind")
    form = _connection_form(request.form, kind if kind in connections_service.KINDS else "smtp")
    if request.method == "GET":
        if form["kind"] == "smtp":
            form["settings"]["port"] = "587"
        context = _connection_context(workspace, form, None)
        return render_template("resources/connection_edit.html", **context)
    return _save_connection(workspace, form, None)


@bp.route("/connections/<code>", methods=["GET", "POST"])
@login_required
def connection_edit(ws: str, code: str):
    workspace = workspace_for(ws, Role.admin)
    connection = get_connection(workspace, code, current_user)
    if request.method == "GET":
        context = _connection_context(workspace, _form_of_connection(connection), connection)
        return render_template("resources/connection_edit.html", **context)
    return _save_connection(workspace, _connection_form(request.form, connection.kind), connection)


@bp.post("/connections/<code>/test-email")
@login_required
def connection_test_email(ws: str, code: str) -> Response:
    workspace = workspace_for(ws, Role.admin)
    connection = get_connection(workspace, code, current_user)
    to = request.form.get("to", "").strip()
    try:
        send_test_email(workspace, current_user, connection, to)
        outcome = {"sent_to": to}
    except DeliveryError as exc:
        outcome = {"send_error": str(exc)}
    return page_or_fragment(
        "resources/connection_edit.html",
        "resources/_test_result.html",
        _outcome_status("send_error" in outcome),
        **_connection_context(workspace, _form_of_connection(connection), connection, **outcome),
    )
