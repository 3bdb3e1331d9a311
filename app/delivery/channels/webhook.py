"""The Webhook channel: one signed JSON POST per entry, the PDFs inline as base64.

Configuration (a delivery of the job definition)::

    {"kind": "webhook", "url": "https://example.com/herald", "secret_connection": "hook-key",
     "include_pdf": true, "timeout_seconds": 10}

The signing secret is never part of the job definition (job definitions are exported,
shown in the wizard and returned by the API): it lives encrypted in a workspace Connection
of kind "webhook" whose secrets are `{"secret": "<random string>"}`, named by
`secret_connection`. Without `secret_connection` the request is sent unsigned.

Request::

    POST <url>
    Content-Type: application/json
    User-Agent: Herald
    X-Herald-Event: entry.delivered
    X-Herald-Timestamp: 1793520000                 (unix seconds when sent)
    X-Herald-Signature: sha256=<hex>               (only with a secret)
    X-Herald-Delivery: 812                         (same value on every retry of a delivery)

    {"event": "entry.delivered",
     "job": {"id": 3, "code": "monthly-statements", "name": "Monthly statements"},
     "run": {"id": 41},
     "entry": {"id": 977, "seq": 12, "status": "InProgress"},
     "delivery": {"id": 812, "name": ""},
     "row": {...the entry's repeating row, or null},
     "params": {...the run's effective parameters},
     "reports": [{"report_code": "statement", "filename": "statement.pdf",
                  "content_type": "application/pdf", "size": 48213,
                  "url": "<signed download link>",
                  "content_base64": "JVBERi0..."}]}   (each file, PDF/CSV/XLSX, if include_pdf)

Verifying the signature (receiver side): take the raw request body bytes exactly as
received (before any JSON parsing), compute
`hex(HMAC-SHA256(key=secret, message=X-Herald-Timestamp + "." + body))`, compare it with
the part after `sha256=` in constant time (`hmac.compare_digest`), and reject the request
when the timestamp is more than 5 minutes away from your clock. A retried delivery is
signed again with a new timestamp; `X-Herald-Delivery` stays the same, so a receiver can
discard duplicates. `app.outbound.post.verify_signature` implements these steps.

Answers: 2xx = delivered; 408, 429, 5xx and failures before the request was sent are
retried later (429/503 after their Retry-After, capped); no answer after the request was
sent is "possibly delivered" — not resent automatically, since the receiver may have it
(it can deduplicate a person's Retry by X-Herald-Delivery); redirects and other 4xx fail
the delivery with the status and an excerpt.
"""

from __future__ import annotations

import base64
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

from app.delivery.channels.base import DeliveryContext, ReportFile
from app.jobs.channels import WebhookDelivery
from app.outbound.post import json_bytes, post_json, sign
from app.outbound.secrets import connection_secret, find_connection

EVENT = "entry.delivered"


def build_payload(
    config: WebhookDelivery, artifacts: Sequence[ReportFile], context: DeliveryContext
) -> dict[str, Any]:
    """The JSON document POSTed for one entry."""
    reports = []
    for index, artifact in enumerate(artifacts):
        report: dict[str, Any] = {
            "report_code": artifact.report_code,
            "filename": artifact.filename,
            "content_type": artifact.content_type,
            "size": len(artifact.content),
            "url": context.download_url(index),
        }
        if config.include_pdf:
            report["content_base64"] = base64.b64encode(artifact.content).decode("ascii")
        reports.append(report)
    return {
        "event": EVENT,
        "job": {"id": context.job_id, "code": context.job_code, "name": context.job_name},
        "run": {"id": context.run_id},
        "entry": {"id": context.entry_id, "seq": context.entry_seq, "status": context.entry_status},
        "delivery": {"id": context.delivery_id, "name": config.name},
        "row": dict(context.row) if context.row is not None else None,
        "params": dict(context.params),
        "reports": reports,
    }


def send_webhook(
    config: WebhookDelivery,
    values: Mapping[str, Mapping[str, Any]],
    artifacts: Sequence[ReportFile],
    workspace_id: int,
    context: DeliveryContext,
) -> dict[str, Any]:
    """POST the entry to the configured URL; return what was sent for the run history."""
    secret = None
    if config.secret_connection:
        connection = find_connection(workspace_id, "webhook", config.secret_connection)
        secret = connection_secret(connection, "secret", "signing secret")
    body = json_bytes(build_payload(config, artifacts, context))
    timestamp = str(int(time.time()))
    headers = {"X-Herald-Event": EVENT, "X-Herald-Timestamp": timestamp}
    if secret is not None:
        headers["X-Herald-Signature"] = sign(secret, timestamp, body)
    if context.delivery_id is not None:
        headers["X-Herald-Delivery"] = str(context.delivery_id)
    host = urllib.parse.urlsplit(config.url).hostname
    result = post_json(
        config.url,
        body,
        label=f"webhook {host}",
        timeout=config.timeout_seconds,
        headers=headers,
    )
    return {
        "url": config.url,
        "status": result.status,
        "bytes": result.sent_bytes,
        "signed": secret is not None,
        "reports": [a.filename for a in artifacts],
    }
