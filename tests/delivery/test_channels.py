"""Webhook, Slack, Teams and Google Drive channels against real local HTTP servers.

The Google fake speaks the two calls Herald makes: the OAuth2 JWT-bearer token exchange
(the assertion's RS256 signature is checked with the test key's public half) and the
Drive v3 multipart upload.
"""

from __future__ import annotations

import base64
import email.message
import hashlib
import hmac
import ipaddress
import json
import re
import socket
import time
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pydantic import ValidationError

from app.database import utcnow
from app.delivery.channels import CHANNEL_SENDERS, DeliveryContext
from app.delivery.channels.chat import send_slack, send_teams
from app.delivery.channels.drive import clear_credentials_cache, send_drive
from app.delivery.channels.webhook import send_webhook
from app.delivery.email import Attachment
from app.delivery.service import deliver_entry
from app.extensions import db
from app.jobs.channels import (
    CHANNEL_MODELS,
    DriveDelivery,
    SlackDelivery,
    TeamsDelivery,
    WebhookDelivery,
)
from app.models import Connection, ReportTemplate
from app.outbound.errors import DeliveryError, PossiblyDeliveredError, TransientDeliveryError
from app.outbound.post import retry_after_seconds, verify_signature
from app.outbound.secrets import set_secrets
from app.placeholders import placeholder_values
from app.rendering.tables import XLSX_TYPE
from app.review.redeliver import deliver_entries, retry_delivery
from app.runs.create import start_run
from tests import factories as make
from tests.helpers import LocalServer, Received, Reply, entries_of, free_port, reload_run

# Bytes that a careless multipart or text round trip would damage.
PDF_A = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\r\n1 0 obj <<>> endobj\r\n--not-a-boundary\n\x00\xff%%EOF\n"
PDF_B = b"%PDF-1.7\n" + bytes(range(256)) + b"\n%%EOF\n"
ROW = {"id": 5, "name": "Ada <!channel> & Co", "email": "ada@example.com"}
PARAMS = {"period": "2026-10-01"}


# --- a small recording HTTP server -------------------------------------------------------


# --- shared inputs -----------------------------------------------------------------------


def context(**overrides: Any) -> DeliveryContext:
    fields: dict[str, Any] = {
        "job_id": 7,
        "job_code": "monthly-statements",
        "job_name": "Monthly statements",
        "run_id": 41,
        "entry_id": 977,
        "entry_seq": 12,
        "entry_status": "InProgress",
        "row": ROW,
        "params": PARAMS,
        "download_url": lambda i: f"https://herald.example/files/{i}?sig=s{i}",
        "delivery_id": 812,
    }
    return DeliveryContext(**{**fields, **overrides})


def values() -> dict[str, Any]:
    return placeholder_values(
        params=PARAMS,
        data={},
        repeating_alias="customers",
        row=ROW,
        extra={"run": {"id": 41}, "entry": {"id": 977, "seq": 12}},
    )


ONE = [Attachment("statement", "statement.pdf", PDF_A)]
TWO = [*ONE, Attachment("summary", "summary.pdf", PDF_B)]


def connection(ws: Any, kind: str, code: str, secrets: dict[str, Any], **settings: Any) -> None:
    item = Connection(workspace_id=ws.id, code=code, name=code, kind=kind, settings=settings)
    set_secrets(item, secrets)
    db.session.add(item)
    db.session.commit()


# --- webhook -----------------------------------------------------------------------------


def test_webhook_posts_signed_json_a_receiver_can_verify(app, serve):
    ws = make.workspace()
    connection(ws, "webhook", "hook-key", {"secret": "s3cret"})
    server = serve(Reply(204, b""))
    config = WebhookDelivery(url=f"{server.base}/hooks/herald", secret_connection="hook-key")

    before = int(time.time())
    detail = send_webhook(config, values(), TWO, ws.id, context())

    [request] = server.received
    assert (request.method, request.path) == ("POST", "/hooks/herald")
    headers = request.headers
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == "Herald"
    assert headers["x-herald-event"] == "entry.delivered"
    assert headers["x-herald-delivery"] == "812"
    timestamp = headers["x-herald-timestamp"]
    assert before <= int(timestamp) <= time.time() + 1
    # The receiver's side, written out: HMAC-SHA256 over "<timestamp>." + raw body.
    expected = hmac.new(b"s3cret", timestamp.encode() + b"." + request.body, hashlib.sha256)
    assert headers["x-herald-signature"] == "sha256=" + expected.hexdigest()
    assert verify_signature("s3cret", timestamp, request.body, headers["x-herald-signature"])
    assert not verify_signature("s3cret", timestamp, request.body + b" ", expected.hexdigest())
    assert not verify_signature("other", timestamp, request.body, headers["x-herald-signature"])
    stale = str(int(timestamp) - 600)
    assert not verify_signature("s3cret", stale, request.body, headers["x-herald-signature"])

    payload = json.loads(request.body)
    assert payload["event"] == "entry.delivered"
    assert payload["job"] == {"id": 7, "code": "monthly-statements", "name": "Monthly statements"}
    assert payload["run"] == {"id": 41}
    assert payload["entry"] == {"id": 977, "seq": 12, "status": "InProgress"}
    assert payload["row"] == ROW
    assert payload["params"] == PARAMS
    reports = payload["reports"]
    assert [r["filename"] for r in reports] == ["statement.pdf", "summary.pdf"]
    assert [r["size"] for r in reports] == [len(PDF_A), len(PDF_B)]
    assert {r["content_type"] for r in reports} == {"application/pdf"}
    assert [base64.b64decode(r["content_base64"]) for r in reports] == [PDF_A, PDF_B]
    assert reports[1]["url"] == "https://herald.example/files/1?sig=s1"
    assert detail == {
        "url": f"{server.base}/hooks/herald",
        "status": 204,
        "bytes": len(request.body),
        "signed": True,
        "reports": ["statement.pdf", "summary.pdf"],
    }


