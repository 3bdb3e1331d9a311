"""The template editor's live preview: rows per data section and the demo statement's chart."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pypdfium2

from app.extensions import db
from app.models import ReportTemplate
from tests.helpers import pdf_text

HX = {"HX-Request": "true"}
PAGE = "/w/demo/templates/customer-statement"
SECTIONS = ["customer", "transactions", "opening", "monthly"]


def statement_form(customer: str, period: str) -> dict:
    """The saved demo statement as the editor posts it, with sample values."""
    statement = db.session.scalars(db.select(ReportTemplate)).one()
    return {
        "name": statement.name,
        "code": statement.code,
        "html": statement.html,
        "css": statement.css,
        "param_name": ["customerId", "period"],
        "param_type": ["number", "date"],
        "param_required": ["0", "1"],
        "ds_alias": SECTIONS,
        "ds_source": SECTIONS,
        "sample.customerId": customer,
        "sample.period": period,
    }


def expected_counts(app, customer: int, period: str) -> dict[str, int]:
    """Each section's rows, counted in the demo database itself."""
    with sqlite3.connect(Path(app.instance_path) / "data" / "northwind.db") as conn:
        transactions = conn.execute(
            "SELECT count(*) FROM transactions WHERE customer_id = ? AND booked_on >= ? "
            "AND booked_on < date(?, '+1 month')",
            (customer, period, period),
        ).fetchone()[0]
        months = conn.execute(
            "SELECT count(DISTINCT substr(booked_on, 1, 7)) FROM transactions "
            "WHERE customer_id = ? AND booked_on >= date(?, '-5 months') "
            "AND booked_on < date(?, '+1 month')",
            (customer, period, period),
        ).fetchone()[0]
        found = conn.execute("SELECT count(*) FROM customers WHERE id = ?", (customer,))
        return {
            "customer": found.fetchone()[0],
            "transactions": transactions,
            "opening": 1,
            "monthly": months,
        }


def shown_counts(fragment: str) -> dict[str, int]:
    items = re.findall(r"<li[^>]*><code>(\w+)</code> ([\d,]+) rows?</li>", fragment)
    return {alias: int(count.replace(",", "")) for alias, count in items}


def latest_month(app) -> str:
    with sqlite3.connect(Path(app.instance_path) / "data" / "northwind.db") as conn:
        month = conn.execute("SELECT substr(max(booked_on), 1, 7) FROM transactions").fetchone()
    return f"{month[0]}-01"


def test_the_preview_counts_the_rows_of_each_data_section(auth, app, demo):
    auth.login()
    period = latest_month(app)
    fragment = auth.post(
        "/w/demo/templates/preview", statement_form("3", period), page=PAGE, headers=HX
    )
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "Rows per data section" in fragment.text
    assert "render warning" not in fragment.text  # the chart's SVG and CSS print as written
    counts = shown_counts(fragment.text)
    assert list(counts) == SECTIONS  # in the template's order
    assert counts == expected_counts(app, 3, period)
    assert counts["transactions"] > 1 and counts["monthly"] == 6

    # Another sample customer: counted again; an empty section is marked.
    nobody = auth.post(
        "/w/demo/templates/preview", statement_form("9999", period), page=PAGE, headers=HX
    )
    counts = shown_counts(nobody.text)
    assert counts == {"customer": 0, "transactions": 0, "opening": 1, "monthly": 0}
    assert '<li class="row-count-empty"><code>customer</code> 0 rows</li>' in nobody.text


def test_a_template_without_data_sections_shows_no_counts(auth, demo):
    auth.login()
    form = {"name": "Plain", "code": "plain", "html": "<p>Hello</p>", "css": ""}
    fragment = auth.post(
        "/w/demo/templates/preview", form, page="/w/demo/templates/new", headers=HX
    )
    assert fragment.status_code == 200 and 'src="data:application/pdf;base64,' in fragment.text
    assert "Rows per data section" not in fragment.text


def test_the_demo_statement_carries_its_six_month_chart(auth, client, app, demo):
    auth.login("viewer@herald.local")
    period = latest_month(app)
    url = f"{PAGE}/preview.pdf"
    response = client.get(url, query_string={"sample.customerId": "3", "sample.period": period})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    assert "Last six months (USD)" in text
    assert "Charges" in text and "Payments & credits" in text  # the legend
    assert len(pypdfium2.PdfDocument(response.data)) == 1  # the chart fits beside the amount due
