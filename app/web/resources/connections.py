"""Connection screens (admins only): SMTP, SQL, webhook, Slack, Teams, Google."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from app.connections.service import KINDS, get_connection, save_connection
from app.connections.settings import (
    CHANNEL_KINDS,
    SECRET_FIELDS,
    connection_summary,
    insecure_webhooks_allowed,
    public_url,
    service_account_email,
)
from app.delivery.channels.probe import PROBED_KINDS, probe_connection
from app.delivery.test_email import send_test_email
from app.errors import ValidationFailed
from app.models import Connection, Role, Workspace
from app.outbound.errors import DeliveryError
from app.outbound.secrets import get_secrets
from app.web.helpers import page_or_fragment, workspace_for
from app.web.resources import (
    _index,
    _outcome_status,
    bp,
)


def _connection_form(values: MultiDict, kind: str) -> dict[str, Any]:
    if kind == "smtp":
        keys = ("host", "port", "username", "from", "reply_to", "max_per_minute", "max_recipients")
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
        "insecure_allowed": insecure_webhooks_allowed(),
        "probed_kinds": PROBED_KINDS,
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
    form = _connection_form(request.form, kind if kind in KINDS else "smtp")
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


@bp.post("/connections/<code>/test")
@login_required
def connection_test(ws: str, code: str) -> Response:
    """The Test button of a Slack, Teams or webhook connection: the receiver's answer."""
    workspace = workspace_for(ws, Role.admin)
    connection = get_connection(workspace, code, current_user)
    test_url = request.form.get("test_url", "").strip()
    try:
        answer = probe_connection(workspace, current_user, connection, test_url)
        outcome = {"probe_status": answer.status, "probe_excerpt": answer.excerpt}
    except DeliveryError as exc:
        outcome = {"probe_error": str(exc)}
    return page_or_fragment(
        "resources/connection_edit.html",
        "resources/_probe_result.html",
        _outcome_status("probe_error" in outcome),
        **_connection_context(
            workspace, _form_of_connection(connection), connection, test_url=test_url, **outcome
        ),
    )