def test_webhook_without_pdf_or_secret_sends_links_unsigned(app, serve):
    ws = make.workspace()
    server = serve()
    config = WebhookDelivery(url=server.base + "/", include_pdf=False)

    detail = send_webhook(config, values(), ONE, ws.id, context(delivery_id=None))

    [request] = server.received
    assert "x-herald-signature" not in request.headers
    assert "x-herald-delivery" not in request.headers
    [report] = json.loads(request.body)["reports"]
    assert "content_base64" not in report
    assert report["url"] == "https://herald.example/files/0?sig=s0"
    assert detail["signed"] is False


@pytest.mark.parametrize("status", [408, 429, 500, 503])
def test_webhook_busy_or_failing_receiver_is_retried_later(app, serve, status):
    ws = make.workspace()
    server = serve(Reply(status, b"try later"))
    with pytest.raises(TransientDeliveryError, match=f"HTTP {status}: try later"):
        send_webhook(WebhookDelivery(url=server.base), values(), ONE, ws.id, context())


@pytest.mark.parametrize("status", [400, 401, 404, 410, 422])
def test_webhook_rejection_fails_with_status_and_excerpt(app, serve, status):
    ws = make.workspace()
    server = serve(Reply(status, b'{"error": "unknown customer"}\n' + b"x" * 5000))
    with pytest.raises(DeliveryError) as caught:
        send_webhook(WebhookDelivery(url=server.base), values(), ONE, ws.id, context())
    assert not isinstance(caught.value, TransientDeliveryError)
    message = str(caught.value)
    assert f"HTTP {status}" in message
    assert '{"error": "unknown customer"}' in message
    assert len(message) < 300


def test_webhook_redirect_is_not_followed(app, serve):
    ws = make.workspace()
    target = serve()
    server = serve(Reply(307, b"", headers={"Location": target.base}))
    with pytest.raises(DeliveryError, match="HTTP 307.*redirects are not followed") as caught:
        send_webhook(WebhookDelivery(url=server.base), values(), ONE, ws.id, context())
    assert not isinstance(caught.value, TransientDeliveryError)
    assert target.received == []


def test_webhook_timeout_after_the_body_was_sent_is_possibly_delivered(app, serve):
    ws = make.workspace()
    server = serve(Reply(200, b"late", delay=1.5))
    config = WebhookDelivery(url=server.base, timeout_seconds=0.5)
    with pytest.raises(PossiblyDeliveredError, match="no answer within 0.5 s after the request"):
        send_webhook(config, values(), ONE, ws.id, context())
    assert len(server.received) == 1  # the receiver has it: a resend could duplicate it


def test_webhook_refused_connection_is_transient(app):
    ws = make.workspace()
    config = WebhookDelivery(url=f"http://127.0.0.1:{free_port()}/")
    with pytest.raises(TransientDeliveryError, match="cannot connect"):
        send_webhook(config, values(), ONE, ws.id, context())


@pytest.fixture
def no_private_destinations(app, monkeypatch):
    """Production's default: webhook POSTs to private or local addresses are refused."""
    monkeypatch.setitem(app.config, "ALLOW_PRIVATE_WEBHOOKS", False)


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata (link-local)
        "http://127.0.0.1:8080/hook",
        "https://localhost/hook",
        "https://api.localhost./hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://100.64.0.1/hook",  # carrier-grade NAT space
        "https://[::1]/hook",
        "https://[fd00::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://0.0.0.0/hook",
    ],
)
def test_a_webhook_to_a_private_address_is_refused_when_saved(no_private_destinations, url):
    with pytest.raises(ValidationError, match="on this machine or a private network"):
        WebhookDelivery(url=url)


def test_public_and_unresolved_webhook_urls_are_accepted_when_saved(no_private_destinations):
    for url in ("https://93.184.216.34/hook", "https://hooks.example.com/herald"):
        assert WebhookDelivery(url=url).url == url


def test_a_name_resolving_to_this_machine_is_refused_before_posting(
    app, serve, no_private_destinations
):
    name = socket.gethostname()
    resolved = {info[4][0] for info in socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)}
    if any(ipaddress.ip_address(a.split("%")[0]).is_global for a in resolved):
        pytest.skip(f"{name} resolves to a public address here: {resolved}")
    ws = make.workspace()
    server = serve()
    port = server.base.rsplit(":", 1)[1]
    config = WebhookDelivery(url=f"http://{name}:{port}/hook")  # a name: not checked at save
    with pytest.raises(DeliveryError, match="HERALD_ALLOW_PRIVATE_WEBHOOKS=1") as caught:
        send_webhook(config, values(), ONE, ws.id, context())
    assert not isinstance(caught.value, TransientDeliveryError)
    assert server.received == []


