"""Settings read from the environment, with defaults that run on a laptop."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from app.limits import LIMITS, parse_size


def _secret_key(instance_path: Path) -> str:
    """Return SECRET_KEY from the environment, else one kept under instance/ across restarts."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def database_url(url: str) -> str:
    """Use the psycopg 3 driver for PostgreSQL URLs given without a driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def size_limits() -> dict[str, int | None]:
    """The size limits (app/limits.py) in bytes, each from its HERALD_MAX_* variable."""
    sizes: dict[str, int | None] = {
        limit.key: parse_size(os.environ[limit.setting])
        if os.environ.get(limit.setting)
        else limit.default
        for limit in LIMITS
    }
    # Flask refuses a body over MAX_CONTENT_LENGTH with 413 before a view reads it. Form
    # fields get no bound of their own (Flask's default is 500 KB): a field too large inside
    # an acceptable body reaches the domain checks and is refused beside the field.
    sizes["MAX_FORM_MEMORY_SIZE"] = None
    return sizes


def settings_from_env(instance_path: Path) -> dict[str, Any]:
    """Build the app config mapping from environment variables."""
    storage_dir = os.environ.get("HERALD_STORAGE_DIR", str(instance_path / "storage"))
    return {
        "SECRET_KEY": _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url(
            os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'herald.db'}"
        ),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "STORAGE_DIR": storage_dir,
        # Set only when the development mail catcher runs; enables the Outbox page.
        "OUTBOX_DIR": os.environ.get("HERALD_OUTBOX_DIR") or None,
        "ENCRYPTION_KEY": os.environ.get("HERALD_ENCRYPTION_KEY") or None,
        # A worker renews the lease of what it holds every HEARTBEAT_SECONDS while it lives;
        # a lease not renewed for LEASE_SECONDS means the worker is gone (see app/runs/lease.py).
        "LEASE_SECONDS": _int("HERALD_LEASE_SECONDS", 60),
        "HEARTBEAT_SECONDS": float(os.environ.get("HERALD_HEARTBEAT_SECONDS") or 10),
        # An entry still rendering after this long is GenerationFailed; previews get it too.
        "RENDER_TIMEOUT_SECONDS": _int("HERALD_RENDER_TIMEOUT_SECONDS", 120),
        # Queued work older than this with no progress is enqueued again.
        "STALE_QUEUED_SECONDS": _int("HERALD_STALE_QUEUED_SECONDS", 120),
        "MAX_ENTRY_ATTEMPTS": _int("HERALD_MAX_ENTRY_ATTEMPTS", 3),
        "SQL_ROW_LIMIT": _int("HERALD_SQL_ROW_LIMIT", 100_000),
        "SQL_TIMEOUT_SECONDS": _int("HERALD_SQL_TIMEOUT_SECONDS", 30),
        # Waits before re-attempting a delivery whose channel was unreachable.
        "DELIVERY_RETRY_DELAYS": [
            int(x)
            for x in os.environ.get("HERALD_DELIVERY_RETRY_DELAYS", "30,120,600,1800").split(",")
        ],
        "SMTP_TIMEOUT_SECONDS": _int("HERALD_SMTP_TIMEOUT_SECONDS", 30),
        # How long consolidated review documents stay downloadable.
        "TEMPORARY_FILE_HOURS": _int("HERALD_TEMPORARY_FILE_HOURS", 24),
        # Where people reach Herald: signed links in chat messages and webhooks start with it.
        "BASE_URL": os.environ.get("HERALD_BASE_URL", "http://localhost:8000"),
        "LINK_MAX_AGE_DAYS": _int("HERALD_LINK_MAX_AGE_DAYS", 30),
        # Plain-http chat webhooks on localhost, for trying Herald against a local receiver.
        "ALLOW_INSECURE_WEBHOOKS": os.environ.get("HERALD_ALLOW_INSECURE_WEBHOOKS", "") == "1",
        # Webhook, chat and completion-webhook POSTs to private or local addresses.
        "ALLOW_PRIVATE_WEBHOOKS": os.environ.get("HERALD_ALLOW_PRIVATE_WEBHOOKS", "") == "1",
        "API_RATE_LIMIT": os.environ.get("HERALD_API_RATE_LIMIT", "1200 per minute"),
        **size_limits(),
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
    }
