"""The Test button of Slack, Teams and webhook connections: one small POST through the
connection, and the receiver's answer (status and the start of its body) to show."""

from __future__ import annotations

import time
import urllib.parse

from app.access import require
from app.models import Connection, Role, User, Workspace
from app.outbound.errors import DeliveryError
from app.outbound.post import (
    HttpResult,
    check_http_url,
    check_public_http_url,
    json_bytes,
    post_json,
    sign,
)
from app.outbound.secrets import connection_secret

PROBED_KINDS = ("slack", "teams", "webhook")
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
TEST_TEXT = "Herald test message: connection “{name}” ({code}) of workspace {workspace} works."


def probe_connection(
    workspace: Workspace, user: User | None, connection: Connection, url: str = ""
) -> HttpResult:
    """POST a test message through `connection` (Slack, Teams: its stored webhook URL;
    webhook: to `url`, signed with the connection's secret) and return the 2xx answer.

    The SSRF guard of every channel POST applies (app.delivery.channels.base.post_json).
    Raises DeliveryError with the receiver's answer (status and excerpt) when it refused,
    or saying why nothing was posted."""
    if user is not None:
        require(user, workspace, Role.admin)
    if connection.workspace_id != workspace.id or connection.kind not in PROBED_KINDS:
        raise DeliveryError("not a Slack, Teams or webhook connection of this workspace")
    try:
        return _probe(workspace, connection, url)
    except RuntimeError as exc:  # a stored secret that cannot be decrypted
        raise DeliveryError(str(exc)) from None


def _probe(workspace: Workspace, connection: Connection, url: str) -> HttpResult:
    text = TEST_TEXT.format(name=connection.name, code=connection.code, workspace=workspace.name)
    headers: dict[str, str] = {}
    if connection.kind == "webhook":
        target = _checked(url, check_public_http_url, "enter the URL of a receiver to test")
        body = json_bytes({"event": "test", "text": text, "connection": connection.code})
        timestamp = str(int(time.time()))
        secret = connection_secret(connection, "secret", "signing secret")
        headers = {
            "X-Herald-Event": "test",
            "X-Herald-Timestamp": timestamp,
            "X-Herald-Signature": sign(secret, timestamp, body),
        }
        label = f"webhook {urllib.parse.urlsplit(target).hostname}"
    else:
        stored = connection_secret(connection, "url", "webhook URL")
        target = _checked(stored, check_http_url, "")
        body = json_bytes(_chat_payload(connection.kind, text))
        label = "Slack" if connection.kind == "slack" else "Teams"  # never the secret URL
    return post_json(target, body, label=label, headers=headers)


def _checked(url: str, check, missing: str) -> str:
    if not url.strip():
        raise DeliveryError(missing)
    try:
        return check(url.strip())
    except ValueError as exc:
        raise DeliveryError(f"the URL {exc}") from None


def _chat_payload(kind: str, text: str) -> dict:
    if kind == "slack":
        return {"text": text}
    card = {"type": "AdaptiveCard", "version": "1.4", "body": [{"type": "TextBlock", "text": text}]}
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
        ],
    }
