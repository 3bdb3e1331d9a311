"""Delivery channels besides email: webhook, Slack, Teams and Google Drive.

Every channel is a settings model in `app.jobs.channels` (discriminated by `kind`) and a send
function here::

    send(config, values, artifacts, workspace_id, context) -> dict

- `values`: placeholder namespaces of the entry (`app.runs.generate.entry_values`);
- `artifacts`: the entry's generated reports, in order, each with `report_code`,
  `filename`, `content` (bytes) and `content_type` (`app.delivery.email.Attachment`);
- `workspace_id`: where the named connections are looked up;
- `context`: a `DeliveryContext` (job, run, entry, row, params, `download_url(index)`).

A send function returns a JSON-ready `detail` dict for the run history, raises
`TransientDeliveryError` when a later attempt may succeed, and `DeliveryError` (or
`PlaceholderError`) when it cannot succeed as configured. The `condition` field is
evaluated by the delivery service before calling the channel, as for email.

Connections the channels read (kind → encrypted secrets; optional settings):
  webhook → {"secret": ...}            signing secret of WebhookDelivery.secret_connection
  slack   → {"url": ...}               Slack incoming-webhook URL
  teams   → {"url": ...}               Teams Workflows / incoming-webhook URL
  google  → {"key": {...}}             service-account JSON key; settings api_endpoint, scopes
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.delivery.channels.base import DeliveryContext, ReportFile
from app.delivery.channels.chat import send_slack, send_teams
from app.delivery.channels.drive import send_drive
from app.delivery.channels.webhook import send_webhook

CHANNEL_SENDERS: dict[str, Callable[..., dict[str, Any]]] = {
    "webhook": send_webhook,
    "slack": send_slack,
    "teams": send_teams,
    "drive": send_drive,
}

__all__ = ["CHANNEL_SENDERS", "DeliveryContext", "ReportFile"]
