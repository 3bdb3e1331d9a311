"""Building workspaces, people, sources, templates and jobs for tests."""

from __future__ import annotations

import json
from typing import Any

from app.extensions import db
from app.jobs.service import create_job
from app.models import Connection, DataSource, Job, Membership, ReportTemplate, User, Workspace
from app.outbound.secrets import set_secrets

PASSWORD = "correct horse battery"


def workspace(code: str = "acme", smtp: dict[str, Any] | None = None) -> Workspace:
    ws = Workspace(code=code, name=code.title())
    db.session.add(ws)
    db.session.flush()
    if smtp is not None:
        connection = Connection(
            workspace_id=ws.id,
            code="mail",
            name="Mail",
            kind="smtp",
            is_default=True,
            settings={k: v for k, v in smtp.items() if k != "password"},
        )
        set_secrets(connection, {"password": smtp.get("password", "")})
        db.session.add(connection)
    db.session.commit()
    return ws


def user(email: str, ws: Workspace | None = None, role: str = "editor") -> User:
    person = db.session.scalars(db.select(User).filter_by(email=email)).first()
    if person is None:
        person = User(email=email, name=email.split("@")[0])
        person.set_password(PASSWORD)
        db.session.add(person)
        db.session.flush()
    if ws is not None:
        db.session.add(Membership(user_id=person.id, workspace_id=ws.id, role=role))
    db.session.commit()
    return person


def json_source(ws: Workspace, code: str, rows: list[dict[str, Any]] | dict) -> DataSource:
    source = DataSource(
        workspace_id=ws.id, code=code, name=code, kind="json", content=json.dumps(rows)
    )
    db.session.add(source)
    db.session.commit()
    return source


def sql_connection(ws: Workspace, url: str, code: str = "db") -> Connection:
    connection = Connection(
        workspace_id=ws.id, code=code, name=code, kind="sql", settings={"url": url}
    )
    db.session.add(connection)
    db.session.commit()
    return connection


def sql_source(ws: Workspace, code: str, connection: Connection, query: str) -> DataSource:
    source = DataSource(
        workspace_id=ws.id,
        code=code,
        name=code,
        kind="sql",
        connection_id=connection.id,
        query=query,
    )
    db.session.add(source)
    db.session.commit()
    return source


def template(
    ws: Workspace,
    code: str,
    html: str,
    parameters: list[dict[str, Any]] | None = None,
    data_sources: list[dict[str, Any]] | None = None,
    css: str = "",
) -> ReportTemplate:
    item = ReportTemplate(
        workspace_id=ws.id,
        code=code,
        name=code.title(),
        html=html,
        css=css,
        parameters=parameters or [],
        data_sources=data_sources or [],
    )
    db.session.add(item)
    db.session.commit()
    return item


def job(ws: Workspace, **definition: Any) -> Job:
    definition.setdefault("code", "test-job")
    definition.setdefault("name", "Test job")
    return create_job(ws, None, definition)


def people_job(ws: Workspace, rows: list[dict[str, Any]], html: str, **extra: Any) -> Job:
    """A job bursting `rows` (alias `people`) through one template that sees `person`."""
    json_source(ws, "people", rows)
    template(ws, "letter", html, parameters=[{"name": "person", "type": "string"}])
    definition: dict[str, Any] = {
        "data_sources": [{"alias": "people", "source": "people", "repeating": True}],
        "reports": [{"template": "letter", "bindings": {"person": {"column": "name"}}}],
    }
    definition.update(extra)
    return job(ws, **definition)


def mailing_job(
    ws: Workspace, rows: list[dict[str, Any]], html: str = "<p>{{ people.name }}</p>", **extra: Any
) -> Job:
    """`people_job` with one Email delivery to each row's `email`."""
    delivery = {"kind": "email", "to": "{people.email}", "subject": "s", "message": "m"}
    return people_job(ws, rows, html, deliveries=[delivery], **extra)


FAILING_PEOPLE = [{"name": n, "email": f"{n.lower()}@example.com"} for n in ("Ada", "Bob", "Cy")]
# Bob's letter cannot be rendered: a run of this job ends with one error of three entries.
BREAKS_FOR_BOB = "<p>{{ people.name }}{% if people.name == 'Bob' %}{{ 1 / 0 }}{% endif %}</p>"


def job_failing_for_bob(ws: Workspace, owner: User) -> Job:
    """Job `statements` owned by `owner`: one letter per row of FAILING_PEOPLE, Bob's failing."""
    json_source(ws, "people", FAILING_PEOPLE)
    template(ws, "letter", BREAKS_FOR_BOB, parameters=[{"name": "person", "type": "string"}])
    definition = {
        "code": "statements",
        "name": "Statements",
        "data_sources": [{"alias": "people", "source": "people", "repeating": True}],
        "reports": [{"template": "letter", "bindings": {"person": {"column": "name"}}}],
    }
    return create_job(ws, owner, definition)
