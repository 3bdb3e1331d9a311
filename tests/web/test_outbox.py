"""The development Outbox shows a message only to admins of the workspace that sent it."""

from __future__ import annotations

import re
import smtplib
from email.message import EmailMessage

import pytest

from app.delivery.test_email import send_test_email
from app.extensions import db
from app.mailcatcher import start_catcher
from app.models import Connection, Workspace
from app.outbound.secrets import set_secrets
from tests import factories as make
from tests.helpers import free_port

LINK = re.compile(r'href="(/outbox/[^"/]+\.eml)"')


@pytest.fixture
def catcher(app, tmp_path, monkeypatch):
    port = free_port()
    controller = start_catcher(tmp_path / "outbox", port=port)
    monkeypatch.setitem(app.config, "OUTBOX_DIR", str(tmp_path / "outbox"))
    yield port
    controller.stop()


def _mail_through(ws: Workspace, port: int) -> Connection:
    mail = db.session.scalars(
        db.select(Connection).filter_by(workspace_id=ws.id, kind="smtp")
    ).one()
    mail.settings = {**mail.settings, "host": "127.0.0.1", "port": port}
    set_secrets(mail, {})
    db.session.commit()
    return mail


def test_each_admin_sees_only_their_workspace_mail(auth, client, demo, catcher, smtp_server):
    other = make.workspace("other", smtp=smtp_server.settings)
    make.user("boss@other.example", other, role="admin")
    send_test_email(demo, None, _mail_through(demo, catcher), "ann@example.com")
    send_test_email(other, None, _mail_through(other, catcher), "secret@other.example")
    stray = EmailMessage()  # not sent by Herald: no workspace header
    stray["From"], stray["To"], stray["Subject"] = "x@example.com", "y@example.com", "stray"
    stray.set_content("hello")
    with smtplib.SMTP("127.0.0.1", catcher) as smtp:
        smtp.send_message(stray)

    auth.login()  # the demo workspace's admin
    page = client.get("/outbox").text
    assert "1 messages caught" in page and "ann@example.com" in page
    assert "secret@other.example" not in page and "stray" not in page
    demo_message = LINK.search(page)[1]
    message = client.get(demo_message)
    assert message.status_code == 200
    assert "ann@example.com" in message.get_data(as_text=True)

    client.post("/logout", data={"csrf_token": _csrf(client)})
    auth.login("boss@other.example", make.PASSWORD)
    page = client.get("/outbox").text
    assert "1 messages caught" in page and "secret@other.example" in page
    assert "ann@example.com" not in page
    assert client.get(demo_message).status_code == 404
    assert client.get(demo_message + "/attachments/0").status_code == 404


def test_a_viewer_sees_no_mail(auth, client, demo, catcher):
    send_test_email(demo, None, _mail_through(demo, catcher), "ann@example.com")
    auth.login()
    message = LINK.search(client.get("/outbox").text)[1]
    client.post("/logout", data={"csrf_token": _csrf(client)})
    auth.login("viewer@herald.local")
    page = client.get("/outbox").text
    assert "ann@example.com" not in page and "0 messages caught" in page
    assert client.get(message).status_code == 404


def _csrf(client) -> str:
    page = client.get("/outbox").text
    return re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
