"""A live Herald on a local port, real worker processes, Debian's Chromium via Playwright."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.helpers import free_port, start_worker

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def live_server(app) -> Iterator[str]:
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


@pytest.fixture
def workers(app) -> Iterator[None]:
    processes = [start_worker(app) for _ in range(2)]
    yield
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(10)


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (./dev test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@contextmanager
def watched_page(browser, timezone_id: str = "UTC") -> Iterator[Any]:
    """A browser tab in a fresh context; on leaving, fails if any page it showed broke the
    Content-Security-Policy (Chromium reports each refused script, style or frame, inline
    style attributes set by scripts included, on the console)."""
    # A fixed browser zone: pages render times in it (app/web/timezones.py), whatever the host's.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id=timezone_id)
    page = context.new_page()
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    try:
        yield page
    finally:
        context.close()
    assert violations == [], "CSP violations:\n" + "\n".join(violations)


@pytest.fixture
def page(browser):
    """A browser tab in UTC; the test fails on any CSP report (`watched_page`)."""
    with watched_page(browser) as tab:
        yield tab


@pytest.fixture
def screenshot(page):
    ARTIFACTS.mkdir(exist_ok=True)
    return lambda name: page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def htmx_ready(locator) -> None:
    """Wait until htmx has wired up an element swapped in by a boosted navigation."""
    locator.wait_for()
    locator.evaluate(
        """el => new Promise(resolve => {
            const ready = () => el["htmx-internal-data"] && el["htmx-internal-data"].initHash;
            const poll = () => ready() ? resolve() : setTimeout(poll, 10);
            poll();
        })"""
    )
