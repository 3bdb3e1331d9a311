"""Saving connections (app/connections/service.py): admins only, errors per field that change
nothing, passwords kept or cleared in the encrypted secrets, one default SMTP server."""

from __future__ import annotations

from typing import Any

import pytest

from app.connections.service import get_connection, save_connection
from app.errors import Forbidden, NotFound, ValidationFailed
from app.extensions import db
from app.models import Connection
from app.outbound.secrets import get_secrets
from tests import factories as make

SMTP = {"host": "mail.example.com", "port": "587", "from": "reports@example.com"}


def smtp(ws, user=None, code: str = "mail", **kwargs: Any) -> Connection:
    kwargs.setdefault("password", None)
    settings = kwargs.pop("settings", SMTP)
    return save_connection(
        ws, user, kind="smtp", code=code, name="Mail", settings=settings, **kwargs
    )


def stored() -> list[tuple[str, dict, dict]]:
    db.session.expire_all()
    rows = db.session.scalars(db.select(Connection).order_by(Connection.code)).all()
    return [(c.code, c.settings, get_secrets(c)) for c in rows]


def test_every_bad_smtp_field_is_named_and_nothing_is_saved(app):
    ws = make.workspace()
    bad = {"host": "mail example", "port": "0", "from": "not an address", "use_tls": "on"}
    with pytest.raises(ValidationFailed) as caught:
        smtp(ws, settings={**bad, "use_ssl": "on"}, password="pw")
    assert set(caught.value.errors) == {"host", "port", "from", "use_ssl"}
    assert caught.value.errors["use_ssl"] == "choose STARTTLS or SSL, not both"
    assert stored() == []


def test_a_password_in_a_sql_url_moves_to_the_secrets_and_an_empty_one_keeps_it(app):
    ws = make.workspace()
    url = "postgresql://report:s3cret@db.example.com/sales"
    connection = save_connection(
        ws, None, kind="sql", code="db", name="Sales", settings={"url": url}, password=None
    )
    ((_, settings, secrets),) = stored()
    assert settings == {"url": "postgresql://report@db.example.com/sales"}
    assert secrets == {"password": "s3cret"}

    save_connection(
        ws,
        None,
        kind="sql",
        code="db",
        name="Sales",
        settings={"url": "postgresql://report@db.example.com/sales2"},
        password="",
        connection=connection,
    )
    assert stored() == [("db", {"url": "postgresql://report@db.example.com/sales2"}, secrets)]


def test_clearing_the_password_removes_it(app):
    ws = make.workspace()
    connection = smtp(ws, password="hunter2")
    assert stored()[0][2] == {"password": "hunter2"}
    smtp(ws, connection=connection, clear_password=True)
    assert stored()[0][2] == {}


def test_one_default_smtp_server_per_workspace(app):
    ws = make.workspace()
    first = smtp(ws, code="first", is_default=True)
    second = smtp(ws, code="second", is_default=True)
    db.session.expire_all()
    assert (first.is_default, second.is_default) == (False, True)


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_only_an_admin_saves_or_opens_a_connection(app, role):
    ws = make.workspace()
    user = make.user(f"{role}@acme.example", ws, role)
    smtp(ws)
    with pytest.raises(Forbidden):
        smtp(ws, user, code="other")
    with pytest.raises(Forbidden):
        get_connection(ws, "mail", user)
    assert [code for code, _, _ in stored()] == ["mail"]


def test_another_workspaces_connection_is_not_found_and_unchanged(app):
    acme, globex = make.workspace("acme"), make.workspace("globex")
    theirs = smtp(globex, password="theirs")
    with pytest.raises(NotFound):
        smtp(acme, connection=theirs, password="mine")
    with pytest.raises(NotFound):
        get_connection(acme, "mail", None)
    assert stored() == [("mail", theirs.settings, {"password": "theirs"})]


def test_a_taken_or_reserved_code_is_refused_beside_the_code(app):
    ws = make.workspace()
    smtp(ws)
    for code in ("mail", "new"):
        with pytest.raises(ValidationFailed) as caught:
            smtp(ws, code=code)
        assert list(caught.value.errors) == ["code"], code
    assert len(stored()) == 1
