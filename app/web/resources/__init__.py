"""Screens for report templates, data sources and connections."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import MultiDict

from app.access import role_in
from app.datasources.sql import QueryError
from app.errors import ValidationFailed
from app.models import Role, Workspace
from app.rendering.environment import TemplateRenderError
from app.rendering.report import BindingError
from app.web.helpers import is_fragment_request, workspace_for
from app.workspace_items import items_of

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
    items = items_of(model, workspace.id)
    return render_template(
        page, workspace=workspace, items=items, can_edit=_may(workspace, Role.editor), **extra
    )


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationFailed):
        return "; ".join(exc.errors.values())
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


# The routes live in one module per screen family; importing them registers them.
from app.web.resources import connections, sources, templates  # noqa: E402,F401