def test_webhook_configuration_is_checked(app):
    for url in ("ftp://example.com/x", "example.com/hook", "http:///path", "javascript:alert(1)"):
        with pytest.raises(ValidationError):
            WebhookDelivery(url=url)
    with pytest.raises(ValidationError):
        WebhookDelivery(url="https://example.com", secret="inline secrets are not accepted")
    ws = make.workspace()
    connection(ws, "smtp", "mail", {"password": "x"})
    config = WebhookDelivery(url="https://example.com", secret_connection="mail")
    with pytest.raises(DeliveryError, match="'mail' is a smtp connection, not webhook"):
        send_webhook(config, values(), ONE, ws.id, context())
    config = WebhookDelivery(url="https://example.com", secret_connection="nope")
    with pytest.raises(DeliveryError, match="no connection 'nope'"):
        send_webhook(config, values(), ONE, ws.id, context())


# --- Slack and Teams ---------------------------------------------------------------------


def test_slack_message_escapes_row_values_and_links_each_pdf(app, serve):
    ws = make.workspace()
    server = serve()
    secret_path = "/services/T000/B000/XXXXSECRET"
    connection(ws, "slack", "sales", {"url": server.base + secret_path})
    config = SlackDelivery(
        webhook_connection="sales", text="Statement for *{customers.name}* ({params.period})"
    )

    detail = send_slack(config, values(), ONE, ws.id, context())

    [request] = server.received
    assert request.path == secret_path
    assert request.headers["content-type"] == "application/json"
    payload = json.loads(request.body)
    text = "Statement for *Ada &lt;!channel&gt; &amp; Co* (2026-10-01)"
    assert payload["text"] == text
    section, actions, footer = payload["blocks"]
    assert section == {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    assert actions == {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Open PDF"},
                "url": "https://herald.example/files/0?sig=s0",
                "action_id": "herald-open-0",
            }
        ],
    }
    assert footer["type"] == "context"
    assert footer["elements"][0]["text"] == "Monthly statements · run 41 · entry 12"
    assert detail["status"] == 200
    assert "SECRET" not in json.dumps(detail)


def test_slack_has_one_button_per_report(app, serve):
    ws = make.workspace()
    server = serve()
    connection(ws, "slack", "sales", {"url": server.base})
    send_slack(SlackDelivery(webhook_connection="sales", text="x"), values(), TWO, ws.id, context())
    buttons = json.loads(server.received[0].body)["blocks"][1]["elements"]
    assert [(b["text"]["text"], b["url"]) for b in buttons] == [
        ("Open statement.pdf", "https://herald.example/files/0?sig=s0"),
        ("Open summary.pdf", "https://herald.example/files/1?sig=s1"),
    ]


def test_slack_errors_never_show_the_webhook_url(app, serve):
    ws = make.workspace()
    server = serve(Reply(404, b"no_service"))
    connection(ws, "slack", "sales", {"url": server.base + "/services/T0/B0/SECRET"})
    config = SlackDelivery(webhook_connection="sales", text="x")
    with pytest.raises(DeliveryError) as caught:
        send_slack(config, values(), ONE, ws.id, context())
    assert str(caught.value) == "Slack: HTTP 404: no_service"
    server.handle = lambda _request: Reply(429, b"rate_limited")
    with pytest.raises(TransientDeliveryError, match="Slack: HTTP 429"):
        send_slack(config, values(), ONE, ws.id, context())
    connection(ws, "slack", "empty", {})
    with pytest.raises(DeliveryError, match="connection 'empty' has no webhook URL"):
        send_slack(
            SlackDelivery(webhook_connection="empty", text="x"), values(), ONE, ws.id, context()
        )


