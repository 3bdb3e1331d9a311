"""Operating Herald: the system page (admins), /healthz, /readyz and /metrics."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, current_app, jsonify, request
from flask_login import current_user, login_required

from app.access import workspaces_of
from app.errors import Forbidden, NotFound
from app.extensions import csrf
from app.models import Role
from app.runs import exposition, health
from app.web.helpers import page_or_fragment

bp = Blueprint("system", __name__)
csrf.exempt(bp)  # GET only; probes and scrapers send no cookies


def admin_workspace_ids() -> set[int]:
    """Workspaces the current user administers; the system page is theirs (403 with none)."""
    ids = {ws.id for ws, role in workspaces_of(current_user) if role == Role.admin}
    if not ids:
        raise Forbidden("the system page is for workspace admins")
    return ids


@bp.get("/system")
@login_required
def index() -> Response:
    admin_of = admin_workspace_ids()
    facts = health.system_facts()
    return page_or_fragment(
        "system/index.html", "system/_facts.html", facts=facts, admin_of=admin_of
    )


@bp.get("/healthz")
def healthz() -> Response:
    """The process is up and answers; asks nothing else (for liveness probes)."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """The database and Redis both answer (for load balancers): 200, else 503."""
    checks = health.readiness()
    ready = all(checks.values())
    return jsonify(status="ok" if ready else "unavailable", checks=checks), 200 if ready else 503


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format, for a scraper sending `Authorization: Bearer
    HERALD_METRICS_TOKEN`; without that setting the endpoint does not exist (404)."""
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        raise NotFound("metrics are off: set HERALD_METRICS_TOKEN")
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return Response(
            "send Authorization: Bearer <HERALD_METRICS_TOKEN>\n",
            401,
            {"WWW-Authenticate": "Bearer", "Content-Type": "text/plain; charset=utf-8"},
        )
    body, content_type = exposition.scrape(current_app.config.get("METRICS_DIR"))
    return Response(body, 200, {"Content-Type": content_type})
