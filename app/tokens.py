"""Personal Access Tokens: created once (shown once), stored hashed, revocable, expiring."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.access import role_in
from app.database import utcnow
from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.models import PersonalAccessToken, Role, User, Workspace

PERMISSIONS = {"jobs:read": Role.viewer, "jobs:write": Role.editor}
PREFIX = "hrld_"
# Writing last_used_at on every call would make each API read a database write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    user: User,
    workspace: Workspace,
    *,
    name: str,
    permissions: list[str],
    expires_days: int | None = 90,
) -> tuple[PersonalAccessToken, str]:
    """A new token for `user` in `workspace`; returns the row and the token text (shown once)."""
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "give the token a name"
    unknown = [p for p in permissions if p not in PERMISSIONS]
    if unknown or not permissions:
        errors["permissions"] = f"choose from {', '.join(PERMISSIONS)}"
    role = role_in(user, workspace)
    if role is None:
        raise NotFound("workspace not found")
    for permission in permissions:
        if permission in PERMISSIONS and role.rank < PERMISSIONS[permission].rank:
            errors["permissions"] = f"your role ({role.value}) does not allow {permission}"
    if expires_days is not None and not 1 <= expires_days <= 3650:
        errors["expires_days"] = "between 1 and 3650 days, or never"
    if errors:
        raise ValidationFailed(errors)
    text = PREFIX + secrets.token_urlsafe(32)
    token = PersonalAccessToken(
        user_id=user.id,
        workspace_id=workspace.id,
        name=name.strip(),
        token_hash=_hash(text),
        prefix=text[: len(PREFIX) + 6],
        permissions=sorted(set(permissions)),
        expires_at=utcnow() + timedelta(days=expires_days) if expires_days else None,
    )
    db.session.add(token)
    db.session.commit()
    return token, text


def tokens_of(user: User) -> list[PersonalAccessToken]:
    return list(
        db.session.scalars(
            select(PersonalAccessToken)
            .filter_by(user_id=user.id)
            .order_by(PersonalAccessToken.created_at.desc())
        )
    )


def revoke_token(user: User, token_id: int) -> None:
    """Revoke one of the user's own tokens; it stops working at once."""
    token = db.session.get(PersonalAccessToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound("token not found")
    token.revoked_at = token.revoked_at or utcnow()
    db.session.commit()


def authenticate(text: str, now: datetime | None = None) -> PersonalAccessToken | None:
    """The live token for a bearer string, or None (unknown, revoked, expired, inactive user)."""
    now = now or utcnow()
    token = db.session.scalars(
        select(PersonalAccessToken)
        .filter_by(token_hash=_hash(text))
        .options(joinedload(PersonalAccessToken.user), joinedload(PersonalAccessToken.workspace))
    ).first()
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if not token.user.active:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        token.last_used_at = now
        db.session.commit()
    return token


def allows(token: PersonalAccessToken, permission: str) -> bool:
    """The token grants `permission` and its user's current role still allows it."""
    if permission not in token.permissions:
        return False
    role = role_in(token.user, token.workspace)
    return role is not None and role.rank >= PERMISSIONS[permission].rank
