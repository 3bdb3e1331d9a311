"""In a real browser, under Herald's Content-Security-Policy: the page fixture fails the test
on any CSP violation Chromium reports."""

from __future__ import annotations

from playwright.sync_api import expect


def test_swagger_ui_runs_under_the_csp(page, live_server):
    page.goto(f"{live_server}/swagger/index.html")
    expect(page.get_by_text("Start a run").first).to_be_visible(timeout=30_000)


def test_an_inline_script_is_refused_and_reported(browser, live_server):
    """What the page fixture listens for is real: an injected inline script does not run and
    Chromium reports the violation on the console."""
    context = browser.new_context()
    page = context.new_page()
    seen: list[str] = []
    page.on("console", lambda message: seen.append(message.text))
    page.goto(f"{live_server}/login")
    page.evaluate(
        """() => { const s = document.createElement('script');
                   s.textContent = 'window.__ran = true'; document.body.append(s); }"""
    )
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert page.evaluate("window.__ran") is None
    assert any("Content Security Policy" in text for text in seen)
    context.close()
