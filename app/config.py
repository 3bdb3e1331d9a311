"""Settings read from the environment, with defaults that run on a laptop."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
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


def sqlite_dir(app: Any) -> Path:
    """The only directory whose SQLite files a SQL connection may open (HERALD_SQLITE_DIR,
    default instance/data); read at use so a changed instance path is honoured."""
    return Path(app.config.get("SQLITE_DIR") or Path(app.instance_path) / "data")


class SettingError(ValueError):
    """A setting in the environment that cannot be used; the message names the variable, what
    it holds and what it should hold, for an operator to correct before starting again."""


def _int(name: str, default: int) -> int:
    """The whole number of 0 or more in environment variable `name`, or `default` when unset or
    empty (as the size limits are).

    Raises SettingError for text or a negative number: every count, port and duration here would
    otherwise fail later, far from its cause, or (a negative job count) quietly mean "off"."""
    text = os.environ.get(name)
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise SettingError(f"{name} must be a whole number, not {text!r}") from None
    if value < 0:
        raise SettingError(f"{name} must be 0 or more, not {value}")
    return value


def _size(name: str) -> int:
    """Bytes in environment variable `name` (parse_size's forms); SettingError otherwise."""
    text = os.environ[name]
    try:
        return parse_size(text)
    except ValueError:
        raise SettingError(
            f"{name} must be a size of 1 byte or more, such as 16MB, 512KB or 1000, not {text!r}"
        ) from None


def size_limits() -> dict[str, int | None]:
    """The size limits (app/limits.py) in bytes, each from its HERALD_MAX_* variable."""
    sizes: dict[str, int | None] = {
        limit.key: _size(limit.setting) if os.environ.get(limit.setting) else limit.default
        for limit in LIMITS
    }
    # Flask refuses a body over MAX_CONTENT_LENGTH with 413 before a view reads it. Form
    # fields get no bound of their own (Flask's default is 500 KB): a field too large inside
    # an acceptable body reaches the domain checks and is refused beside the field.
    sizes["MAX_FORM_MEMORY_SIZE"] = None
    return sizes


def _default_smtp() -> dict[str, Any] | None:
    if not os.environ.get("SMTP_HOST"):
        return None
    return {
        "host": os.environ["SMTP_HOST"],
        "port": _int("SMTP_PORT", 25),
        "username": os.environ.get("SMTP_USER", ""),
        "password": os.environ.get("SMTP_PASSWORD", ""),
        "use_tls": os.environ.get("SMTP_TLS", "").lower() in ("1", "true", "yes"),
        "use_ssl": os.environ.get("SMTP_SSL", "").lower() in ("1", "true", "yes"),
        "from": os.environ.get("SMTP_FROM", "Herald <herald@localhost>"),
    }


def settings_from_env(instance_path: Path) -> dict[str, Any]:
    """Build the app config mapping from environment variables."""
    storage_dir = os.environ.get("HERALD_STORAGE_DIR", str(instance_path / "storage"))
    base_url = os.environ.get("HERALD_BASE_URL", "http://localhost:8000")
    # Cookies only over https: on by default when people reach Herald by an https URL.
    secure_default = "1" if base_url.startswith("https://") else "0"
    secure_cookies = os.environ.get("HERALD_SECURE_COOKIES", secure_default) == "1"
    return {
        "SECRET_KEY": _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url(
            os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'herald.db'}"
        ),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "STORAGE_DIR": storage_dir,
        # Where artifacts live (app/storage, docs/STORAGE.md): empty for STORAGE_DIR on this
        # host, file:///dir, or s3://bucket/prefix shared by every host.
        "STORAGE_URL": os.environ.get("HERALD_STORAGE_URL", ""),
        "S3_ENDPOINT_URL": os.environ.get("HERALD_S3_ENDPOINT_URL") or None,
        "S3_REGION": os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None,
        # Unset: boto3's own chain (shared files, an instance or container role).
        "S3_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID") or None,
        "S3_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY") or None,
        "S3_ADDRESSING_STYLE": os.environ.get("HERALD_S3_ADDRESSING_STYLE", "auto"),
        # 0: downloads stream through Herald; N: a redirect to a presigned URL living N s.
        "S3_PRESIGN_SECONDS": _int("HERALD_S3_PRESIGN_SECONDS", 0),
        # Set only when the development mail catcher runs; enables the Outbox page.
        "OUTBOX_DIR": os.environ.get("HERALD_OUTBOX_DIR") or None,
        "ENCRYPTION_KEY": os.environ.get("HERALD_ENCRYPTION_KEY") or None,
        # A worker renews the lease of what it holds every HEARTBEAT_SECONDS while it lives;
        # a lease not renewed for LEASE_SECONDS means the worker is gone (see app/runs/lease.py).
        "LEASE_SECONDS": _int("HERALD_LEASE_SECONDS", 60),
        "HEARTBEAT_SECONDS": float(os.environ.get("HERALD_HEARTBEAT_SECONDS") or 10),
        # An entry still rendering after this long is GenerationFailed; previews get it too.
        "RENDER_TIMEOUT_SECONDS": _int("HERALD_RENDER_TIMEOUT_SECONDS", 120),
        # The optional written summary (docs/SUMMARY.md): an OpenAI-compatible endpoint, off
        # unless all of base URL and model are set. The key stays in the environment.
        "LLM_BASE_URL": os.environ.get("HERALD_LLM_BASE_URL") or None,
        "LLM_API_KEY": os.environ.get("HERALD_LLM_API_KEY") or None,
        "LLM_MODEL": os.environ.get("HERALD_LLM_MODEL") or None,
        "LLM_TIMEOUT_SECONDS": float(os.environ.get("HERALD_LLM_TIMEOUT_SECONDS") or 30),
        "LLM_MAX_INPUT_CHARS": _int("HERALD_LLM_MAX_INPUT_CHARS", 12_000),
        "LLM_MAX_OUTPUT_CHARS": _int("HERALD_LLM_MAX_OUTPUT_CHARS", 4_000),
        # Queued work older than this with no progress is enqueued again.
        "STALE_QUEUED_SECONDS": _int("HERALD_STALE_QUEUED_SECONDS", 120),
        "MAX_ENTRY_ATTEMPTS": _int("HERALD_MAX_ENTRY_ATTEMPTS", 3),
        # A worker process is replaced by a fresh one after this many jobs (0: never), which
        # gives back the memory rendering gathers (workers/recycle.py).
        "WORKER_MAX_JOBS": _int("HERALD_WORKER_MAX_JOBS", 1000),
        # SQL connections may open SQLite files in this directory only (None: instance/data).
        "SQLITE_DIR": os.environ.get("HERALD_SQLITE_DIR") or None,
        "SQL_ROW_LIMIT": _int("HERALD_SQL_ROW_LIMIT", 100_000),
        # Repeating rows read, entries inserted and generations queued at a time when a run
        # is prepared: bounds the preparing worker's memory whatever the row count.
        "PREPARE_CHUNK_ROWS": _int("HERALD_PREPARE_CHUNK_ROWS", 2000),
        "SQL_TIMEOUT_SECONDS": _int("HERALD_SQL_TIMEOUT_SECONDS", 30),
        # Waits before re-attempting a delivery whose channel was unreachable.
        "DELIVERY_RETRY_DELAYS": [
            int(x)
            for x in os.environ.get("HERALD_DELIVERY_RETRY_DELAYS", "30,120,600,1800").split(",")
        ],
        "SMTP_TIMEOUT_SECONDS": _int("HERALD_SMTP_TIMEOUT_SECONDS", 30),
        # Mail settings for Herald's own notices (a run's error notice) in a workspace without
        # an SMTP connection: the SMTP_* variables, when SMTP_HOST is set.
        "DEFAULT_SMTP": _default_smtp(),
        # Recipients per SMTP transaction: RFC 5321 §4.5.3.1.8 has servers accept at least 100.
        # Accept dotless intranet mail domains (ops@mailhub) in recipient fields.
        "INTRANET_ADDRESSES": os.environ.get("HERALD_INTRANET_ADDRESSES", "").lower()
        in ("1", "true", "yes", "on"),
        "SMTP_MAX_RECIPIENTS": _int("HERALD_SMTP_MAX_RECIPIENTS", 100),
        # Longest wait a channel's Retry-After (429/503) may impose before the next attempt.
        "RETRY_AFTER_MAX_SECONDS": _int("HERALD_RETRY_AFTER_MAX_SECONDS", 3600),
        # Window of the shared email throttle ("Max messages per minute" of an SMTP
        # connection, app/delivery/throttle.py), in seconds; only tests shorten it.
        "THROTTLE_WINDOW_SECONDS": _int("HERALD_THROTTLE_WINDOW_SECONDS", 60),
        # Retry-After deferrals (which spend no attempt) a delivery may take before it fails:
        # a receiver answering 429 forever must not keep a delivery pending forever.
        "MAX_DEFERRALS": _int("HERALD_MAX_DEFERRALS", 10),
        # How long consolidated review documents stay downloadable.
        "TEMPORARY_FILE_HOURS": _int("HERALD_TEMPORARY_FILE_HOURS", 24),
        # Where people reach Herald: signed links in chat messages and webhooks start with it.
        "BASE_URL": base_url,
        "LINK_MAX_AGE_DAYS": _int("HERALD_LINK_MAX_AGE_DAYS", 30),
        # Plain-http chat webhooks on localhost, for trying Herald against a local receiver.
        "ALLOW_INSECURE_WEBHOOKS": os.environ.get("HERALD_ALLOW_INSECURE_WEBHOOKS", "") == "1",
        # Webhook, chat and completion-webhook POSTs to private or local addresses.
        "ALLOW_PRIVATE_WEBHOOKS": os.environ.get("HERALD_ALLOW_PRIVATE_WEBHOOKS", "") == "1",
        # How long an Idempotency-Key keeps answering with its run; then it starts a new one.
        "IDEMPOTENCY_HOURS": _int("HERALD_IDEMPOTENCY_HOURS", 24),
        "API_RATE_LIMIT": os.environ.get("HERALD_API_RATE_LIMIT", "1200 per minute"),
        # Failed logins allowed per account and per client address before a wait (429).
        "LOGIN_LIMIT_PER_ACCOUNT": os.environ.get(
            "HERALD_LOGIN_LIMIT_PER_ACCOUNT", "10 per 10 minutes"
        ),
        "LOGIN_LIMIT_PER_ADDRESS": os.environ.get(
            "HERALD_LOGIN_LIMIT_PER_ADDRESS", "50 per 10 minutes"
        ),
        # /metrics answers only a scraper sending this as its bearer token (off when unset).
        "METRICS_TOKEN": os.environ.get("HERALD_METRICS_TOKEN") or None,
        # prometheus-client's multiprocess mode: every process writes its counts here.
        "METRICS_DIR": os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None,
        **size_limits(),
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        # "Keep me logged in": a bounded life, sent on same-site navigations only.
        "REMEMBER_COOKIE_DURATION": timedelta(days=_int("HERALD_REMEMBER_DAYS", 14)),
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": secure_cookies,
    }
