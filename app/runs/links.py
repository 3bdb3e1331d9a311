"""Signed links to one artifact, for messages read outside Herald (chat, webhooks)."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

SALT = "herald-artifact-link"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def signed_artifact_url(artifact_id: int) -> str:
    """An absolute URL that downloads the artifact without a login, until it expires."""
    token = _serializer().dumps({"a": artifact_id})
    return f"{current_app.config['BASE_URL'].rstrip('/')}/links/{token}"


def artifact_from_token(token: str) -> int | None:
    """The artifact id a link names, or None when it is forged or expired."""
    try:
        data = _serializer().loads(token, max_age=current_app.config["LINK_MAX_AGE_DAYS"] * 86400)
    except BadSignature:  # includes SignatureExpired
        return None
    return data.get("a") if isinstance(data, dict) else None
