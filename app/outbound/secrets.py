"""Encryption at rest for connection secrets (passwords, service-account keys), and reading
a workspace's connection with one of its secrets (foundation: SQL sources, senders and
completion notices all read them)."""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import Connection
from app.outbound.errors import DeliveryError


def _fernet() -> Fernet:
    key = current_app.config.get("ENCRYPTION_KEY")
    if not key:
        # Derived from SECRET_KEY so a default install needs no second secret.
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=b"herald-connections", info=b"fernet"
        ).derive(current_app.config["SECRET_KEY"].encode())
        key = base64.urlsafe_b64encode(derived)
    return Fernet(key)


def set_secrets(connection: Connection, secrets: dict[str, Any]) -> None:
    """Store `secrets` encrypted on the connection (never in `settings`)."""
    connection.secrets_encrypted = _fernet().encrypt(json.dumps(secrets).encode())


def get_secrets(connection: Connection) -> dict[str, Any]:
    """Decrypt the connection's secrets; an undecryptable blob reads as a clear error."""
    if not connection.secrets_encrypted:
        return {}
    try:
        return json.loads(_fernet().decrypt(connection.secrets_encrypted))
    except InvalidToken:
        raise RuntimeError(
            f"secrets of connection '{connection.code}' cannot be decrypted "
            "(was SECRET_KEY or HERALD_ENCRYPTION_KEY changed?)"
        ) from None


def find_connection(workspace_id: int, kind: str, code: str) -> Connection:
    """The workspace's connection `code` of `kind`, else a DeliveryError saying what is missing."""
    connection = db.session.scalars(
        select(Connection).filter_by(workspace_id=workspace_id, code=code).limit(1)
    ).first()
    if connection is None:
        raise DeliveryError(f"no connection '{code}' in this workspace")
    if connection.kind != kind:
        raise DeliveryError(f"connection '{code}' is a {connection.kind} connection, not {kind}")
    return connection


def connection_secret(connection: Connection, key: str, what: str) -> str:
    """One secret of a connection (e.g. a webhook URL or signing secret); must be non-empty."""
    value = get_secrets(connection).get(key)
    if not isinstance(value, str) or not value.strip():
        raise DeliveryError(f"connection '{connection.code}' has no {what}")
    return value.strip()


def encrypt_json(value: Any) -> str:
    """`value` as JSON encrypted with the connection secrets' key (e.g. a run's webhook
    headers): text for a Text column."""
    return _fernet().encrypt(json.dumps(value).encode()).decode()


def decrypt_json(text: str) -> Any:
    """What `encrypt_json` stored; RuntimeError when the key has changed since."""
    try:
        return json.loads(_fernet().decrypt(text.encode()))
    except InvalidToken:
        raise RuntimeError(
            "stored secrets cannot be decrypted (was SECRET_KEY or HERALD_ENCRYPTION_KEY changed?)"
        ) from None
