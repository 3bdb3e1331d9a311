"""Personal Access Tokens: created once (shown once), stored hashed, revocable, expiring."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update

from app.access import remember_role, role_in
from app.database import autocommit, utcnow
from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.models import Membership, PersonalAccessToken, Role, User, Workspace
from app.pagination import Slice, Window, ordered, window

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
    if unknown:
        errors["permissions"] = f"choose from {', '.join(PERMISSIONS)}"
    elif not permissions:
        errors["permissions"] = "give the token at least one permission"
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


# Sort keys of the API's token list; the default is newest first, as on the tokens page.
TOKEN_SORTS: dict[str, Any] = {
    "name": PersonalAccessToken.name,
    "createdAt": PersonalAccessToken.created_at,
    "expiresAt": PersonalAccessToken.expires_at,
    "lastUsedAt": PersonalAccessToken.last_used_at,
}


def tokens_window(user_id: int, workspace_id: int, wanted: Slice) -> Window:
    """The API's token list: the user's tokens for one workspace (revoked and expired ones
    too, as the tokens page lists them) whose name contains `wanted.q` (any case), ordered by
    a key of TOKEN_SORTS. Never the secret: only its hash is stored. KeyError for a bad sort."""
    query = select(PersonalAccessToken).filter_by(user_id=user_id, workspace_id=workspace_id)
    if wanted.q:
        query = query.where(PersonalAccessToken.name.icontains(wanted.q, autoescape=True))
    order = [PersonalAccessToken.created_at.desc(), PersonalAccessToken.id.desc()]
    if wanted.sort:
        order = [*ordered(TOKEN_SORTS[wanted.sort], wanted.descending), *order]
    return window(query.order_by(*order), wanted.start, wanted.limit)


def revoke_token(user: User, token_id: int) -> None:
    """Revoke one of the user's own tokens; it stops working at once."""
    token = db.session.get(PersonalAccessToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound("token not found")
    token.revoked_at = token.revoked_at or utcnow()
    db.session.commit()


@dataclass(frozen=True)
class ApiCaller:
    """Who an API call acts as: a live token, its user and workspace, and the user's role there.

    Read in one query per call; the user and workspace rows load only when a handler needs them.
    """

    token_id: int
    user_id: int
    workspace_id: int
    workspace_code: str
    permissions: frozenset[str]
    role: Role | None

    @property
    def user(self) -> User:
        return db.session.get(User, self.user_id)

    @property
    def workspace(self) -> Workspace:
        return db.session.get(Workspace, self.workspace_id)


_CALLER = (
    select(
        PersonalAccessToken.id,
        PersonalAccessToken.user_id,
        PersonalAccessToken.workspace_id,
        Workspace.code,
        PersonalAccessToken.permissions,
        PersonalAccessToken.expires_at,
        PersonalAccessToken.revoked_at,
        PersonalAccessToken.last_used_at,
        User.active,
        Membership.role,
    )
    .where(PersonalAccessToken.token_hash == bindparam("token_hash"))
    .join(User, User.id == PersonalAccessToken.user_id)
    .join(Workspace, Workspace.id == PersonalAccessToken.workspace_id)
    .outerjoin(
        Membership,
        (Membership.user_id == PersonalAccessToken.user_id)
        & (Membership.workspace_id == PersonalAccessToken.workspace_id),
    )
)


def authenticate(text: str, now: datetime | None = None) -> ApiCaller | None:
    """The caller for a bearer string, or None (unknown, revoked, expired, inactive user)."""
    now = now or utcnow()
    # Every API call pays for this: one prebuilt Core statement (no per-call statement building
    # or cache-key work) in a single round trip, outside the ORM session.
    with autocommit(db.engine).connect() as connection:
        row = connection.execute(_CALLER, {"token_hash": _hash(text)}).first()
    if row is None or row.revoked_at is not None or not row.active:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        db.session.execute(
            update(PersonalAccessToken).filter_by(id=row.id).values(last_used_at=now)
        )
        db.session.commit()
    caller = ApiCaller(
        token_id=row.id,
        user_id=row.user_id,
        workspace_id=row.workspace_id,
        workspace_code=row.code,
        permissions=frozenset(row.permissions),
        role=Role(row.role) if row.role else None,
    )
    remember_role(row.user_id, row.workspace_id, caller.role)
    return caller


def allows(caller: ApiCaller, permission: str) -> bool:
    """The token grants `permission` and its user's current role still allows it."""
    if permission not in caller.permissions:
        return False
    return caller.role is not None and caller.role.rank >= PERMISSIONS[permission].rank
