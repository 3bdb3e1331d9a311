"""Every route of the app, read from `app.url_map` (so a route added later is checked too):

- anonymous: a screen redirects to the login page, the API answers 401;
- a member of another workspace: 404 (a workspace is invisible to outsiders);
- a viewer on a write route (POST/PUT/PATCH/DELETE): 403.

Routes outside these rules are listed below with the reason; a route that is neither listed nor
fillable with the sample values fails the test, naming what is missing.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from app import create_app
from app.database import utcnow
from app.extensions import db
from app.jobs.drafts import start_draft
from app.models import (
    Artifact,
    Connection,
    DataSource,
    ReportTemplate,
    TemporaryFile,
    User,
)
from app.runs.create import start_run
from app.tokens import create_token
from tests import factories as make
from tests.helpers import csrf_from, entries_of, job, seed_demo_with, token_for

WRITE = {"POST", "PUT", "PATCH", "DELETE"}

# Endpoint -> why it is not behind a workspace member's login.
PUBLIC = {
    "static": "stylesheets, scripts and images of the login page itself",
    "auth.login": "where anonymous people are sent",
    "links.artifact": "a signed, expiring download link mailed to recipients",
    "swagger.swagger_ui": "the API's documentation page, readable before one has a token",
    "swagger.swagger_json": "the OpenAPI document, readable before one has a token",
    "system.healthz": "a load balancer's liveness probe: says only that the process is up",
    "system.readyz": "a load balancer's readiness probe: says only whether DB and Redis answer",
    "system.metrics": "Prometheus scrapes it with HERALD_METRICS_TOKEN; 404 while that is unset",
}
# Endpoint -> why it names no workspace (so "another workspace" does not apply to it).
NOT_IN_A_WORKSPACE = {
    "auth.home": "sends a person to their own workspace",
    "auth.logout": "ends one's own session",
    "auth.switch_workspace": "chooses among one's own workspaces (tested in test_sessions)",
    "tokens.index": "one's own tokens",
    "tokens.create": "a token for oneself, within one's role (app/tokens.py)",
    "tokens.revoke": "revokes one's own token (someone else's is a 404, test_tokens)",
    "outbox.index": "development mail catcher: filtered to the admin's workspaces (test_outbox)",
    "outbox.message": "development mail catcher: filtered to the admin's workspaces",
    "outbox.attachment": "development mail catcher: filtered to the admin's workspaces",
    "system.index": "the system page: admins of any workspace; entries named only in their own",
    "api.get_system": "the token's own workspace; a non-admin token gets 403 (test_system_api)",
}
# Write routes a viewer may use: they change nothing but the viewer's own things.
VIEWER_MAY_WRITE = {
    "auth.logout": "ends one's own session",
    "auth.switch_workspace": "chooses among one's own workspaces",
    "tokens.create": "a viewer may hold a read-only token",
    "tokens.revoke": "revokes one's own token",
    "resources.source_test": "runs a saved source's own query: its page offers viewers the test",
    "api.rule_fire_times": "a POST only to carry the rule: computes fire times, stores nothing",
}


@dataclass
class World:
    """The demo workspace with one of everything, a viewer in it and an outsider next door."""

    values: dict[str, Any]
    codes: dict[str, str]  # url prefix -> code of the thing named there


def _rules() -> list[Rule]:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "REDIS_URL": "redis://127.0.0.1:1",
        }
    )
    return sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, sorted(r.methods or ())))


RULES = _rules()
VIEWER = "viewer@example.com"
OUTSIDER = "outsider@example.com"


@pytest.fixture
def world(app: Flask, smtp_server: Any, work: Any) -> World:
    demo = seed_demo_with(smtp_server.settings, customers=1)
    admin = db.session.scalars(db.select(User).filter_by(email="demo@herald.local")).one()
    make.user(VIEWER, demo, "viewer")
    make.user(OUTSIDER, make.workspace("other"), "admin")
    statements = job(demo)
    run = start_run(statements, admin)
    work()
    (entry,) = entries_of(run.id)
    artifact = db.session.scalars(db.select(Artifact).filter_by(entry_id=entry.id)).first()
    assert artifact is not None and entry.deliveries, "the demo run made no artifact/delivery"
    file = TemporaryFile(
        id="5e0c5a52-3f0c-4d43-9a52-6f1a4b1f4a11",
        workspace_id=demo.id,
        kind="review-document",
        filename="review.pdf",
        expires_at=utcnow() + timedelta(days=1),
    )
    db.session.add(file)
    token, _ = create_token(admin, demo, name="t", permissions=["jobs:read"])
    draft = start_draft(demo, admin)
    db.session.commit()
    return World(
        values={
            "ws": "demo",
            "job": statements.code,
            "run_id": run.id,
            "entry_id": entry.id,
            "delivery_id": entry.deliveries[0].id,
            "artifact_id": artifact.id,
            "report_id": artifact.id,
            "filename": artifact.filename,
            "file_id": file.id,
            "draft_id": draft.id,
            "step": "configuration",
            "position": 0,
            "fmt": "csv",
            "token_id": token.id,
            "action": "approve",
            "name": "x.eml",
            "index": 0,
            "token": "not-a-signed-token",
        },
        codes={
            "connections": _first(Connection.code),
            "sources": _first(DataSource.code),
            "templates": _first(ReportTemplate.code),
            "jobs": statements.code,
        },
    )


def _first(column: Any) -> str:
    code = db.session.scalars(db.select(column).order_by(column)).first()
    assert code, f"the demo workspace has no {column}"
    return code


def _url(rule: Rule, world: World) -> str:
    values = dict(world.values)
    if "code" in rule.arguments:
        kind = re.search(r"/w/<ws>/(\w+)/<code>", rule.rule)
        assert kind and kind[1] in world.codes, f"{rule.rule}: which thing does <code> name?"
        values["code"] = world.codes[kind[1]]
    missing = rule.arguments - values.keys()
    assert not missing, f"{rule.rule}: add a sample value for {sorted(missing)} in test_access"
    return rule.build(values, append_unknown=False)[1]


def _is_api(rule: Rule) -> bool:
    return rule.rule.startswith("/api/")


def _login(client: FlaskClient, email: str) -> None:
    token = csrf_from(client, "/login")
    answer = client.post(
        "/login", data={"email": email, "password": make.PASSWORD, "csrf_token": token}
    )
    shown = re.sub(r"\s+", " ", answer.text)[-600:]
    assert answer.status_code in (302, 303), f"{email} could not log in: {shown}"


def _call(client: FlaskClient, method: str, url: str, *, csrf_page: str, api: str | None = None):
    """A request as a browser or API client sends it: forms carry the session's CSRF token."""
    if api is not None:
        return client.open(url, method=method, headers={"Authorization": f"Bearer {api}"}, json={})
    data = {"csrf_token": csrf_from(client, csrf_page)} if method in WRITE else None
    return client.open(url, method=method, data=data)


