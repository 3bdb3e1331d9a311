"""The Reports step's files panel: formats, data sections for CSV/XLSX, CSV options."""

from __future__ import annotations

import re

from app.extensions import db
from app.models import JobDraft
from tests.web.test_wizard import STEP_DATA, new_draft, post_step

REPORT = {
    "r-0-template": "customer-statement",
    "r-0-b-customerId-kind": "column",
    "r-0-b-customerId-value": "id",
    "r-0-b-period-kind": "param",
    "r-0-b-period-value": "period",
    "r-0-outputs": "1",
}


def draft_up_to_reports(auth, client) -> str:
    base = new_draft(auth, client)
    for step in ("configuration", "parameters", "data-sources"):
        assert post_step(auth, base, step, STEP_DATA[step]).status_code == 303
    return base


def test_reports_step_offers_the_templates_sections(auth, client, demo):
    base = draft_up_to_reports(auth, client)
    page = post_step(auth, base, "reports", {"r-0-template": "customer-statement"}, "refresh")
    for alias in ("customer", "transactions", "opening"):
        assert f'name="r-0-section" value="{alias}"' in page.text
    assert re.search(r'name="r-0-format" value="pdf" checked', page.text)
    assert not re.search(r'name="r-0-format" value="csv" checked', page.text)


def test_bad_output_settings_show_beside_their_fields_and_change_nothing(auth, client, demo):
    base = draft_up_to_reports(auth, client)
    before = db.session.scalars(db.select(JobDraft)).one().data.get("reports")
    response = post_step(
        auth,
        base,
        "reports",
        {**REPORT, "r-0-format": ["pdf", "csv"], "r-0-csv-delimiter": "comma"},
    )
    assert response.status_code == 422
    assert 'id="err-reports-0-table_sections">pick the data section whose rows go into the CSV' in (
        response.text
    )
    response = post_step(
        auth,
        base,
        "reports",
        {**REPORT, "r-0-format": "csv", "r-0-section": "nope", "r-0-csv-delimiter": "pipe"},
    )
    assert response.status_code == 422
    assert re.search(r'id="err-reports-0-csv-delimiter">choose a comma', response.text)
    response = post_step(
        auth, base, "reports", {**REPORT, "r-0-format": "xlsx", "r-0-section": "nope"}
    )
    assert response.status_code == 422
    assert re.search(
        r"id=\"err-reports-0-table_sections\">template &#39;customer-statement&#39; has no data "
        r"section &#39;nope&#39;; it has &#39;customer&#39;, &#39;transactions&#39;",
        response.text,
    )
    response = post_step(auth, base, "reports", REPORT)  # no format ticked
    assert 'id="err-reports-0-formats">' in response.text
    db.session.expire_all()
    assert db.session.scalars(db.select(JobDraft)).one().data.get("reports") == before


def test_good_output_settings_are_kept_and_shown_again(auth, client, demo):
    base = draft_up_to_reports(auth, client)
    form = {
        **REPORT,
        "r-0-format": ["pdf", "csv", "xlsx"],
        "r-0-section": "transactions",
        "r-0-csv-delimiter": "tab",
        "r-0-csv-bom": "on",
    }
    assert post_step(auth, base, "reports", form).status_code == 303
    db.session.expire_all()
    [report] = db.session.scalars(db.select(JobDraft)).one().data["reports"]
    assert report["formats"] == ["pdf", "csv", "xlsx"]
    assert report["table_sections"] == ["transactions"]
    assert report["csv"] == {"delimiter": "\t", "bom": True}
    page = client.get(f"{base}/reports").text
    assert re.search(r'name="r-0-format" value="xlsx" checked', page)
    assert re.search(r'name="r-0-section" value="transactions" checked', page)
    assert re.search(r'<option value="tab" selected>', page)
    assert re.search(r'name="r-0-csv-bom" value="on" checked', page)


def test_dry_run_lists_the_csv_and_xlsx_and_attaches_them(auth, client, demo, mailbox):
    base = draft_up_to_reports(auth, client)
    form = {**REPORT, "r-0-format": ["pdf", "csv", "xlsx"], "r-0-section": "transactions"}
    assert post_step(auth, base, "reports", form).status_code == 303
    for step in ("schedule", "deliveries"):
        assert post_step(auth, base, step, STEP_DATA[step]).status_code == 303
    dry = auth.post(f"{base}/dry-run", page=f"{base}/review")
    assert dry.status_code == 200 and "Nothing was sent." in dry.text
    for name, fmt in (("customer-statement-1.csv", "csv"), ("customer-statement-1.xlsx", "xlsx")):
        link = re.search(rf'<a href="([^"]+/dry-run/0/{fmt}/{re.escape(name)})" download', dry.text)
        assert link, name  # each file listed, to download
        listed = rf"{re.escape(name)}</a> <span class=\"muted\">\({fmt.upper()}, "
        assert re.search(listed, dry.text)
        download = client.get(link[1])
        assert download.status_code == 200
        assert download.data.startswith(b"PK") if fmt == "xlsx" else b"\r\n" in download.data
    assert (
        "<dt>Attachments</dt><dd>customer-statement-1.pdf, customer-statement-1.csv, "
        "customer-statement-1.xlsx</dd>" in dry.text
    )
    assert mailbox.messages == []
