"""What templates, data sources and connections share: lookup by code, and code/name checks."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from sqlalchemy import select

from app.access import require
from app.errors import NotFound
from app.extensions import db
from app.models import Role, User, Workspace
from app.validation_messages import CODE_PATTERN, PATTERN_RULES


def find_by_code(
    model: Any, workspace: Workspace, code: str, user: User | None, need: Role, what: str
) -> Any:
    """The workspace's `model` row with `code`: NotFound if absent, Forbidden below `need`."""
    if user is not None:
        require(user, workspace, need)
    item = db.session.scalars(select(model).filter_by(workspace_id=workspace.id, code=code)).first()
    if item is None:
        raise NotFound(f"{what} not found")
    return item


def items_of(model: Any, workspace_id: int, *, order_by: str = "name", **filters: Any) -> list:
    """The workspace's `model` rows (templates, data sources, connections) matching `filters`,
    ordered by the column `order_by`: the lists on pages and in the wizard's choices."""
    query = select(model).filter_by(workspace_id=workspace_id, **filters)
    return list(db.session.scalars(query.order_by(getattr(model, order_by))))


def codes_of(model: Any, workspace_id: int, **filters: Any) -> list[str]:
    """The codes of the workspace's `model` rows matching `filters`, in code order."""
    query = select(model.code).filter_by(workspace_id=workspace_id, **filters)
    return list(db.session.scalars(query.order_by(model.code)))


def identity_errors(
    model: Any,
    workspace: Workspace,
    code: str,
    name: str,
    *,
    current: Any = None,
    reserved: Collection[str] = (),
    what: str,
    name_required: bool = True,
    unique: bool = True,
) -> dict[str, str]:
    """Problems with a code (pattern, reserved word, taken by another row) and a name."""
    errors: dict[str, str] = {}
    if not code:
        errors["code"] = "Code is required"  # the pattern's rules read as if a typo were made
    elif not re.match(CODE_PATTERN, code):
        errors["code"] = f"Code {PATTERN_RULES[CODE_PATTERN]}"
    elif code in reserved:
        errors["code"] = f"'{code}' is reserved; choose another code"
    elif unique:
        query = select(model.id).filter_by(workspace_id=workspace.id, code=code)
        if current is not None and current.id is not None:
            query = query.where(model.id != current.id)
        if db.session.scalars(query).first() is not None:
            errors["code"] = f"another {what} already has the code '{code}'"
    if name_required and not (name or "").strip():
        errors["name"] = "Name is required"
    elif len((name or "").strip()) > 200:
        errors["name"] = "Name may be at most 200 characters long"
    return errors
