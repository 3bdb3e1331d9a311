"""Shared pieces of the screens: page-or-fragment rendering and the navigation context."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, get_flashed_messages, render_template
from flask import session as browser_session
from flask_htmx import make_response as htmx_response
from flask_login import current_user
from werkzeug.wrappers import Response

from app.access import get_workspace, workspaces_of
from app.extensions import htmx
from app.limits import format_size, size_of
from app.models import Role, Workspace
from app.web.timezones import zone_label


def is_fragment_request() -> bool:
    """True when htmx asks for a fragment; boosted links and history restores need a page."""
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def page_or_fragment(
    page_template: str,
    fragment_template: str,
    status_code: int = 200,
    *,
    push_url: str | None = None,
    **context: Any,
) -> Response:
    """Render the fragment for htmx, the whole page otherwise; always `Vary: HX-Request`.

    `push_url`: the address bar's URL for this screen, sent to htmx as `HX-Push-Url`. htmx
    pushes a boosted request's URL itself only while the element that sent it is still in
    the page; a swap that replaced it meanwhile (a form refreshed while it was submitted)
    would leave the bar one screen behind."""
    template = fragment_template if is_fragment_request() else page_template
    response = htmx_response(
        render_template(template, **context), status_code, push_url=push_url if htmx else None
    )
    response.headers["Vary"] = "HX-Request"
    return response


def workspace_for(code: str, need: Role = Role.viewer) -> Workspace:
    """The workspace in the URL, if the current user may see it (404 otherwise); remembered
    so pages outside a workspace (tokens, Outbox, errors) show the same navigation."""
    workspace = get_workspace(current_user, code, need)
    if browser_session.get("workspace") != workspace.code:
        browser_session["workspace"] = workspace.code
    return workspace


def inject_navigation() -> dict[str, Any]:
    """What base.html needs for the top navigation on every page: the user's workspaces, the
    one the navigation points into (`nav_workspace`: the last one visited, else the first)
    and the viewer's time zone name."""
    if not current_user.is_authenticated:
        return {
            "memberships": [],
            "outbox_enabled": False,
            "nav_workspace": None,
            "nav_role": None,
            "viewer_zone_name": zone_label(),
        }
    memberships = workspaces_of(current_user)
    remembered = browser_session.get("workspace")
    current = next((m for m in memberships if m[0].code == remembered), None)
    current = current or (memberships[0] if memberships else (None, None))
    return {
        "memberships": memberships,
        "nav_workspace": current[0],
        "nav_role": current[1],
        "outbox_enabled": bool(current_app.config.get("OUTBOX_DIR")),
        "viewer_zone_name": zone_label(),
    }


def unique_flashes() -> list[tuple[str, str]]:
    """This request's flash messages, each once: the same notice queued by several requests
    (polls, redirects) shows one time, not as a pile."""
    seen: dict[tuple[str, str], None] = {}
    for item in get_flashed_messages(with_categories=True):
        seen.setdefault(tuple(item), None)
    return list(seen)


# How a delivery status reads on the pages; the API keeps the status words.
DELIVERY_LABELS = {"partial": "partly delivered", "uncertain": "possibly delivered"}


def delivery_label(status: str) -> str:
    """A delivery status as shown to people ("partial" → "partly delivered")."""
    return DELIVERY_LABELS.get(status, status)


def clip(value: Any, chars: int = 200) -> str:
    """`value` as text for a page, cut to its first `chars` characters plus "… (N KB)" (the
    whole value's size) when longer: no page embeds a value of unbounded size.

    Lists and objects are shown as JSON, anything else as its text."""
    if isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, default=str)
    else:
        text = str(value)
    if len(text) <= chars:
        return text
    return f"{text[:chars]}… ({format_size(size_of(text))})"
