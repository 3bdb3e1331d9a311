"""Personal Access Tokens screen (API tokens, in the top bar): list, create (shown once), revoke."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.access import workspaces_of
from app.errors import NotFound, ValidationFailed
from app.tokens import PERMISSIONS, create_token, revoke_token, tokens_of

bp = Blueprint("tokens", __name__, url_prefix="/tokens")
EXPIRY_CHOICES = {"30": "30 days", "90": "90 days", "365": "1 year", "": "never"}


def _page(errors: dict | None = None, created: str | None = None, status: int = 200):
    return render_template(
        "tokens/index.html",
        tokens=tokens_of(current_user),
        workspaces=workspaces_of(current_user),
        permissions=list(PERMISSIONS),
        expiry_choices=EXPIRY_CHOICES,
        errors=errors or {},
        created=created,
        values=request.form,
    ), status


@bp.get("")
@login_required
def index():
    return _page()


@bp.post("")
@login_required
def create():
    by_code = {ws.code: ws for ws, _ in workspaces_of(current_user)}
    workspace = by_code.get(request.form.get("workspace", ""))
    if workspace is None:
        return _page({"workspace": "choose one of your workspaces"}, status=422)
    expiry = request.form.get("expires_days", "90")
    try:
        _, text = create_token(
            current_user,
            workspace,
            name=request.form.get("name", ""),
            permissions=request.form.getlist("permissions"),
            expires_days=int(expiry) if expiry.isdigit() else None,
        )
    except ValidationFailed as exc:
        return _page(exc.errors, status=422)
    except NotFound:
        return _page({"workspace": "choose one of your workspaces"}, status=422)
    return _page(created=text)


@bp.post("/<int:token_id>/revoke")
@login_required
def revoke(token_id: int) -> Response:
    revoke_token(current_user, token_id)
    flash("Token revoked: it stops working immediately.", "success")
    return redirect(url_for("tokens.index"), 303)
