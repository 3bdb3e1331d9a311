"""The SMTP connection's "Send test email": one short message over a fresh SMTP session."""

from __future__ import annotations

from app.access import require
from app.connections.settings import literal_addresses
from app.delivery.email import compose, send_now
from app.models import Connection, Role, User, Workspace
from app.outbound.errors import DeliveryError
from app.outbound.secrets import get_secrets

TEST_MESSAGE = (
    "<p>This is a test message from Herald.</p>"
    "<p>It was sent through the SMTP connection <strong>{name}</strong> ({code}) of the "
    "workspace {workspace}. If you can read it, reports will be delivered the same way.</p>"
)


def send_test_email(
    workspace: Workspace, user: User | None, connection: Connection, to: str
) -> None:
    """Send a short message to `to` over the SMTP connection, on a fresh SMTP session.

    Raises DeliveryError saying why it could not be sent."""
    if user is not None:
        require(user, workspace, Role.admin)
    if connection.workspace_id != workspace.id or connection.kind != "smtp":
        raise DeliveryError("not an SMTP connection of this workspace")
    recipients = literal_addresses("To", to or "")
    if len(recipients) != 1:
        raise DeliveryError("enter one address to send the test to")
    settings = connection.settings
    sender = literal_addresses("From", settings.get("from", ""))
    if not sender:
        raise DeliveryError("the connection has no From address")
    reply_to = literal_addresses("Reply-To", settings.get("reply_to", ""))
    try:
        secrets = get_secrets(connection)
    except RuntimeError as exc:
        raise DeliveryError(str(exc)) from None
    body = TEST_MESSAGE.format(name=connection.name, code=connection.code, workspace=workspace.name)
    message = compose(
        sender=sender[0],
        to=recipients,
        reply_to=reply_to,
        subject="Herald test email",
        body_html=body,
    )
    # A refused or deferred recipient is the test's answer.
    send_now(message, settings, secrets, workspace.id)
