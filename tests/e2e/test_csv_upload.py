"""In a real browser: upload a semicolon CSV, see the preview, pick the delimiter, save."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from app.datasources.fetch import parse_csv
from app.extensions import db
from app.models import DataSource
from tests.helpers import htmx_ready

# A German Excel export: `;` between cells, decimal commas, Windows-1252 (0x80 is €).
EXPORT = b"Kunde;Ort;Betrag\r\nM\xfcller GmbH;K\xf6ln;\x80 1.234,50\r\nCaf\xe9 Blau;Bonn\r\n"


def test_upload_preview_pick_the_delimiter_and_save(page, live_server, demo, tmp_path, screenshot):
    export = tmp_path / "kunden.csv"
    export.write_bytes(EXPORT)
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill("demo@herald.local")
    page.get_by_label("Password").fill("herald-demo")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server}/w/demo/sources")
    page.get_by_role("link", name="New CSV").click()
    htmx_ready(page.locator("#s-delimiter"))
    page.evaluate("window.__noReload = true")  # survives htmx swaps, not a page load

    page.get_by_label("Name", exact=True).fill("Kunden")
    page.get_by_label("Code").fill("kunden")
    page.get_by_label("Upload a CSV file").set_input_files(str(export))
    preview = page.locator("#rows")
    expect(preview.locator('[data-csv="encoding"]')).to_have_text("Windows-1252")
    expect(preview.locator('[data-csv="delimiter"]')).to_have_text("semicolon")
    expect(preview.locator("thead th")).to_have_text(["Kunde", "Ort", "Betrag"])
    expect(preview.locator("tbody tr").first.locator("td")).to_have_text(
        ["Müller GmbH", "Köln", "€ 1.234,50"]
    )
    expect(preview.locator("tbody tr").nth(1).locator("td")).to_have_text(["Café Blau", "Bonn", ""])
    screenshot("csv-1-preview")

    page.get_by_label("Delimiter").select_option("comma")
    expect(preview.get_by_role("alert")).to_have_text(
        "CSV line 2 has 2 cells but the header has 1 column"
    )
    screenshot("csv-2-comma-picked")
    page.get_by_label("Delimiter").select_option("semicolon")
    expect(preview.locator("thead th")).to_have_text(["Kunde", "Ort", "Betrag"])
    assert page.evaluate("window.__noReload") is True
    assert db.session.scalars(db.select(DataSource).filter_by(code="kunden")).first() is None

    page.get_by_role("button", name="Save data source").click()
    expect(page).to_have_url(re.compile(r"/w/demo/sources/kunden$"))
    expect(page.get_by_text("Data source “Kunden” created.")).to_be_visible()
    db.session.expire_all()
    saved = db.session.scalars(db.select(DataSource).filter_by(code="kunden")).one()
    assert parse_csv(saved.content) == [
        {"Kunde": "Müller GmbH", "Ort": "Köln", "Betrag": "€ 1.234,50"},
        {"Kunde": "Café Blau", "Ort": "Bonn", "Betrag": ""},
    ]
