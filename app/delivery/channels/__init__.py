"""Delivery channels besides email: webhook, Slack, Teams and Google Drive.

Every channel is a pydantic config model (discriminated by `kind`) and a send function::

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

from pydantic import BaseModel

from app.delivery.channels.base import DeliveryContext, ReportFile
from app.delivery.channels.chat import SlackDelivery, TeamsDelivery, send_slack, send_teams
from app.delivery.channels.drive import DriveDelivery, send_drive
from app.delivery.channels.webhook import WebhookDelivery, send_webhook

CHANNEL_MODELS: dict[str, type[BaseModel]] = {
    "webhook": WebhookDelivery,
    "slack": SlackDelivery,
    "teams": TeamsDelivery,
    "drive": DriveDelivery,
}

CHANNEL_SENDERS: dict[str, Callable[..., dict[str, Any]]] = {
    "webhook": send_webhook,
    "slack": send_slack,
    "teams": send_teams,
    "drive": send_drive,
}

# Fields that may hold {alias.column} placeholders (for the wizard's placeholder check).
TEMPLATED_FIELDS: dict[str, tuple[str, ...]] = {
    "webhook": (),
    "slack": ("text",),
    "teams": ("title", "text"),
    "drive": ("filename",),
}

__all__ = [
    "CHANNEL_MODELS",
    "CHANNEL_SENDERS",
    "TEMPLATED_FIELDS",
    "DeliveryContext",
    "DriveDelivery",
    "ReportFile",
    "SlackDelivery",
    "TeamsDelivery",
    "WebhookDelivery",
]
