"""In a real browser at 390 px: every link of the main navigation can be seen and tapped."""

from __future__ import annotations

from playwright.sync_api import expect

from tests import factories as make
from tests.e2e.test_daily_screens import log_in

ADMIN = "admin@example.com"
LINKS = ["Jobs", "Runs", "Review", "Templates", "Data sources", "Connections", "Outbox", "API"]


def test_main_navigation_fits_a_phone_screen(
    app, page, live_server, screenshot, tmp_path, monkeypatch
):
    """The links wrap onto a second line instead of scrolling sideways out of sight (at
    390 px Connections, Outbox and API used to sit past the screen's edge, with no hint)."""
    monkeypatch.setitem(app.config, "OUTBOX_DIR", str(tmp_path))  # the Outbox link shows
    ws = make.workspace("acme")
    make.user(ADMIN, ws, "admin")
    log_in(page, live_server, ADMIN)
    page.set_viewport_size({"width": 390, "height": 844})
    nav = page.get_by_role("navigation", name="Main")
    for name in LINKS:
        link = nav.get_by_role("link", name=name, exact=True)
        expect(link).to_be_in_viewport(ratio=1)
        box = link.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, (name, box)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("navigation-390")
    nav.get_by_role("link", name="Outbox", exact=True).click()
    expect(page.get_by_role("heading", name="Outbox")).to_be_visible()
