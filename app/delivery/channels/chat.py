"""Slack and Microsoft Teams channels: one chat message per entry with links to its PDFs.

An incoming-webhook URL is a credential (anyone holding it can post to the channel), so
it is not part of the job definition: it lives encrypted in a workspace Connection of
kind "slack" or "teams" whose secrets are `{"url": "https://hooks.slack.com/services/..."}`
(Teams: the URL of a Workflows "When a Teams webhook request is received" trigger, or of a
legacy incoming webhook). Error messages name the service, never the URL.

Configuration::

    {"kind": "slack", "webhook_connection": "sales-slack",
     "text": "Statement for *{customers.name}* is ready"}
    {"kind": "teams", "webhook_connection": "finance-teams",
     "title": "Statement {customers.name}", "text": "Period {params.period}"}

Slack payload (Block Kit)::

    {"text": "<text>",                                    (notification / fallback)
     "blocks": [
       {"type": "section", "text": {"type": "mrkdwn", "text": "<text>"}},
       {"type": "actions", "elements": [
          {"type": "button", "text": {"type": "plain_text", "text": "Open PDF"},
           "url": "<download link>", "action_id": "herald-open-0"}]},
       {"type": "context", "elements": [
          {"type": "mrkdwn", "text": "<job name> · run 41 · entry 12"}]}]}

Row and parameter values are escaped for mrkdwn (`&`, `<`, `>`), so a row cannot inject
`<!channel>` mentions or links; the text written in the delivery may use mrkdwn freely.
With several reports there is one button per report, labelled "Open <filename>".

Teams payload (an Adaptive Card; Office 365 connector MessageCards are being retired)::

    {"type": "message",
     "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
                      "contentUrl": null,
                      "content": {"type": "AdaptiveCard", "version": "1.4", "$schema": ...,
                                  "body": [{"type": "TextBlock", "text": "<title>",
                                            "weight": "Bolder", "size": "Medium", "wrap": true},
                                           {"type": "TextBlock", "text": "<text>", "wrap": true}],
                                  "actions": [{"type": "Action.OpenUrl", "title": "Open PDF",
                                               "url": "<download link>"}]}}]}

Answers are classified like the webhook channel's: 2xx sent; 408/429/5xx retried (429/503
when their Retry-After asks); no answer after the request was sent is "possibly delivered".
A Teams 200 whose body is not `1` is a legacy connector's error text: a failure.
Texts longer than the documented limits are trimmed with a visible "…".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from app.delivery.channels.base import DeliveryContext, ReportFile
from app.jobs.channels import SlackDelivery, TeamsDelivery
from app.outbound.errors import DeliveryError, TransientDeliveryError
from app.outbound.post import DEFAULT_TIMEOUT, HttpResult, check_http_url, json_bytes, post_json
from app.outbound.secrets import connection_secret, find_connection
from app.placeholders import substitute

# Documented limits, kept below: Slack's message `text` (40,000 characters) and a section
# block's text (3,000); a Teams message, card included, of about 28 KB.
SLACK_MESSAGE_LIMIT = 40_000
SLACK_TEXT_LIMIT = 3000  # a section block's text
TEAMS_PAYLOAD_LIMIT = 27_000  # bytes of JSON, under the ~28 KB Teams accepts
SLACK_BUTTON_LIMIT = 25  # elements of one actions block
SLACK_LABEL_LIMIT = 75  # a button's text
TEAMS_ACTION_LIMIT = 6


def slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def link_label(artifacts: Sequence[ReportFile], index: int) -> str:
    """ "Open PDF" (or CSV, XLSX) for a single file, "Open <filename>" when there are several."""
    if len(artifacts) == 1:
        return f"Open {artifacts[index].filename.rpartition('.')[2].upper() or 'PDF'}"
    return f"Open {artifacts[index].filename}"


def slack_payload(
    config: SlackDelivery,
    values: Mapping[str, Mapping[str, Any]],
    artifacts: Sequence[ReportFile],
    context: DeliveryContext,
) -> dict[str, Any]:
    text = substitute(config.text, values, escape=slack_escape).strip()
    if not text:
        raise DeliveryError("Slack: the message text is empty")
    text = _clip(text, SLACK_MESSAGE_LIMIT)
    section = {"type": "mrkdwn", "text": _clip(text, SLACK_TEXT_LIMIT)}
    blocks: list[dict[str, Any]] = [{"type": "section", "text": section}]
    buttons = [
        {
            "type": "button",
            "text": {
                "type": "plain_text",
                "text": _clip(link_label(artifacts, i), SLACK_LABEL_LIMIT),
            },
            "url": context.download_url(i),
            "action_id": f"herald-open-{i}",
        }
        for i in range(min(len(artifacts), SLACK_BUTTON_LIMIT))
    ]
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    footer = f"{slack_escape(context.job_name)} · run {context.run_id} · entry {context.entry_seq}"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": footer}]})
    return {"text": text, "blocks": blocks}


def teams_payload(
    config: TeamsDelivery,
    values: Mapping[str, Mapping[str, Any]],
    artifacts: Sequence[ReportFile],
    context: DeliveryContext,
) -> dict[str, Any]:
    title = " ".join(substitute(config.title, values).split())
    if not title:
        raise DeliveryError("Teams: the title is empty")
    text = substitute(config.text, values).strip()
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": title, "weight": "Bolder", "size": "Medium", "wrap": True}
    ]
    if text:
        body.append({"type": "TextBlock", "text": text, "wrap": True})
    body.append(
        {
            "type": "TextBlock",
            "text": f"{context.job_name} · run {context.run_id} · entry {context.entry_seq}",
            "isSubtle": True,
            "size": "Small",
            "wrap": True,
        }
    )
    actions = [
        {
            "type": "Action.OpenUrl",
            "title": link_label(artifacts, i),
            "url": context.download_url(i),
        }
        for i in range(min(len(artifacts), TEAMS_ACTION_LIMIT))
    ]
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if actions:
        card["actions"] = actions
    payload = {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }
    return _fit_teams(payload, body)


def _fit_teams(payload: dict[str, Any], body: list[dict[str, Any]]) -> dict[str, Any]:
    """Trim the card's text blocks (longest first, ending in a visible "…") until the JSON
    payload is under TEAMS_PAYLOAD_LIMIT bytes: Teams refuses larger messages."""
    excess = len(json_bytes(payload)) - TEAMS_PAYLOAD_LIMIT
    while excess > 0:
        block = max(body, key=lambda b: len(b["text"]))
        if len(block["text"]) <= 1:
            break  # nothing left to trim; Teams will say what is too large
        # Cut by encoded bytes (a character may take several); "…" adds three.
        raw = block["text"].encode()
        keep = raw[: max(0, len(raw) - excess - 3)].decode(errors="ignore")
        block["text"] = keep + "…"
        excess = len(json_bytes(payload)) - TEAMS_PAYLOAD_LIMIT
    return payload


def _webhook_url(workspace_id: int, kind: str, code: str) -> str:
    connection = find_connection(workspace_id, kind, code)
    url = connection_secret(connection, "url", "webhook URL")
    try:
        return check_http_url(url)
    except ValueError as exc:
        raise DeliveryError(f"the webhook URL of connection '{code}' {exc}") from None


def _post(label: str, url: str, payload: dict[str, Any], artifacts: Sequence[ReportFile]) -> dict:
    body = json_bytes(payload)
    result = post_json(url, body, label=label, timeout=DEFAULT_TIMEOUT)
    return {
        "status": result.status,
        "bytes": result.sent_bytes,
        "links": [a.filename for a in artifacts],
        "answer": result,
    }


def _check_legacy_answer(result: HttpResult) -> None:
    """A legacy Teams connector (Office 365 incoming webhook) answers 200 with the body `1`
    when it posted the card, and 200 with an error text otherwise (card too large,
    throttled...): that text is the failure. Workflows triggers answer 202 with no body."""
    if result.status != 200 or result.excerpt.strip() in ("", "1"):
        return
    message = f"Teams: the connector did not post the card: {result.excerpt}"
    if "429" in result.excerpt:  # "...returned HTTP error 429": throttled, try again later
        raise TransientDeliveryError(message)
    raise DeliveryError(message)


def send_slack(
    config: SlackDelivery,
    values: Mapping[str, Mapping[str, Any]],
    artifacts: Sequence[ReportFile],
    workspace_id: int,
    context: DeliveryContext,
) -> dict[str, Any]:
    """Post the entry's message to the Slack incoming webhook of the named connection."""
    url = _webhook_url(workspace_id, "slack", config.webhook_connection)
    payload = slack_payload(config, values, artifacts, context)
    detail = _post("Slack", url, payload, artifacts)
    detail.pop("answer")
    return {"connection": config.webhook_connection, "text": _clip(payload["text"], 500), **detail}


def send_teams(
    config: TeamsDelivery,
    values: Mapping[str, Mapping[str, Any]],
    artifacts: Sequence[ReportFile],
    workspace_id: int,
    context: DeliveryContext,
) -> dict[str, Any]:
    """Post the entry's card to the Teams webhook of the named connection."""
    url = _webhook_url(workspace_id, "teams", config.webhook_connection)
    payload = teams_payload(config, values, artifacts, context)
    detail = _post("Teams", url, payload, artifacts)
    _check_legacy_answer(detail.pop("answer"))
    title = payload["attachments"][0]["content"]["body"][0]["text"]
    return {"connection": config.webhook_connection, "title": title, **detail}
