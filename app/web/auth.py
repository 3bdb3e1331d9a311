"""Logging in and out, and the workspace switcher."""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_limiter import RequestLimit
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from app.access import workspaces_of
from app.extensions import limiter
from app.sessions import check_password, end_sessions

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str | None:
    # Only same-site paths: an absolute URL here would make the login page an open redirect.
    if target and not urlsplit(target).netloc and target.startswith("/"):
        return target
    return None


def _account_key() -> str:
    # Hashed: the rate limiter's storage need not hold people's addresses.
    email = request.form.get("email", "").strip().lower()
    return "login-account:" + hashlib.sha256(email.encode()).hexdigest()[:32]


def _address_key() -> str:
    return "login-address:" + (request.remote_addr or "unknown")


def _failed(response: Response) -> bool:
    return response.status_code == 401


def _too_many(limit: RequestLimit) -> Response:
    """The login form again, saying how long to wait (429 with Retry-After, RFC 6585)."""
    wait = max(1, math.ceil(limit.reset_at - time.time()))
    email = request.form.get("email", "").strip().lower()
    error = f"Too many failed attempts. Try again in {wait} s."
    page = render_template("login.html", error=error, email=email)
    return current_app.response_class(page, status=429, headers={"Retry-After": str(wait)})


def _login_limit(setting: str, key: Callable[[], str]) -> Callable:
    """Count failed logins (401s) per `key`; once over the limit every attempt, the right
    password too, gets `_too_many` until the window ends."""
    return limiter.limit(
        lambda: current_app.config[setting],
        key_func=key,
        methods=["POST"],
        deduct_when=_failed,
        on_breach=_too_many,
    )


@bp.route("/login", methods=["GET", "POST"])
@_login_limit("LOGIN_LIMIT_PER_ACCOUNT", _account_key)
@_login_limit("LOGIN_LIMIT_PER_ADDRESS", _address_key)
def login() -> Response | str | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("auth.home"))
    error = None
    email = request.form.get("email", "").strip().lower()
    if request.method == "POST":
        user = check_password(email, request.form.get("password", ""))
        if user is None:
            error = "Email or password is not correct."
        else:
            login_user(user, remember=bool(request.form.get("remember")))
            return redirect(_safe_next(request.args.get("next")) or url_for("auth.home"))
    status = 401 if error else 200
    return render_template("login.html", error=error, email=email), status


@bp.post("/logout")
@login_required
def logout() -> Response:
    end_sessions(current_user)
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
