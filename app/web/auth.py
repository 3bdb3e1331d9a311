"""Logging in and out, and the workspace switcher."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from app.access import workspaces_of
from app.extensions import db
from app.models import User

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str | None:
    # Only same-site paths: an absolute URL here would make the login page an open redirect.
    if target and not urlsplit(target).netloc and target.startswith("/"):
        return target
    return None


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    if current_user.is_authenticated:
        return redirect(url_for("auth.home"))
    error = None
    email = request.form.get("email", "").strip().lower()
    if request.method == "POST":
        user = db.session.scalars(db.select(User).filter_by(email=email)).first()
        if (
            user is None
            or not user.active
            or not user.check_password(request.form.get("password", ""))
        ):
            error = "Email or password is not correct."
        else:
            login_user(user, remember=bool(request.form.get("remember")))
            return redirect(_safe_next(request.args.get("next")) or url_for("auth.home"))
    status = 401 if error else 200
    return render_template("login.html", error=error, email=email), status


@bp.post("/logout")
@login_required
def logout() -> Response:
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.get("/")
@login_required
def home() -> Response | str:
    workspaces = workspaces_of(current_user)
    if not workspaces:
        return render_template("no_workspace.html")
    return redirect(url_for("jobs.index", ws=workspaces[0][0].code))


@bp.post("/switch-workspace")
@login_required
def switch_workspace() -> Response:
    code = request.form.get("workspace", "")
    return redirect(url_for("jobs.index", ws=code))