def test_teams_posts_an_adaptive_card_with_an_open_pdf_action(app, serve):
    ws = make.workspace()
    server = serve(Reply(202, b""))
    connection(ws, "teams", "finance", {"url": server.base + "/workflows/abc"})
    config = TeamsDelivery(
        webhook_connection="finance",
        title="Statement {customers.id}",
        text="Period {params.period} for {customers.name}",
    )

    detail = send_teams(config, values(), ONE, ws.id, context())

    [request] = server.received
    payload = json.loads(request.body)
    assert payload["type"] == "message"
    [attachment] = payload["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    title, text, footer = card["body"]
    assert (title["text"], title["weight"]) == ("Statement 5", "Bolder")
    assert text["text"] == "Period 2026-10-01 for Ada <!channel> & Co"
    assert footer["text"] == "Monthly statements · run 41 · entry 12"
    assert card["actions"] == [
        {
            "type": "Action.OpenUrl",
            "title": "Open PDF",
            "url": "https://herald.example/files/0?sig=s0",
        }
    ]
    assert detail == {
        "connection": "finance",
        "title": "Statement 5",
        "status": 202,
        "bytes": len(request.body),
        "links": ["statement.pdf"],
    }


def test_teams_outage_is_transient(app, serve):
    ws = make.workspace()
    server = serve(Reply(503, b"busy"))
    connection(ws, "teams", "finance", {"url": server.base})
    config = TeamsDelivery(webhook_connection="finance", title="t")
    with pytest.raises(TransientDeliveryError, match="Teams: HTTP 503"):
        send_teams(config, values(), ONE, ws.id, context())


# --- Google Drive --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def multipart(content_type: str, body: bytes) -> list[tuple[dict[str, str], bytes]]:
    """The parts of a multipart/related body, contents byte for byte."""
    header = email.message.Message()
    header["Content-Type"] = content_type
    assert header.get_content_type() == "multipart/related"
    delimiter = b"--" + header.get_param("boundary").encode()
    assert body.startswith(delimiter)
    eol = b"\r\n" if body[len(delimiter) :].startswith(b"\r\n") else b"\n"
    chunks = body.split(eol + delimiter)
    chunks[0] = chunks[0].removeprefix(delimiter)
    assert chunks[-1] in (b"--" + eol, b"--")
    parts = []
    for chunk in chunks[:-1]:
        head, separator, content = chunk.removeprefix(eol).partition(eol + eol)
        assert separator
        headers = {}
        # A long header (an XLSX file's content type) arrives folded: unfold it (RFC 5322).
        unfolded = re.sub(r"\r?\n[ \t]+", " ", head.decode())
        for line in unfolded.split(eol.decode()):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        parts.append((headers, content))
    return parts


class FakeGoogle:
    """POST /token (JWT-bearer grant) and POST /upload/drive/v3/files (multipart)."""

    def __init__(self, public_key: rsa.RSAPublicKey, client_email: str) -> None:
        self.public_key = public_key
        self.client_email = client_email
        self.files: list[dict[str, Any]] = []
        self.claims: list[dict[str, Any]] = []
        self.upload_failures: list[tuple[int, str]] = []  # (status, reason) per next upload
        self.every_upload_fails: tuple[int, str] | None = None
        self.token_failure: tuple[int, dict[str, Any]] | None = None
        self.token_uri = ""
        self.problems: list[str] = []

    def __call__(self, request: Received) -> Reply:
        try:
            if request.path == "/token":
                return self.token(request)
            if request.path == "/upload/drive/v3/files":
                return self.upload(request)
            raise AssertionError(f"unexpected request to {request.path}")
        except AssertionError as exc:  # reported by the fixture: the client sees only a 400
            self.problems.append(repr(exc))
            return self.error(400, "the fake rejected the request", "badRequest")

    @staticmethod
    def error(status: int, message: str, reason: str) -> Reply:
        body = {"error": {"code": status, "message": message, "errors": [{"reason": reason}]}}
        return Reply(status, json.dumps(body).encode(), "application/json")

    def token(self, request: Received) -> Reply:
        form = urllib.parse.parse_qs(request.body.decode())
        assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
        header, claims, signature = form["assertion"][0].split(".")
        self.public_key.verify(
            b64url_decode(signature),
            f"{header}.{claims}".encode(),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
        assert json.loads(b64url_decode(header))["alg"] == "RS256"
        claims = json.loads(b64url_decode(claims))
        assert claims["iss"] == self.client_email
        # google-auth always addresses the assertion to Google's token endpoint, wherever
        # the key's token_uri sends it; so does the real server.
        assert claims["aud"] == "https://oauth2.googleapis.com/token"
        self.claims.append(claims)
        if self.token_failure is not None:
            status, body = self.token_failure
            return Reply(status, json.dumps(body).encode(), "application/json")
        body = {"access_token": "t", "expires_in": 3600, "token_type": "Bearer"}
        return Reply(200, json.dumps(body).encode(), "application/json")

    def upload(self, request: Received) -> Reply:
        if request.headers.get("authorization") != "Bearer t":
            return self.error(401, "Invalid Credentials", "authError")
        if self.every_upload_fails or self.upload_failures:
            status, reason = self.every_upload_fails or self.upload_failures.pop(0)
            return self.error(status, f"failure {reason}", reason)
        assert request.query["uploadType"] == ["multipart"]
        assert request.query["supportsAllDrives"] == ["true"]
        assert request.query["fields"] == ["id,name"]
        (meta_headers, meta), (media_headers, content) = multipart(
            request.headers["content-type"], request.body
        )
        assert meta_headers["content-type"].startswith("application/json")
        metadata = json.loads(meta)
        file_id = f"file-{len(self.files) + 1}"
        self.files.append(
            {"id": file_id, **metadata, "content": content, "type": media_headers["content-type"]}
        )
        body = {"id": file_id, "name": metadata["name"]}
        return Reply(200, json.dumps(body).encode(), "application/json")


class UploadFails:
    """The fake Google, but the `nth` upload (only that one) answers `status`."""

    def __init__(self, fake: FakeGoogle, *, nth: int, status: int) -> None:
        self.fake, self.nth, self.status = fake, nth, status
        self.uploads = 0

    def __call__(self, request: Received) -> Reply:
        if request.path.startswith("/upload"):
            self.uploads += 1
            if self.uploads == self.nth:
                return FakeGoogle.error(self.status, "backend", "backendError")
        return self.fake(request)


@pytest.fixture
def google(serve, rsa_key) -> Iterator[tuple[FakeGoogle, LocalServer, dict[str, Any]]]:
    email_address = "herald@project.iam.gserviceaccount.com"
    fake = FakeGoogle(rsa_key.public_key(), email_address)
    server = serve(fake)
    fake.token_uri = f"{server.base}/token"
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    key = {
        "type": "service_account",
        "project_id": "project",
        "private_key_id": "k1",
        "private_key": pem,
        "client_email": email_address,
        "client_id": "1",
        "token_uri": fake.token_uri,
    }
    clear_credentials_cache()
    yield fake, server, key
    clear_credentials_cache()
    assert fake.problems == []


def drive_setup(google: Any) -> tuple[FakeGoogle, int]:
    fake, server, key = google
    ws = make.workspace()
    connection(ws, "google", "archive", {"key": key}, api_endpoint=server.base)
    return fake, ws.id


DRIVE = DriveDelivery(
    service_account="archive",
    folder_id="folder-123",
    filename="{customers.id}-{report.code}-{params.period}.pdf",
)


def test_drive_uploads_each_report_as_its_own_file(app, google):
    fake, workspace_id = drive_setup(google)

    detail = send_drive(DRIVE, values(), TWO, workspace_id, context())

    assert [(f["name"], f["parents"], f["content"], f["type"]) for f in fake.files] == [
        ("5-statement-2026-10-01.pdf", ["folder-123"], PDF_A, "application/pdf"),
        ("5-summary-2026-10-01.pdf", ["folder-123"], PDF_B, "application/pdf"),
    ]
    assert fake.files[1]["appProperties"] == {
        "heraldRun": "41",
        "heraldEntry": "977",
        "heraldReport": "summary",
    }
    [claims] = fake.claims  # one token exchange for both uploads
    assert claims["scope"] == "https://www.googleapis.com/auth/drive.file"
    assert detail == {
        "folder_id": "folder-123",
        "service_account": "herald@project.iam.gserviceaccount.com",
        "files": [
            {
                "id": "file-1",
                "name": "5-statement-2026-10-01.pdf",
                "report": "statement",
                "format": "pdf",
            },
            {
                "id": "file-2",
                "name": "5-summary-2026-10-01.pdf",
                "report": "summary",
                "format": "pdf",
            },
        ],
    }


def test_drive_file_names_are_cleaned_and_default_to_each_report_s_own_name(app, google):
    fake, workspace_id = drive_setup(google)
    files = [
        Attachment("statement", "statement-12.pdf", PDF_A),
        Attachment("summary", "summary-12.pdf", PDF_B),
    ]
    hostile = {
        **values(),
        "customers": {"name": "../Zoë\r\nÅngström: Q1/Q2 <draft>?", "long": "é" * 300},
    }

    send_drive(
        DriveDelivery(service_account="archive", folder_id="f1"),
        values(),
        files,
        workspace_id,
        context(),
    )
    send_drive(
        DriveDelivery(service_account="archive", folder_id="f1", filename="{customers.name}"),
        hostile,
        files,
        workspace_id,
        context(),
    )
    send_drive(
        DriveDelivery(service_account="archive", folder_id="f1", filename="{customers.long}.pdf"),
        hostile,
        ONE,
        workspace_id,
        context(),
    )

    names = [f["name"] for f in fake.files]
    # The default is the report's own file name, which differs per entry.
    assert names[:2] == ["statement-12.pdf", "summary-12.pdf"]
    # One pattern for two reports: the names are told apart, and nothing is a path.
    assert names[2:4] == [
        "_Zoë Ångström_ Q1_Q2 _draft__.pdf",
        "_Zoë Ångström_ Q1_Q2 _draft__ (2).pdf",
    ]
    assert names[4] == "é" * 98 + ".pdf" and len(names[4].encode()) == 200


def test_a_drive_pattern_saved_before_per_entry_names_gets_the_per_entry_name():
    legacy = DriveDelivery(service_account="a", folder_id="f", filename="{report.code}.pdf")
    assert legacy.filename == "{report.filename}"
    assert DriveDelivery(service_account="a", folder_id="f").filename == "{report.filename}"


def test_drive_rejected_credentials_read_unauthorized(app, google):
    fake, workspace_id = drive_setup(google)
    fake.every_upload_fails = (401, "authError")
    with pytest.raises(DeliveryError, match="^Google Drive: unauthorized — ") as caught:
        send_drive(DRIVE, values(), ONE, workspace_id, context())
    assert not isinstance(caught.value, TransientDeliveryError)
    assert "HTTP 401" in str(caught.value)
    assert fake.files == []
    # On a 401 google-auth exchanges a new token and tries again before giving up.
    assert len(fake.claims) == 3


def test_drive_revoked_key_fails_at_the_token_exchange(app, google):
    fake, workspace_id = drive_setup(google)
    fake.token_failure = (400, {"error": "invalid_grant", "error_description": "Invalid JWT"})
    with pytest.raises(DeliveryError, match="^Google Drive: unauthorized — .*invalid_grant"):
        send_drive(DRIVE, values(), ONE, workspace_id, context())
    assert fake.files == []


@pytest.mark.parametrize(
    ("status", "reason", "transient", "advice"),
    [
        (403, "quotaExceeded", True, "API quota used up .*retried later"),
        (403, "rateLimitExceeded", True, "rate limit .*retried later"),
        (403, "userRateLimitExceeded", True, "rate limit .*retried later"),
        (403, "storageQuotaExceeded", False, "no storage left .*use a folder on a shared drive"),
        (404, "notFound", False, "folder folder-123 not found.*check the folder id"),
        (403, "forbidden", False, "share the folder with herald@project"),
        (403, "insufficientPermissions", False, "share the folder with herald@project"),
        (403, "insufficientFilePermissions", False, "share the folder with herald@project"),
    ],
)
def test_drive_errors_are_classified_by_their_reason(
    app, google, status, reason, transient, advice
):
    fake, workspace_id = drive_setup(google)
    fake.upload_failures = [(status, reason)]
    with pytest.raises(DeliveryError, match=advice) as caught:
        send_drive(DRIVE, values(), ONE, workspace_id, context())
    assert isinstance(caught.value, TransientDeliveryError) is transient
    assert "re-upload the key" not in str(caught.value)
    assert reason in str(caught.value)
    uploads = [r for r in google[1].received if r.path.startswith("/upload")]
    assert len(uploads) == 1 and fake.files == []  # the client did not retry on its own


def test_drive_outage_is_transient_and_the_retry_uploads(app, google):
    fake, workspace_id = drive_setup(google)
    fake.upload_failures = [(503, "backendError")]
    with pytest.raises(TransientDeliveryError, match="Google Drive: HTTP 503"):
        send_drive(DRIVE, values(), ONE, workspace_id, context())
    assert fake.files == []

    detail = send_drive(DRIVE, values(), ONE, workspace_id, context())

    assert [f["name"] for f in detail["files"]] == ["5-statement-2026-10-01.pdf"]
    assert len(fake.files) == 1
    assert len(fake.claims) == 1  # the token from the first attempt was reused


def test_drive_rate_limit_is_transient_and_partial_uploads_are_reported(app, google):
    fake, workspace_id = drive_setup(google)
    fake.upload_failures = [(403, "userRateLimitExceeded")]
    with pytest.raises(TransientDeliveryError, match="HTTP 403"):
        send_drive(DRIVE, values(), ONE, workspace_id, context())
    google[1].handle = UploadFails(fake, nth=2, status=500)
    with pytest.raises(TransientDeliveryError, match="1 of 2 files are uploaded") as failed:
        send_drive(DRIVE, values(), TWO, workspace_id, context())
    assert [f["report"] for f in failed.value.partial["files"]] == ["statement"]

    # The retry of that delivery uploads only what is missing.
    detail = send_drive(DRIVE, values(), TWO, workspace_id, context(partial=failed.value.partial))
    assert [f["name"] for f in fake.files] == [
        "5-statement-2026-10-01.pdf",
        "5-summary-2026-10-01.pdf",
    ]
    assert [f["report"] for f in detail["files"]] == ["statement", "summary"]


def test_a_drive_delivery_retried_after_a_partial_upload_uploads_only_the_rest(app, google, work):
    """Through the delivery service: the failed attempt's uploads are kept on the delivery, the
    retry completes them, and only a deliberate re-delivery uploads every file again."""
    fake, server, key = google
    ws = make.workspace()
    connection(ws, "google", "archive", {"key": key}, api_endpoint=server.base)
    editor = make.user("editor@example.com", ws, "editor")
    make.template(ws, "summary", "<p>Summary</p>")
    drive = {
        "kind": "drive",
        "service_account": "archive",
        "folder_id": "folder-123",
        "filename": "{people.name}-{report.code}.pdf",
    }
    job = make.people_job(
        ws,
        [{"name": "Ada"}],
        "<p>{{ people.name }}</p>",
        reports=[
            {"template": "letter", "bindings": {"person": {"column": "name"}}},
            {"template": "summary"},
        ],
        deliveries=[drive],
    )
    server.handle = failing = UploadFails(fake, nth=2, status=503)
    run_id = start_run(job, None).id
    work()
    (entry,) = entries_of(run_id)
    (delivery,) = entry.deliveries
    assert delivery.status == "pending" and "a retry uploads only the rest" in delivery.last_error
    assert [f["name"] for f in delivery.detail["partial"]["files"]] == ["Ada-letter.pdf"]

    deliver_entry(entry.id)  # the retry, as the clock's sweep queues it once it is due

    (entry,) = entries_of(run_id)
    (delivery,) = entry.deliveries
    assert (entry.status, delivery.status, delivery.attempts) == ("Completed", "sent", 2)
    assert failing.uploads == 3  # letter, summary (503), summary: the letter is not re-sent
    assert [f["name"] for f in fake.files] == ["Ada-letter.pdf", "Ada-summary.pdf"]
    assert [f["report"] for f in delivery.detail["files"]] == ["letter", "summary"]

    assert deliver_entries(reload_run(run_id), [entry.id], editor)["redelivered"] == 1
    work()
    assert [f["name"] for f in fake.files][2:] == ["Ada-letter.pdf", "Ada-summary.pdf"]


def test_drive_unreachable_endpoint_is_transient(app, google):
    _fake, _server, key = google
    ws = make.workspace()
    connection(
        ws, "google", "archive", {"key": key}, api_endpoint=f"http://127.0.0.1:{free_port()}"
    )
    # The token endpoint works; the Drive endpoint refuses connections.
    with pytest.raises(TransientDeliveryError, match="Google Drive: connection failed"):
        send_drive(DRIVE, values(), ONE, ws.id, context())


def test_drive_needs_a_service_account_key(app, google):
    ws = make.workspace()
    connection(ws, "google", "archive", {})
    with pytest.raises(DeliveryError, match="no service-account JSON key"):
        send_drive(DRIVE, values(), ONE, ws.id, context())
    connection(ws, "google", "user-key", {"key": json.dumps({"type": "authorized_user"})})
    config = DRIVE.model_copy(update={"service_account": "user-key"})
    with pytest.raises(DeliveryError, match="authorized_user key, not a service-account key"):
        send_drive(config, values(), ONE, ws.id, context())
    with pytest.raises(ValidationError):
        DriveDelivery(service_account="archive", folder_id="../etc")


def test_registry_lists_every_channel():
    assert set(CHANNEL_MODELS) == set(CHANNEL_SENDERS) == {"webhook", "slack", "teams", "drive"}
    for kind, model in CHANNEL_MODELS.items():
        assert model.model_fields["kind"].default == kind
        assert "condition" in model.model_fields


def test_a_job_with_a_webhook_delivery_posts_each_entry_with_a_working_link(
    app, serve, client, work
):
    """Through the real run path: job → workers → webhook → signed link → the PDF."""
    from app.runs.create import start_run
    from tests import factories as make
    from tests.helpers import entries_of

    server = serve(lambda request: Reply(200))
    ws = make.workspace()
    connection(ws, "webhook", "hook", {"secret": "s3cret"})
    job = make.people_job(
        ws,
        [{"name": "Ada"}, {"name": "Bob"}],
        "<p>{{ people.name }}</p>",
        deliveries=[
            {
                "kind": "webhook",
                "url": f"{server.base}/hook",
                "secret_connection": "hook",
                "include_pdf": False,
            }
        ],
    )
    run_id = start_run(job, None).id
    work()

    assert {e.status for e in entries_of(run_id)} == {"Completed"}
    bodies = [json.loads(r.body) for r in server.received]
    assert sorted(b["row"]["name"] for b in bodies) == ["Ada", "Bob"]
    for request, body in zip(server.received, bodies, strict=True):
        assert verify_signature(
            "s3cret",
            request.headers["x-herald-timestamp"],
            request.body,
            request.headers["x-herald-signature"],
        )
        link = body["reports"][0]["url"]
        assert link.startswith(app.config["BASE_URL"] + "/links/")
        pdf = client.get(link.removeprefix(app.config["BASE_URL"]))
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert client.get("/links/forged-token").status_code == 404


# --- what the channels answer (issue 13) -------------------------------------------------


def webhook_job(ws: Any, url: str, **delivery: Any) -> Any:
    config = {"kind": "webhook", "url": url, "include_pdf": False, **delivery}
    return make.people_job(ws, [{"name": "Ada"}], "<p>x</p>", deliveries=[config])


def only_delivery(run_id: int) -> Any:
    (entry,) = entries_of(run_id)
    (delivery,) = entry.deliveries
    return delivery


@pytest.mark.parametrize(
    ("status", "retry_after", "waits"),
    [(429, "120", 120), (503, "30", 30), (429, "3600", 600)],  # the last one capped
)
def test_retry_after_is_honoured_without_spending_an_attempt(
    app, serve, work, status, retry_after, waits
):
    app.config["RETRY_AFTER_MAX_SECONDS"] = 600
    server = serve(Reply(status, b"slow down", headers={"Retry-After": retry_after}))
    ws = make.workspace()
    run_id = start_run(webhook_job(ws, server.base), None).id
    before = utcnow()
    work()
    after = utcnow()

    delivery = only_delivery(run_id)
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert f"will retry in {waits} s as asked (Retry-After, deferral 1 of at most 10)" in (
        delivery.last_error
    )
    due = delivery.next_attempt_at
    assert before + timedelta(seconds=waits) <= due <= after + timedelta(seconds=waits)
    assert len(server.received) == 1


def test_a_receiver_answering_429_forever_fails_the_delivery_after_max_deferrals(app, serve, work):
    app.config |= {"RETRY_AFTER_MAX_SECONDS": 0, "MAX_DEFERRALS": 3}
    server = serve(Reply(429, b"slow down", headers={"Retry-After": "60"}))
    ws = make.workspace()
    editor = make.user("editor@example.com", ws, "editor")
    run_id = start_run(webhook_job(ws, server.base), None).id
    work()  # deferral 1
    (entry,) = entries_of(run_id)
    for deferral in (2, 3):
        deliver_entry(entry.id)  # due at once (waits are capped at 0 s here)
        delivery = only_delivery(run_id)
        assert (delivery.status, delivery.attempts) == ("pending", 0)
        assert f"(Retry-After, deferral {deferral} of at most 3)" in delivery.last_error
        assert delivery.detail["deferrals"] == deferral
    deliver_entry(entry.id)  # the fourth "later": no more

    (entry,) = entries_of(run_id)
    delivery = only_delivery(run_id)
    assert (entry.status, delivery.status) == ("DeliveryFailed", "failed")
    assert delivery.last_error.startswith(
        "gave up after 3 deferrals: the receiver answered busy (Retry-After) every time: "
    )
    assert "429" in delivery.last_error
    assert len(server.received) == 4

    # A person's Retry starts counting afresh: one more request, deferred, not failed.
    retry_delivery(delivery.id, editor)
    work()
    delivery = only_delivery(run_id)
    assert delivery.status == "pending" and delivery.detail["deferrals"] == 1
    assert len(server.received) == 5


def test_retry_after_as_an_http_date_is_read():
    now = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    headers = {"Retry-After": "Mon, 30 Nov 2026 06:02:00 GMT"}
    assert retry_after_seconds(headers, now) == 120
    assert retry_after_seconds({"Retry-After": "soon"}, now) is None
    assert retry_after_seconds({}, now) is None


def test_a_webhook_without_answer_after_sending_is_possibly_delivered_and_not_resent(
    app, serve, work
):
    server = serve(Reply(200, b"late", delay=1.5))
    ws = make.workspace()
    editor = make.user("editor@example.com", ws, "editor")
    run_id = start_run(webhook_job(ws, server.base, timeout_seconds=0.5), None).id
    work()

    delivery = only_delivery(run_id)
    assert delivery.status == "uncertain"
    assert "possibly delivered" in delivery.last_error
    assert "X-Herald-Delivery" in delivery.last_error
    assert entries_of(run_id)[0].status == "CompletedWithErrors"
    deliver_entry(delivery.entry_id)  # nothing due: not resent automatically
    assert len(server.received) == 1

    server.handle = lambda request: Reply(200)
    retry_delivery(delivery.id, editor)  # a person's choice, with the same delivery id
    work()
    assert only_delivery(run_id).status == "sent"
    assert len(server.received) == 2
    ids = {r.headers["x-herald-delivery"] for r in server.received}
    assert ids == {str(delivery.id)}  # the receiver can tell it is the same delivery


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        (Reply(200, b"1"), None),
        (Reply(202, b""), None),
        (
            Reply(
                200,
                b"Webhook message delivery failed with error: Microsoft Teams endpoint "
                b"returned HTTP error 413 with ContextId ...",
            ),
            DeliveryError,
        ),
        (
            Reply(200, b"Microsoft Teams endpoint returned HTTP error 429 with ContextId x"),
            TransientDeliveryError,
        ),
        (Reply(413, b"Payload Too Large"), DeliveryError),
    ],
)
def test_teams_answers_are_read_as_teams_defines_them(app, serve, answer, outcome):
    ws = make.workspace()
    server = serve(answer)
    connection(ws, "teams", "finance", {"url": server.base + "/webhookb2/abc"})
    config = TeamsDelivery(webhook_connection="finance", title="Statement")
    if outcome is None:
        detail = send_teams(config, values(), ONE, ws.id, context())
        assert detail["status"] == answer.status
    else:
        with pytest.raises(outcome) as caught:
            send_teams(config, values(), ONE, ws.id, context())
        assert type(caught.value) is outcome
        assert answer.body.decode()[:40] in str(caught.value)
    assert len(server.received) == 1


