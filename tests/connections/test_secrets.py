"""Connection secrets are encrypted at rest and never stored in plain settings."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.extensions import db
from app.models import Connection
from app.outbound.secrets import get_secrets
from tests import factories as make


def test_smtp_password_is_encrypted_at_rest(app):
    ws = make.workspace(
        smtp={"host": "mail.example.com", "port": 587, "password": "hunter2-very-secret"}
    )
    raw = db.session.execute(text("SELECT settings, secrets_encrypted FROM connections")).one()
    assert "hunter2" not in str(raw.settings)
    assert b"hunter2" not in bytes(raw.secrets_encrypted)
    connection = db.session.scalars(db.select(Connection).filter_by(workspace_id=ws.id)).one()
    assert get_secrets(connection) == {"password": "hunter2-very-secret"}


def test_a_changed_key_gives_a_clear_error(app, monkeypatch):
    make.workspace(smtp={"host": "mail.example.com", "password": "pw"})
    connection = db.session.scalars(db.select(Connection)).one()
    monkeypatch.setitem(app.config, "SECRET_KEY", "another key")
    with pytest.raises(RuntimeError, match="cannot be decrypted"):
        get_secrets(connection)
