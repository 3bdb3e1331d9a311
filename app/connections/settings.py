"""Checking and normalising what a connection form sends, per kind (see `app.connections.service`
for what each kind stores), and how a saved connection is summarised."""

from __future__ import annotations

import ipaddress
import json
import re
import urllib.parse
from collections.abc import Mapping
from typing import Any

from flask import current_app
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from app.config import sqlite_dir
from app.datasources.isolation import DatabaseRefused, checked_url
from app.mail.recipients import Mailbox, fill_recipients, recipient_field_error
from app.models import Connection
from app.outbound.errors import DeliveryError
from app.outbound.post import check_http_url
from app.outbound.secrets import get_secrets
from app.placeholders import PlaceholderError

# Connections used by the delivery channels: their secrets are whole values, not a password.
# Recipients per SMTP transaction a connection may be set to (its `max_recipients`).
MAX_RECIPIENTS_RANGE = (1, 1000)
CHANNEL_KINDS = ("webhook", "slack", "teams", "google")
# The secret each channel kind keeps, by the name of its form field.
SECRET_FIELDS = {"webhook": "secret", "slack": "url", "teams": "url", "google": "key"}
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
MIN_SIGNING_SECRET = 16
MAX_KEY_CHARS = 64 * 1024
KEY_FIELDS = ("client_email", "private_key", "token_uri")
SQL_BACKENDS = ("postgresql", "sqlite")


_HOST_LABEL = re.compile(r"(?!-)[\w-]{1,63}(?<!-)")  # \w: names in any script (IDNA)


def _is_host(host: str) -> bool:
    """Whether `host` is a DNS name (labels of letters, digits, - and _; at most 253
    characters) or an IPv4/IPv6 address, as `smtplib` connects to it: no scheme, port, path
    or brackets."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    name = host.removesuffix(".")
    return len(name) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in name.split("."))


def smtp_settings(raw: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The settings of an SMTP connection from form-like values, and the errors per field."""
    errors: dict[str, str] = {}
    host = str(raw.get("host") or "").strip()
    if not host or re.search(r"\s", host):
        errors["host"] = "enter the SMTP server's host name"
    elif not _is_host(host):
        # `smtp.example.com:25` or `smtps://…` saved fine, then every send failed to resolve it.
        errors["host"] = "enter the host name alone, e.g. smtp.example.com (the port goes in Port)"
    port = _integer(raw.get("port"), 1, 65535, "port", errors)
    per_minute = _integer(raw.get("max_per_minute") or 0, 0, 100_000, "max_per_minute", errors)
    # Servers must accept 100 (RFC 5321 §4.5.3.1.8); some accept fewer, some far more.
    per_transaction = _integer(
        raw.get("max_recipients") or current_app.config["SMTP_MAX_RECIPIENTS"],
        *MAX_RECIPIENTS_RANGE,
        "max_recipients",
        errors,
    )
    use_tls, use_ssl = _flag(raw.get("use_tls")), _flag(raw.get("use_ssl"))
    if use_tls and use_ssl:
        errors["use_ssl"] = "choose STARTTLS or SSL, not both"
    sender = str(raw.get("from") or "").strip()
    reply_to = str(raw.get("reply_to") or "").strip()
    for field, value, required in (("from", sender, True), ("reply_to", reply_to, False)):
        if not value:
            if required:
                errors[field] = "enter the address messages are sent from"
            continue
        try:
            if len(literal_addresses(field, value)) != 1:
                errors[field] = "enter one address"
        except DeliveryError as exc:
            errors[field] = str(exc)
    settings = {
        "host": host,
        "port": port,
        "username": str(raw.get("username") or "").strip(),
        "use_tls": use_tls,
        "use_ssl": use_ssl,
        "from": sender,
        "reply_to": reply_to,
        "max_per_minute": per_minute,
        "max_recipients": per_transaction,
    }
    return settings, errors