def test_long_chat_texts_are_trimmed_visibly_below_the_limits(app, serve):
    ws = make.workspace()
    slack, teams = serve(Reply(200, b"ok")), serve(Reply(200, b"1"))
    connection(ws, "slack", "s", {"url": slack.base})
    connection(ws, "teams", "t", {"url": teams.base})
    long = "é" * 50_000 + "END"

    send_slack(SlackDelivery(webhook_connection="s", text=long), values(), ONE, ws.id, context())
    sent = json.loads(slack.received[0].body)
    assert len(sent["text"]) == 40_000 and sent["text"].endswith("…")
    section = sent["blocks"][0]["text"]["text"]
    assert len(section) == 3000 and section.endswith("…")

    config = TeamsDelivery(webhook_connection="t", title="T", text=long)
    send_teams(config, values(), ONE, ws.id, context())
    body = teams.received[0].body
    assert 26_000 < len(body) <= 27_000  # trimmed to fit, not more
    card = json.loads(body)["attachments"][0]["content"]
    text = card["body"][1]["text"]
    assert text.endswith("…") and text.startswith("éé") and "END" not in text
    assert len(slack.received) == len(teams.received) == 1


def test_a_slack_413_fails_with_the_answer(app, serve):
    ws = make.workspace()
    server = serve(Reply(413, b"msg_too_long"))
    connection(ws, "slack", "s", {"url": server.base})
    with pytest.raises(DeliveryError, match="Slack: HTTP 413: msg_too_long") as caught:
        send_slack(SlackDelivery(webhook_connection="s", text="x"), values(), ONE, ws.id, context())
    assert not isinstance(caught.value, TransientDeliveryError)
    assert len(server.received) == 1


