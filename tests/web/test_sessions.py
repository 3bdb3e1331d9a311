"""Sessions and headers: login throttling, logout that ends sessions server-side, bounded
remember cookies, and security headers on every response."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
import requests
from flask import g

from app.config import settings_from_env
from app.extensions import db
from app.models import User
from tests.helpers import FEW_CUSTOMERS, csrf_from
from tests.served import gunicorn

DEMO = "demo@herald.local"
PASSWORD = "herald-demo"


def _login(client, email=DEMO, password=PASSWORD, remember=False, address="127.0.0.1"):
    data = {"email": email, "password": password, "csrf_token": csrf_from(client, "/login")}
    if remember:
        data["remember"] = "1"
    return client.post("/login", data=data, environ_base={"REMOTE_ADDR": address})


# --- throttling -----------------------------------------------------------------------------


def test_failed_logins_are_throttled_per_account_even_for_the_right_password(
    app, client, demo, monkeypatch
):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "3 per 10 minutes")
    for _ in range(3):
        assert _login(client, password="wrong").status_code == 401
    response = _login(client)  # the right password, too late
    assert response.status_code == 429
    wait = int(response.headers["Retry-After"])
    assert 1 <= wait <= 601  # the window's 600 s, rounded up
    assert f"Too many failed attempts. Try again in {wait} s." in response.text
    assert 'role="alert"' in response.text  # beside the form, read out by screen readers
    assert _get(client, "/w/demo/jobs").status_code == 302  # not logged in
    # Another account from the same address is not locked out by this one.
    assert _login(client, email="viewer@herald.local").status_code == 302


def test_failed_logins_are_throttled_per_client_address(app, client, demo, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ADDRESS", "4 per 10 minutes")
    for n in range(4):  # a different account each time: only the address repeats
        assert _login(client, email=f"guess{n}@example.com", address="10.0.0.9").status_code == 401
    assert _login(client, address="10.0.0.9").status_code == 429
    assert _login(client, address="10.0.0.10").status_code == 302  # another address


def test_successful_logins_do_not_count(app, client, demo, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "2 per 10 minutes")
    for _ in range(4):
        assert _login(client).status_code == 302
        client.post("/logout", data={"csrf_token": csrf_from(client, "/tokens")})


def test_login_survives_a_redis_outage_and_still_throttles(app, demo):
    """Redis unreachable (nothing listens on its port): no 500, and failures are still counted
    (in the process's memory) — one worker process, so every request sees the same count."""
    dead_redis = "redis://127.0.0.1:9/0"  # the discard port: nothing answers
    env = {"REDIS_URL": dead_redis, "HERALD_LOGIN_LIMIT_PER_ACCOUNT": "3 per 10 minutes"}
    with gunicorn(app, workers=1, threads=1, env=env) as base:
        browser = requests.Session()

        def attempt(password: str) -> requests.Response:
            page = browser.get(base + "/login", timeout=30)
            assert page.status_code == 200
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]
            form = {"email": DEMO, "password": password, "csrf_token": token}
            return browser.post(base + "/login", data=form, allow_redirects=False, timeout=30)

        assert [attempt("wrong").status_code for _ in range(3)] == [401, 401, 401]
        refused = attempt(PASSWORD)
        assert refused.status_code == 429 and "Try again in" in refused.text


# --- sessions -------------------------------------------------------------------------------


def _get(client, url: str):
    """GET as a new request would: the tests share one app context, where Flask-Login keeps
    the user it loaded last (g._login_user); a real request starts without it."""
    g.pop("_login_user", None)
    return client.get(url)


def test_logout_ends_the_session_and_the_remember_cookie_server_side(app, client, demo):
    assert _login(client, remember=True).status_code == 302
    stolen = {c.key: c.value for c in client._cookies.values()}
    assert {"session", "remember_token"} <= set(stolen)
    assert (
        client.post("/logout", data={"csrf_token": csrf_from(client, "/tokens")}).status_code == 302
    )

    replay = app.test_client()
    for name, value in stolen.items():
        replay.set_cookie(name, value)
    assert _get(replay, "/w/demo/jobs").status_code == 302  # sent to the login page
    replay.delete_cookie("session")
    assert _get(replay, "/w/demo/jobs").status_code == 302  # the remember cookie alone neither


