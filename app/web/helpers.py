"""Shared pieces of the screens: page-or-fragment rendering and the navigation context."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, make_response, render_template
from flask_login import current_user
from werkzeug.wrappers import Response

from app.access import get_workspace, workspaces_of
from app.extensions import htmx
from app.limits import format_size, size_of
from app.models import Role, Workspace


def is_fragment_request() -> bool:
    """True when htmx asks for a fragment; boosted links and history restores need a page."""
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def page_or_fragment(
    page_template: str, fragment_template: str, status_code: int = 200, **context: Any
) -> Response:
    """Render the fragment for htmx, the whole page otherwise; always `Vary: HX-Request`."""
    template = fragment_template if is_fragment_request() else page_template
    response = make_response(render_template(template, **context), status_code)
    response.headers["Vary"] = "HX-Request"
    return response


def workspace_for(code: str, need: Role = Role.viewer) -> Workspace:
    """The workspace in the URL, if the current user may see it (404 otherwise)."""
    return get_workspace(current_user, code, need)


def inject_navigation() -> dict[str, Any]:
    if not current_user.is_authenticated:
        return {"memberships": [], "outbox_enabled": False}
    return {
        "memberships": workspaces_of(current_user),
        "outbox_enabled": bool(current_app.config.get("OUTBOX_DIR")),
    }


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