def test_drive_uploads_pdf_csv_and_xlsx_and_a_retry_uploads_only_the_rest(app, google, work):
    """A report's CSV and XLSX are files of their own, named by the pattern with their own
    extension; a partial upload is completed file by file (docs/OUTPUTS.md)."""
    fake, server, key = google
    ws = make.workspace()
    connection(ws, "google", "archive", {"key": key}, api_endpoint=server.base)
    make.json_source(ws, "lines", [{"item": "=cmd", "amount": "-1.5"}])
    drive = {
        "kind": "drive",
        "service_account": "archive",
        "folder_id": "folder-123",
        "filename": "{people.name}-{report.code}.pdf",
    }
    job = make.people_job(ws, [{"name": "Ada"}], "<p>{{ people.name }}</p>", deliveries=[drive])
    template = db.session.scalars(db.select(ReportTemplate).filter_by(code="letter")).one()
    template.data_sources = [{"alias": "lines", "source": "lines"}]
    job.reports = [
        {**job.reports[0], "formats": ["pdf", "csv", "xlsx"], "table_sections": ["lines"]}
    ]
    db.session.commit()
    server.handle = failing = UploadFails(fake, nth=2, status=503)
    run_id = start_run(job, None).id
    work()
    (entry,) = entries_of(run_id)
    (delivery,) = entry.deliveries
    assert [f["name"] for f in delivery.detail["partial"]["files"]] == ["Ada-letter.pdf"]

    deliver_entry(entry.id)

    (delivery,) = entries_of(run_id)[0].deliveries
    assert delivery.status == "sent" and failing.uploads == 4  # pdf, csv (503), csv, xlsx
    assert [(f["name"], f["type"]) for f in fake.files] == [
        ("Ada-letter.pdf", "application/pdf"),
        ("Ada-letter.csv", "text/csv"),
        ("Ada-letter.xlsx", XLSX_TYPE),
    ]
    assert fake.files[1]["content"] == b"item,amount\r\n'=cmd,-1.5\r\n"
    assert [f["format"] for f in delivery.detail["files"]] == ["pdf", "csv", "xlsx"]