def sql_settings(raw: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The settings of a SQL connection (its URL without password) and the errors per field.

    A password found in the URL comes back under `_password`, for the secrets."""
    text = str(raw.get("url") or "").strip()
    try:
        url = make_url(text)
    except (ArgumentError, ValueError):
        return {}, {"url": "not a database URL (e.g. postgresql://user@host/db)"}
    backend = url.get_backend_name()
    if backend not in SQL_BACKENDS:
        return {}, {"url": f"unsupported database '{backend}' (use postgresql or sqlite)"}
    settings: dict[str, Any] = {
        "url": url._replace(password=None).render_as_string(hide_password=False)
    }
    if url.password:
        settings["_password"] = url.password
    return settings, {}


def refused_database(url: str) -> str | None:
    """Why a SQL connection may not open `url` (Herald's own database, a file outside the
    SQLite data directory, ...), or None. Checked again before every query."""
    try:
        checked_url(
            make_url(url),
            sqlite_dir=sqlite_dir(current_app),
            herald_url=current_app.config["SQLALCHEMY_DATABASE_URI"],
        )
    except DatabaseRefused as exc:
        return str(exc)
    return None


def channel_settings(
    kind: str,
    raw: Mapping[str, Any],
    secrets: Mapping[str, Any],
    connection: Connection | None,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """Settings, secrets to store and errors per field of a webhook/slack/teams/google
    connection. `secrets` holds what was typed (by field name); empty keeps the stored one."""
    field = SECRET_FIELDS[kind]
    typed = secrets.get(field)
    typed = typed.strip() if isinstance(typed, str) else typed
    errors: dict[str, str] = {}
    kept, unreadable = _stored_secret(connection, field)
    settings: dict[str, Any] = {}
    value: Any = None
    if typed:
        if kind == "webhook":
            value, problem = _signing_secret(typed)
        elif kind in ("slack", "teams"):
            value, problem = typed, secure_url_problem(typed)
        else:
            value, problem = service_account_key(typed)
        if problem:
            errors[field] = problem
    elif kept is not None:
        value = kept
    else:
        errors[field] = {
            "webhook": "enter the signing secret",
            "slack": "enter the Slack incoming-webhook URL",
            "teams": "enter the Teams webhook URL",
            "google": "paste or upload the service-account JSON key",
        }[kind]
        if unreadable:
            errors[field] += " again: the stored one cannot be decrypted"
    if kind == "google":
        endpoint = str(raw.get("api_endpoint") or "").strip()
        if endpoint:
            if problem := secure_url_problem(endpoint):
                errors["api_endpoint"] = problem
            settings["api_endpoint"] = endpoint.rstrip("/")
        scopes, problem = _scopes(raw.get("scopes"))
        if problem:
            errors["scopes"] = problem
        elif scopes:
            settings["scopes"] = scopes
    return settings, ({field: value} if value is not None else {}), errors


def _stored_secret(connection: Connection | None, field: str) -> tuple[Any, bool]:
    """The connection's stored secret `field` (None if none) and whether it is unreadable."""
    if connection is None:
        return None, False
    try:
        return get_secrets(connection).get(field) or None, False
    except RuntimeError:
        return None, True


def _signing_secret(text: str) -> tuple[str, str | None]:
    if len(text) < MIN_SIGNING_SECRET:
        return text, f"use at least {MIN_SIGNING_SECRET} characters (e.g. openssl rand -hex 32)"
    return text, None


def insecure_webhooks_allowed() -> bool:
    """Whether http:// to this machine is accepted (tests, or ALLOW_INSECURE_WEBHOOKS)."""
    config = current_app.config
    return bool(config.get("TESTING")) or _flag(config.get("ALLOW_INSECURE_WEBHOOKS"))


def secure_url_problem(url: str) -> str | None:
    """Why `url` may not receive webhook posts or Google API calls, or None when it may.

    https:// only; http:// just to localhost/127.0.0.1/::1 and only when
    `insecure_webhooks_allowed()`."""
    try:
        url = check_http_url(url)
    except ValueError as exc:
        return str(exc)
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() == "https":
        return None
    if parts.hostname in LOCAL_HOSTS:
        if insecure_webhooks_allowed():
            return None
        return "must start with https:// (http://localhost needs ALLOW_INSECURE_WEBHOOKS)"
    return "must start with https://"


def service_account_key(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """The parsed service-account JSON key, or the reason it is not one (never its content)."""
    if len(text) > MAX_KEY_CHARS:
        return None, "too large for a service-account key"
    try:
        key = json.loads(text)
    except ValueError:
        return None, "not valid JSON: paste the whole key file downloaded from Google Cloud"
    if not isinstance(key, dict):
        return None, "not a JSON object: paste the whole key file"
    if key.get("type") != "service_account":
        found = key.get("type")
        if not isinstance(found, str) or not found:
            return None, "the key has no type: expected a service-account key"
        return None, f"the key type is {found}, not service_account"
    missing = [f for f in KEY_FIELDS if not isinstance(key.get(f), str) or not key[f].strip()]
    if missing:
        return None, f"the key lacks {', '.join(missing)}"
    if "@" not in key["client_email"]:
        return None, "client_email is not an address"
    try:
        check_http_url(key["token_uri"])
    except ValueError as exc:
        return None, f"token_uri {exc}"
    return key, None


def _scopes(raw: Any) -> tuple[list[str], str | None]:
    items = raw if isinstance(raw, list | tuple) else re.split(r"[\s,]+", str(raw or ""))
    scopes = [str(s).strip() for s in items if str(s).strip()]
    bad = [s for s in scopes if not s.startswith("https://")]
    if bad:
        return scopes, "scopes are https:// URLs, e.g. https://www.googleapis.com/auth/drive"
    return scopes, None


def connection_summary(connection: Connection) -> str:
    """What may be shown about a connection in lists: never a secret or a secret URL's path."""
    settings = connection.settings or {}
    if connection.kind == "smtp":
        return f"{settings.get('host', '')}:{settings.get('port', '')}"
    if connection.kind == "sql":
        return public_url(connection)
    if connection.kind not in CHANNEL_KINDS:
        return ""
    try:
        secrets = get_secrets(connection)
    except RuntimeError:
        return "secrets cannot be decrypted"
    if connection.kind == "webhook":
        return "signing secret stored" if secrets.get("secret") else "no signing secret"
    if connection.kind in ("slack", "teams"):
        host = urllib.parse.urlsplit(str(secrets.get("url") or "")).hostname
        return f"{host}/…" if host else "no webhook URL"
    email = service_account_email(secrets.get("key"))
    endpoint = settings.get("api_endpoint")
    summary = email or "no service-account key"
    return f"{summary} via {endpoint}" if endpoint else summary


def service_account_email(key: Any) -> str | None:
    """The client_email of a stored key (an object, or JSON text), else None."""
    if isinstance(key, str):
        try:
            key = json.loads(key)
        except ValueError:
            return None
    email = key.get("client_email") if isinstance(key, dict) else None
    return email if isinstance(email, str) and email else None


def public_url(connection: Connection) -> str:
    """A SQL connection's URL to show: never with a password in it."""
    try:
        url = make_url(connection.settings.get("url", ""))
    except (ArgumentError, ValueError):
        return ""
    return url._replace(password=None).render_as_string(hide_password=False)


def password_in_url(text: str | None) -> str | None:
    try:
        return make_url(text or "").password
    except (ArgumentError, ValueError):
        return None


def literal_addresses(field: str, text: str) -> list[Mailbox]:
    """The addresses typed in a field without placeholders; DeliveryError saying what is wrong."""
    problem = recipient_field_error(text)
    if problem:
        raise DeliveryError(problem)
    try:
        return fill_recipients(field, text, {})
    except PlaceholderError as exc:
        raise DeliveryError(f"placeholders cannot be used here ({exc})") from None


def _integer(value: Any, low: int, high: int, field: str, errors: dict[str, str]) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        errors[field] = f"enter a whole number from {low} to {high}"
        return 0
    if not low <= number <= high:
        errors[field] = f"enter a whole number from {low} to {high}"
    return number


def _flag(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("1", "true", "on", "yes")