def test_a_new_password_ends_existing_sessions(app, client, demo):
    assert _login(client, remember=True).status_code == 302
    jobs = _get(client, "/w/demo/jobs")
    assert jobs.status_code == 200 and "Monthly Customer Statements" in jobs.text
    user = db.session.scalars(db.select(User).filter_by(email=DEMO)).one()
    user.set_password("a brand new passphrase")
    db.session.commit()
    assert _get(client, "/w/demo/jobs").status_code == 302


def test_the_remember_cookie_is_lax_http_only_and_bounded(app, client, demo):
    response = _login(client, remember=True)
    cookie = next(
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token=")
    )
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie)[1])
    days = app.config["REMEMBER_COOKIE_DURATION"].days
    assert days == 14
    assert expires <= datetime.now(UTC) + timedelta(days=days, minutes=1)
    assert "Secure" not in cookie  # http://localhost: a Secure cookie would never come back


@pytest.mark.parametrize(
    ("env", "secure"),
    [
        ({"HERALD_BASE_URL": "https://reports.example.com"}, True),
        ({"HERALD_BASE_URL": "http://localhost:8000"}, False),
        ({"HERALD_BASE_URL": "https://reports.example.com", "HERALD_SECURE_COOKIES": "0"}, False),
        ({"HERALD_SECURE_COOKIES": "1"}, True),
    ],
)
def test_secure_cookies_follow_the_base_url_unless_set(monkeypatch, tmp_path, env, secure):
    monkeypatch.delenv("HERALD_BASE_URL", raising=False)
    monkeypatch.delenv("HERALD_SECURE_COOKIES", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = settings_from_env(tmp_path)
    assert settings["SESSION_COOKIE_SECURE"] is secure
    assert settings["REMEMBER_COOKIE_SECURE"] is secure


# --- headers --------------------------------------------------------------------------------


def _assert_security_headers(response, frame: str = "'none'") -> None:
    csp = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert "unsafe" not in csp
    assert directives["frame-ancestors"] == frame
    assert response.headers["X-Frame-Options"] == ("DENY" if frame == "'none'" else "SAMEORIGIN")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_every_response_carries_the_security_headers(app, client, auth, demo):
    from tests.helpers import token_for

    auth.login()
    urls = ("/login", "/w/demo/jobs", "/static/herald.js", "/no-such-page", "/swagger/index.html")
    for url in urls:
        _assert_security_headers(client.get(url))
    token = token_for(DEMO, "demo", ["jobs:read"])
    api = client.get("/api/v1/ws/demo/jobs", headers={"Authorization": f"Bearer {token}"})
    _assert_security_headers(api)
    # A generated PDF is framed by Herald's own template preview, by nothing else.
    preview = client.get(
        "/w/demo/templates/customer-statement/preview.pdf",
        query_string={"sample.customerId": "1", "sample.period": "2026-10-01"},
    )
    assert preview.mimetype == "application/pdf"
    _assert_security_headers(preview, frame="'self'")


INLINE = re.compile(r"<script(?![^>]*\bsrc=)|<style|\son[a-z]+=|\sstyle=|hx-on", re.IGNORECASE)


@pytest.mark.customers(FEW_CUSTOMERS)
def test_pages_have_no_inline_scripts_handlers_or_styles(app, client, auth, demo, work):
    from app.runs.create import start_run
    from tests.helpers import job

    run = start_run(job(demo), None, params={"period": "2026-10-01"})
    work()
    assert not INLINE.search(client.get("/login").text)
    auth.login()
    pages = [
        "/w/demo/jobs",
        "/w/demo/jobs/monthly-statements",
        f"/w/demo/runs/{run.id}",
        "/w/demo/runs",
        "/w/demo/review",
        "/w/demo/templates/customer-statement",
        "/w/demo/sources",
        "/w/demo/connections",
        "/w/demo/connections/mail",
        "/tokens",
        "/swagger/index.html",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert not INLINE.search(response.text), (url, INLINE.search(response.text))