def _client(app: Flask) -> FlaskClient:
    """A new browser. Flask-WTF keeps the CSRF token it issued in `g`, which lives as long as
    the test's app context, so without this the new browser would be handed the old one's."""
    g.pop("csrf_token", None)
    return app.test_client()


def _routes(world: World, *, writes_only: bool = False) -> list[tuple[Rule, str, str]]:
    """(rule, method, url) for every route and method not listed as public."""
    found = []
    for rule in RULES:
        if rule.endpoint in PUBLIC:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if not writes_only or method in WRITE:
                found.append((rule, method, _url(rule, world)))
    return found


def test_the_route_table_is_read():
    endpoints = {rule.endpoint for rule in RULES}
    assert {"jobs.index", "api.list_jobs", "auth.login", "api.delete_job_definition"} <= endpoints
    assert set(PUBLIC) | set(NOT_IN_A_WORKSPACE) | set(VIEWER_MAY_WRITE) <= endpoints, (
        "an exception is listed for a route that no longer exists"
    )


def test_anonymous_people_are_sent_to_log_in_and_programs_get_401(app, world):
    wrong = []
    for rule, method, url in _routes(world):
        client = _client(app)
        if _is_api(rule):
            answer = _call(client, method, url, csrf_page="/login", api="")
            ok = answer.status_code == 401 and answer.json["error"]["code"] == "unauthorized"
        else:
            answer = _call(client, method, url, csrf_page="/login")
            ok = answer.status_code in (302, 303) and answer.location.startswith("/login?next=")
        if not ok:
            wrong.append(f"{method} {url}: {answer.status} {answer.location or ''}")
    assert wrong == []


def test_a_member_of_another_workspace_gets_404_everywhere_in_this_one(app, world):
    browser = _client(app)
    _login(browser, OUTSIDER)
    token = token_for(OUTSIDER, "other", ["jobs:read", "jobs:write"], name="access")
    wrong, checked = _answers_other_than(404, browser, token, _routes(world), NOT_IN_A_WORKSPACE)
    assert wrong == []
    assert checked > 50


def test_a_viewer_is_refused_every_write_with_403(app, world):
    browser = _client(app)
    _login(browser, VIEWER)
    token = token_for(VIEWER, "demo", ["jobs:read"], name="access")
    routes = _routes(world, writes_only=True)
    wrong, checked = _answers_other_than(403, browser, token, routes, VIEWER_MAY_WRITE)
    assert wrong == []
    assert checked > 30


def _answers_other_than(
    status: int,
    browser: FlaskClient,
    token: str,
    routes: list[tuple[Rule, str, str]],
    skipped: Collection[str],
) -> tuple[list[str], int]:
    """Call every route but the `skipped` endpoints as the logged-in `browser` (API routes
    with `token`): the answers that are not `status`, and how many routes were called."""
    wrong, checked = [], 0
    for rule, method, url in routes:
        if rule.endpoint in skipped:
            continue
        api = token if _is_api(rule) else None
        answer = _call(browser, method, url, csrf_page="/tokens", api=api)
        checked += 1
        if answer.status_code != status:
            wrong.append(f"{method} {url}: {answer.status}")
    return wrong, checked
