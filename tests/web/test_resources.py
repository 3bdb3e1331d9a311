"""Screens for report templates, data sources and connections: forms, previews, tests, roles."""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import sqlite3
from pathlib import Path

import pytest

from app.demo.seed import QUERIES
from app.extensions import db
from app.models import Connection, DataSource, ReportTemplate
from app.outbound.secrets import get_secrets, set_secrets
from tests import factories as make
from tests.helpers import pdf_text

HX = {"HX-Request": "true"}


def northwind(app) -> sqlite3.Connection:
    return sqlite3.connect(Path(app.instance_path) / "data" / "northwind.db")


def customer_one(app) -> tuple[str, str]:
    """The name of customer 1 and the first month in which it has transactions."""
    with northwind(app) as conn:
        name = conn.execute("SELECT name FROM customers WHERE id = 1").fetchone()[0]
        month = conn.execute(
            "SELECT substr(min(booked_on), 1, 7) FROM transactions WHERE customer_id = 1"
        ).fetchone()[0]
    return name, f"{month}-01"


def count(model, **where) -> int:
    return len(db.session.scalars(db.select(model).filter_by(**where)).all())


def count_one(model, **where):
    return db.session.scalars(db.select(model).filter_by(**where)).one()


def template_form(**fields) -> dict:
    form = {
        "name": "Welcome letter",
        "code": "welcome",
        "html": "<h1>Hello {{ params.who }}</h1>\n<p>{{ people | length }} people</p>",
        "css": "h1 { color: navy; }",
        "param_name": ["who", ""],
        "param_type": ["string", "string"],
        "param_required": ["0"],
        "ds_alias": ["people", ""],
        "ds_source": ["customers", ""],
    }
    return {**form, **fields}


# ---- Report templates ---------------------------------------------------------------------


def test_a_template_is_created_and_edited_through_the_form(auth, client, demo):
    auth.login()
    response = auth.post("/w/demo/templates/new", template_form())
    assert response.status_code == 303
    assert response.headers["Location"] == "/w/demo/templates/welcome"
    saved = db.session.scalars(db.select(ReportTemplate).filter_by(code="welcome")).one()
    assert saved.parameters == [{"name": "who", "type": "string", "required": True}]
    assert saved.data_sources == [{"alias": "people", "source": "customers"}]

    listing = client.get("/w/demo/templates").text
    assert 'href="/w/demo/templates/welcome">Welcome letter<' in listing

    page = client.get("/w/demo/templates/welcome").text
    assert 'name="param_name" value="who"' in page
    edited = template_form(
        name="Welcome note",
        param_name=["who", "when"],
        param_type=["string", "date"],
        param_required=["1"],
    )
    response = auth.post("/w/demo/templates/welcome", edited)
    assert response.status_code == 303
    db.session.expire_all()
    assert saved.name == "Welcome note"
    assert saved.parameters == [
        {"name": "who", "type": "string", "required": False},
        {"name": "when", "type": "date", "required": True},
    ]
    assert "Welcome note" in client.get("/w/demo/templates").text


def test_a_template_syntax_error_is_shown_beside_the_html_and_nothing_is_saved(auth, demo):
    auth.login()
    broken = "<h1>Hello</h1>\n<p>{{ params.who }</p>\n"
    response = auth.post("/w/demo/templates/new", template_form(html=broken))
    assert response.status_code == 422
    assert re.search(r'id="t-html-error">line 2: [^<]+<', response.text)
    assert re.search(r'<textarea id="t-html"[^>]*aria-invalid="true"', response.text)
    assert 'aria-describedby="t-html-error' in response.text
    assert "{{ params.who }&lt;/p&gt;" in response.text  # what was typed comes back
    assert count(ReportTemplate, code="welcome") == 0


def test_bad_parameter_rows_and_a_duplicate_code_are_refused_per_field(auth, demo):
    auth.login()
    form = template_form(
        code="customer-statement",
        param_name=["who", "who", "1st"],
        param_type=["string", "string", "string"],
        ds_alias=["params"],
        ds_source=["nope"],
    )
    response = auth.post("/w/demo/templates/new", form)
    assert response.status_code == 422
    text = response.text
    assert "another template already has the code" in text
    assert 'id="p-name-1-error">&#39;who&#39; is declared twice<' in text
    assert 'id="p-name-2-error">Name may use letters, digits and _' in text
    assert 'id="d-alias-0-error">&#39;params&#39; is reserved' in text
    assert 'id="d-source-0-error">no data source &#39;nope&#39;' in text
    assert count(ReportTemplate) == 1


def test_the_saved_statement_previews_as_a_pdf_of_the_sample_customer(auth, client, app, demo):
    name, period = customer_one(app)
    auth.login("viewer@herald.local")
    page = client.get("/w/demo/templates/customer-statement").text
    assert 'id="preview-form"' in page and "Save template" not in page
    url = "/w/demo/templates/customer-statement/preview.pdf"
    response = client.get(url, query_string={"sample.customerId": "1", "sample.period": period})
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert name in pdf_text(response.data)


def test_the_live_preview_renders_unsaved_edits(auth, client, app, demo):
    name, period = customer_one(app)
    auth.login()
    statement = db.session.scalars(db.select(ReportTemplate)).one()
    form = template_form(
        html=statement.html.replace("since 1987", "since yesterday"),
        css=statement.css,
        param_name=["customerId", "period"],
        param_type=["number", "date"],
        param_required=["0", "1"],
        ds_alias=["customer", "transactions", "opening"],
        ds_source=["customer", "transactions", "opening"],
    )
    form |= {"sample.customerId": "1", "sample.period": period}
    page = "/w/demo/templates/customer-statement"
    pdf = auth.post("/w/demo/templates/preview", form, page=page)
    assert pdf.mimetype == "application/pdf"
    assert name in pdf_text(pdf.data)
    assert "since yesterday" in pdf_text(pdf.data)  # the unsaved text, not the saved one

    fragment = auth.post("/w/demo/templates/preview", form, page=page, headers=HX)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert '<div id="preview"' in fragment.text
    assert 'src="data:application/pdf;base64,' in fragment.text
    assert "HX-Request" in fragment.headers["Vary"]

    wrong = auth.post("/w/demo/templates/preview", {**form, "sample.period": "May"}, page=page)
    assert "parameter &#39;period&#39;: &#39;May&#39; is not a date" in wrong.text


def test_the_live_preview_warns_of_characters_no_font_can_draw(auth, demo):
    auth.login()
    page = "/w/demo/templates/new"
    form = template_form(html="<h1>Hello {{ params.who }}</h1>", param_name=["who"])
    drawn = auth.post(
        "/w/demo/templates/preview", {**form, "sample.who": "张伟 สมชาย"}, page=page, headers=HX
    )
    assert 'src="data:application/pdf;base64,' in drawn.text
    assert "could not be drawn" not in drawn.text

    boxed = auth.post(
        "/w/demo/templates/preview", {**form, "sample.who": "Ada \ue000"}, page=page, headers=HX
    )
    assert boxed.status_code == 200 and 'src="data:application/pdf;base64,' in boxed.text
    assert '<div class="flash warning render-warnings" role="status">' in boxed.text
    assert "Choose a font that has them" in boxed.text
    assert "1 character could not be drawn: \ue000 (U+E000)" in boxed.text


def test_the_live_preview_lists_css_that_does_nothing_in_print(auth, demo):
    auth.login()
    form = template_form(
        html="<p>Hello</p>",
        css="p { color: navy; cursor: pointer; }\n@media screen { p {} }",
        **{"sample.who": "Ada"},
    )
    response = auth.post(
        "/w/demo/templates/preview", form, page="/w/demo/templates/new", headers=HX
    )
    assert response.status_code == 200 and 'src="data:application/pdf;base64,' in response.text
    assert "<strong>2 render warnings</strong>" in response.text
    assert (
        "<li>CSS line 1: `cursor: pointer` is ignored: the property does not apply in print</li>"
        in response.text
    )
    assert "<li>CSS line 2: `@media screen` never applies in print" in response.text


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>{{ ''.__class__.__mro__ }}</p>", "unsafe"),
        ("<p>ok</p>\n<p>{% for x in %}</p>", "Line <strong>2</strong>"),
        ("<img src=\"{{ asset_url('Logo 2.png') }}\">", "missing asset &#39;Logo 2.png&#39;"),
    ],
)
def test_a_failing_preview_returns_the_error_fragment(auth, demo, html, expected):
    auth.login()
    form = template_form(html=html, ds_alias=[], ds_source=[], **{"sample.who": "Ada"})
    for headers, status in (({}, 422), (HX, 200)):
        response = auth.post(
            "/w/demo/templates/preview", form, page="/w/demo/templates/new", headers=headers
        )
        assert response.status_code == status
        assert not response.data.startswith(b"%PDF")
        assert "<html" not in response.text
        assert '<div id="preview" class="preview preview-error" role="alert">' in response.text
        assert expected in response.text


def test_a_preview_without_a_required_sample_says_which(auth, client, demo):
    auth.login()
    response = client.get(
        "/w/demo/templates/customer-statement/preview.pdf?sample.period=2026-10-01"
    )
    assert response.status_code == 422
    assert "enter a sample value for parameter &#39;customerId&#39;" in response.text


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("<h1>Hi</h1>\n<p>{{ params.whom }}</p>", "line 2: params.whom is not a parameter"),
        ("<p>{{ ''.__class__.__mro__ }}</p>", "line 1: the sandbox refuses &#39;__"),
        ("<p>ok</p>\n<p>{{ cycler.mro() }}</p>", "line 2: access to attribute &#39;mro&#39;"),
        ("{% for p in people %}{{ p.name }}{% endfor %}\n{{ joiner.mro }}", "line 2: access"),
    ],
)
def test_a_template_the_sandbox_refuses_is_not_saved(auth, demo, html, error):
    auth.login()
    response = auth.post("/w/demo/templates/new", template_form(html=html, **{"sample.who": "Ada"}))
    assert response.status_code == 422
    assert re.search(r'id="t-html-error">' + re.escape(error), response.text), response.text
    assert count(ReportTemplate, code="welcome") == 0
    edit = auth.post(
        "/w/demo/templates/customer-statement",
        template_form(code="customer-statement", name="Customer statement", html=html),
    )
    assert edit.status_code == 422
    db.session.expire_all()
    statement = db.session.scalars(db.select(ReportTemplate)).one()
    assert statement.name == "Customer statement" and "{{ params" not in statement.html[:200]


def test_a_template_using_the_jobs_names_and_data_dependent_filters_is_saved(auth, demo):
    """What the sandbox decides only with a job's rows (its aliases, empty data) is no
    refusal: the preview shows it with real values."""
    auth.login()
    html = (
        "<p>{{ customers.name }} {{ (people | first).name }} {{ customers.since | date }}</p>"
        "<p>{{ params.get('who') }} {{ run.id }} {{ data.source }}</p>"
    )
    response = auth.post("/w/demo/templates/new", template_form(html=html))
    assert response.status_code == 303, response.text
    assert count(ReportTemplate, code="welcome") == 1


@pytest.mark.parametrize("samples", [{}, {"sample.customerId": "1", "sample.period": "x"}])
def test_the_demo_statement_saves_as_it_is(auth, app, demo, samples):
    _, period = customer_one(app)
    auth.login()
    statement = db.session.scalars(db.select(ReportTemplate)).one()
    form = template_form(
        code=statement.code,
        name=statement.name,
        html=statement.html,
        css=statement.css,
        param_name=["customerId", "period"],
        param_type=["number", "date"],
        param_required=["0", "1"],
        ds_alias=["customer", "transactions", "opening"],
        ds_source=["customer", "transactions", "opening"],
    )
    samples = {k: period if v == "x" else v for k, v in samples.items()}
    response = auth.post("/w/demo/templates/customer-statement", {**form, **samples})
    assert response.status_code == 303, response.text


# ---- Data sources -------------------------------------------------------------------------

PEOPLE_CSV = b"name,email\nAda Lovelace,ada@example.com\nGrace Hopper,grace@example.com\n"


def test_an_uploaded_csv_is_saved_and_its_test_shows_the_rows(auth, client, demo):
    auth.login()
    response = auth.post(
        "/w/demo/sources/new?kind=csv",
        {
            "name": "People",
            "code": "people",
            "kind": "csv",
            "content": "",
            "file": (io.BytesIO(PEOPLE_CSV), "people.csv"),
        },
        page="/w/demo/sources/new?kind=csv",
    )
    assert response.status_code == 303
    source = db.session.scalars(db.select(DataSource).filter_by(code="people")).one()
    assert source.kind == "csv" and "Grace Hopper" in source.content
    assert 'href="/w/demo/sources/people">People<' in client.get("/w/demo/sources").text

    fragment = auth.post("/w/demo/sources/people/test", page="/w/demo/sources/people", headers=HX)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert fragment.text.lstrip().startswith('<section id="rows"')
    assert "2 rows; columns: <code>name</code>, <code>email</code>" in fragment.text
    assert "<td>Ada Lovelace</td><td>ada@example.com</td>" in fragment.text


def test_a_malformed_csv_is_refused_beside_the_field(auth, demo):
    auth.login()
    response = auth.post(
        "/w/demo/sources/new?kind=csv",
        {
            "name": "People",
            "code": "people",
            "kind": "csv",
            "file": (io.BytesIO(b"name,email\nAda,ada@example.com,oops\n"), "people.csv"),
        },
        page="/w/demo/sources/new?kind=csv",
    )
    assert response.status_code == 422
    assert (
        'id="s-content-error">CSV line 2 has 3 cells but the header has 2 columns<' in response.text
    )
    assert re.search(r'<input id="s-file"[^>]*aria-invalid="true"', response.text)
    assert count(DataSource, code="people") == 0


EXCEL_UNICODE_TEXT = codecs.BOM_UTF16_LE + (
    'Name\tCity\tNote\r\nZoë Ångström\tMünchen\t"first line\nsecond line"\r\nBob\tLyon\r\n'
).encode("utf-16-le")
CP1252_SEMICOLON = b"name;city;amount\r\nM\xfcller;Caf\xe9;\x80 12,50\r\n"


def csv_upload(data: bytes, filename: str = "people.csv", **fields) -> dict:
    form = {"name": "People", "code": "people", "kind": "csv", "content": ""}
    return {**form, **fields, "file": (io.BytesIO(data), filename)}


def preview(auth, data: bytes, headers=HX, **fields):
    return auth.post(
        "/w/demo/sources/test",
        csv_upload(data, **fields),
        page="/w/demo/sources/new?kind=csv",
        headers=headers,
    )


def test_a_csv_preview_shows_how_the_file_was_read_and_saves_nothing(auth, demo):
    auth.login()
    fragment = preview(auth, EXCEL_UNICODE_TEXT, filename="people.txt")
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert fragment.text.lstrip().startswith('<section id="rows"')
    assert '<strong data-csv="encoding">UTF-16 LE</strong>' in fragment.text
    assert '<strong data-csv="delimiter">tab</strong>' in fragment.text
    assert "2 rows; columns: <code>Name</code>, <code>City</code>, <code>Note</code>" in (
        fragment.text
    )
    assert "<td>Zoë Ångström</td><td>München</td><td>first line\nsecond line</td>" in (
        fragment.text
    )
    assert "<td>Bob</td><td>Lyon</td><td></td>" in fragment.text  # the short row
    assert count(DataSource, code="people") == 0


def test_the_picked_delimiter_changes_the_preview(auth, demo):
    auth.login()
    data = b"name;note\nAda;a,b\n"
    detected = preview(auth, data)
    assert "1 row; columns: <code>name</code>, <code>note</code>" in detected.text
    picked = preview(auth, data, delimiter="comma")
    assert "CSV line 2 has 2 cells but the header has 1 column" in picked.text
    picked = preview(auth, b"name|note\nAda|a;b\n", delimiter="pipe")
    assert '<strong data-csv="delimiter">pipe</strong>' in picked.text
    assert "<td>Ada</td><td>a;b</td>" in picked.text


def test_a_preview_without_javascript_is_the_whole_page_with_the_text_kept(auth, demo):
    auth.login()
    page = preview(auth, CP1252_SEMICOLON, headers={})
    assert page.status_code == 200 and "<html" in page.text
    assert '<strong data-csv="encoding">Windows-1252</strong>' in page.text
    assert "<td>Müller</td><td>Café</td><td>€ 12,50</td>" in page.text
    # The file input comes back empty: its decoded text fills the box, so Save keeps it.
    assert "name;city;amount\nMüller;Café;€ 12,50\n</textarea>" in page.text
    assert '<option value="auto" selected>Detect</option>' in page.text

    broken = preview(auth, b"id;name\n1;B\x81ob\n", headers={})
    assert broken.status_code == 422
    expected = "CSV line 2 cannot be read: byte 0x81 is not UTF-8 or Windows-1252 text"
    assert f'id="s-content-error">{expected}<' in broken.text
    assert count(DataSource, code="people") == 0


@pytest.mark.parametrize(
    ("data", "filename", "rows"),
    [
        (b"id;name\n1;Ada\n2;Bob\n", "people.csv", [["1", "Ada"], ["2", "Bob"]]),
        (CP1252_SEMICOLON, "people.csv", [["Müller", "Café", "€ 12,50"]]),
        (
            EXCEL_UNICODE_TEXT,
            "people.txt",
            [["Zoë Ångström", "München", "first line\nsecond line"], ["Bob", "Lyon", ""]],
        ),
        (b"id|name\n1|Ada\n", "people.csv", [["1", "Ada"]]),
        (codecs.BOM_UTF8 + "id,name\n1,Zoë\n".encode(), "people.csv", [["1", "Zoë"]]),
    ],
)
def test_an_uploaded_spreadsheet_export_is_saved_as_comma_csv(
    auth, client, demo, data, filename, rows
):
    auth.login()
    response = auth.post(
        "/w/demo/sources/new?kind=csv",
        csv_upload(data, filename),
        page="/w/demo/sources/new?kind=csv",
    )
    assert response.status_code == 303
    source = db.session.scalars(db.select(DataSource).filter_by(code="people")).one()
    stored = list(csv.reader(io.StringIO(source.content)))
    assert stored[1:] == rows
    fragment = auth.post("/w/demo/sources/people/test", page="/w/demo/sources/people", headers=HX)
    assert f"{len(rows)} row" in fragment.text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"id,name\n1,Ada\n2,Bob,extra\n", "CSV line 3 has 3 cells but the header has 2 columns"),
        (
            b"id,name\n1,Ada\n2,\x9dBob\n",
            "CSV line 3 cannot be read: byte 0x9D is not UTF-8 or Windows-1252 text",
        ),
        (b"id,,name\n", "CSV header: column 2 has no name"),
    ],
)
def test_a_csv_that_cannot_be_read_is_refused_beside_the_field(auth, demo, data, message):
    auth.login()
    for headers, status in (({}, 422), (HX, 200)):
        shown = preview(auth, data, headers=headers)
        assert shown.status_code == status and message in shown.text
    response = auth.post(
        "/w/demo/sources/new?kind=csv", csv_upload(data), page="/w/demo/sources/new?kind=csv"
    )
    assert response.status_code == 422
    assert f'id="s-content-error">{message}<' in response.text
    assert count(DataSource, code="people") == 0


def test_a_saved_csv_source_is_replaced_by_an_upload_with_a_picked_encoding(auth, demo):
    auth.login()
    auth.post(
        "/w/demo/sources/new?kind=csv",
        csv_upload(b"id,name\n1,Ada\n"),
        page="/w/demo/sources/new?kind=csv",
    )
    response = auth.post(
        "/w/demo/sources/people",
        csv_upload("id;name\n1;Zoë\n".encode(), encoding="windows-1252", delimiter="semicolon"),
        page="/w/demo/sources/people",
    )
    assert response.status_code == 303
    db.session.expire_all()
    source = db.session.scalars(db.select(DataSource).filter_by(code="people")).one()
    assert source.content == "id,name\n1,ZoÃ«\n"  # as asked: the bytes read as Windows-1252
    refused = auth.post(
        "/w/demo/sources/people",
        csv_upload(b"id,name\n", encoding="latin-9"),
        page="/w/demo/sources/people",
    )
    assert refused.status_code == 422 and "choose auto or one of utf-8" in refused.text


def test_a_new_source_may_not_take_an_existing_code(auth, demo):
    auth.login()
    response = auth.post(
        "/w/demo/sources/new?kind=json",
        {"name": "x", "code": "customers", "kind": "json", "content": "[]"},
        page="/w/demo/sources/new?kind=json",
    )
    assert response.status_code == 422
    assert "another data source already has the code" in response.text
    assert db.session.scalars(db.select(DataSource).filter_by(code="customers")).one().kind == "sql"


def test_testing_the_transactions_query_with_binds_shows_its_rows(auth, client, app, demo):
    _, period = customer_one(app)
    with northwind(app) as conn:
        expected = conn.execute(
            "SELECT count(*) FROM transactions WHERE customer_id = 1 AND booked_on >= ? "
            "AND booked_on < date(?, '+1 month')",
            (period, period),
        ).fetchone()[0]
    assert expected > 0
    auth.login("viewer@herald.local")
    page = client.get("/w/demo/sources/transactions").text
    assert 'name="bind.customerId"' in page and 'name="bind.period"' in page
    assert "Save data source" not in page
    binds = {"bind.customerId": "1", "bind.period": period}
    url = "/w/demo/sources/transactions/test"
    fragment = auth.post(url, binds, page="/w/demo/sources/transactions", headers=HX)
    assert "<html" not in fragment.text
    assert f"{expected} row" in fragment.text
    assert "<code>booked_on</code>" in fragment.text
    assert fragment.text.count("<tr>") == min(expected, 20) + 1
    assert f'name="bind.period" value="{period}"' in fragment.text  # kept for the next try

    whole = auth.post(url, binds, page="/w/demo/sources/transactions")
    assert whole.status_code == 200 and "<html" in whole.text and f"{expected} row" in whole.text


def draft(query: str) -> dict:
    return {
        "kind": "sql",
        "code": "draft",
        "name": "",
        "connection": "northwind-db",
        "query": query,
    }


def test_a_broken_query_shows_its_error_not_a_500(auth, demo):
    auth.login()
    for headers, status in (({}, 422), (HX, 200)):
        response = auth.post(
            "/w/demo/sources/test",
            draft("SELECT nope FROM customers WHERE id = :id"),
            page="/w/demo/sources/new",
            headers=headers,
        )
        assert response.status_code == status
        assert "query needs parameter &#39;:id&#39;" in response.text
        assert 'name="bind.id"' in response.text  # an input for the new bind appears
    response = auth.post(
        "/w/demo/sources/test",
        {**draft("SELECT nope FROM customers WHERE id = :id"), "bind.id": "1"},
        page="/w/demo/sources/new",
        headers=HX,
    )
    assert "query failed: no such column: nope" in response.text
    assert "<html" not in response.text


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("SELECT id, FROM customers", "query failed: near &#34;FROM&#34;: syntax error"),
        ("SELECT id FROM customer_list", "query failed: no such table: customer_list"),
        ("SELECT nickname FROM customers WHERE id = :id", "query failed: no such column"),
        ("WITH x AS (SELECT 1) DELETE FROM customers", "query failed: near"),
    ],
)
def test_a_query_its_database_refuses_is_not_saved(auth, demo, query, error):
    auth.login()
    form = {**draft(query), "code": "broken", "name": "Broken"}
    response = auth.post("/w/demo/sources/new?kind=sql", form, page="/w/demo/sources/new")
    assert response.status_code == 422
    assert 'id="s-query-error">' + error in response.text
    assert count(DataSource, code="broken") == 0
    edit = auth.post(
        "/w/demo/sources/customers",
        {**form, "code": "customers", "name": "All customers"},
        page="/w/demo/sources/customers",
    )
    assert edit.status_code == 422 and 'id="s-query-error">' + error in edit.text
    db.session.expire_all()
    assert "FROM customers ORDER BY id" in count_one(DataSource, code="customers").query


def test_a_query_whose_binds_come_from_job_parameters_is_saved(auth, demo):
    """Binds are NULL when the query is put to its database: a bind is no objection."""
    auth.login()
    query = "SELECT * FROM transactions WHERE customer_id = :customerId -- one customer\n;"
    form = {**draft(query), "code": "one-customer", "name": "One customer's"}
    response = auth.post("/w/demo/sources/new?kind=sql", form, page="/w/demo/sources/new")
    assert response.status_code == 303, response.text
    assert count(DataSource, code="one-customer") == 1


def test_a_query_on_an_unreachable_database_is_saved_unchecked(auth, demo):
    """Nothing is known about the query then: refusing would only block the author."""
    auth.login()
    # A file of the SQLite data directory (HERALD_SQLITE_DIR) that does not exist (yet).
    make.sql_connection(demo, "sqlite:///gone.db", code="gone")
    form = {**draft("SELECT * FROM anything"), "connection": "gone", "code": "later"}
    response = auth.post("/w/demo/sources/new?kind=sql", form, page="/w/demo/sources/new")
    assert response.status_code == 303, response.text


def test_a_query_that_writes_is_refused(auth, app, demo):
    with northwind(app) as conn:
        before = conn.execute("SELECT count(*) FROM customers").fetchone()[0]
    auth.login()
    writing = "WITH x AS (SELECT 1) INSERT INTO customers(name) SELECT 'x' FROM x"
    response = auth.post(
        "/w/demo/sources/test", draft(writing), page="/w/demo/sources/new", headers=HX
    )
    assert response.status_code == 200
    assert "readonly database" in response.text
    plain = auth.post(
        "/w/demo/sources/test",
        draft("DELETE FROM customers"),
        page="/w/demo/sources/new",
        headers=HX,
    )
    assert "only SELECT" in plain.text
    with northwind(app) as conn:
        assert conn.execute("SELECT count(*) FROM customers").fetchone()[0] == before


# ---- Connections --------------------------------------------------------------------------

SECRET = "s3cret-relay-password"


def relay_form(smtp_server, **fields) -> dict:
    form = {
        "kind": "smtp",
        "name": "Relay",
        "code": "relay",
        "host": smtp_server.settings["host"],
        "port": str(smtp_server.settings["port"]),
        "username": "",
        "password": SECRET,
        "from": "Herald <herald@example.com>",
        "reply_to": "",
        "max_per_minute": "0",
    }
    return {**form, **fields}


def test_recipients_per_transaction_are_shown_defaulted_and_checked(
    auth, client, demo, smtp_server
):
    auth.login()
    new = "/w/demo/connections/new?kind=smtp"
    form = client.get(new).text
    assert 'name="max_recipients"' in form and 'value="100"' in form  # the default, shown
    for bad in ("0", "1001", "many"):
        response = auth.post(new, relay_form(smtp_server, max_recipients=bad))
        assert response.status_code == 422
        assert "enter a whole number from 1 to 1000" in response.text
        assert count(Connection, code="relay") == 0  # nothing saved
    assert auth.post(new, relay_form(smtp_server, max_recipients="")).status_code == 303
    relay = db.session.scalars(db.select(Connection).filter_by(code="relay")).one()
    assert relay.settings["max_recipients"] == 100
    edit = relay_form(smtp_server, max_recipients="250")
    assert auth.post("/w/demo/connections/relay", edit).status_code == 303
    db.session.expire_all()
    assert relay.settings["max_recipients"] == 250
    assert 'value="250"' in client.get("/w/demo/connections/relay").text


def test_an_smtp_connection_keeps_its_password_encrypted_and_sends_a_test(
    auth, client, demo, smtp_server, mailbox
):
    auth.login()
    new = "/w/demo/connections/new?kind=smtp"
    response = auth.post(new, relay_form(smtp_server, is_default="1"))
    assert response.status_code == 303
    relay = db.session.scalars(db.select(Connection).filter_by(code="relay")).one()
    assert SECRET not in str(relay.settings) and "password" not in relay.settings
    assert SECRET.encode() not in relay.secrets_encrypted
    assert get_secrets(relay) == {"password": SECRET}
    assert relay.is_default
    mail = db.session.scalars(db.select(Connection).filter_by(code="mail")).one()
    assert not mail.is_default  # one default per workspace

    page = client.get("/w/demo/connections/relay").text
    assert SECRET not in page
    assert 'type="password" value=""' in page
    response = auth.post("/w/demo/connections/relay", relay_form(smtp_server, password=""))
    assert response.status_code == 303
    db.session.expire_all()
    assert get_secrets(relay) == {"password": SECRET}  # an empty field keeps it

    fragment = auth.post(
        "/w/demo/connections/relay/test-email",
        {"to": "ops@example.com"},
        page="/w/demo/connections/relay",
        headers=HX,
    )
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "Test email sent to ops@example.com" in fragment.text
    (message,) = mailbox.messages
    assert message["To"] == "ops@example.com"
    assert message["Subject"] == "Herald test email"
    assert message["From"] == "Herald <herald@example.com>"


def test_a_test_email_to_a_stopped_server_shows_the_error(auth, demo, smtp_server, mailbox):
    auth.login()
    smtp_server.stop()
    for headers, status in (({}, 422), (HX, 200)):
        response = auth.post(
            "/w/demo/connections/mail/test-email",
            {"to": "ops@example.com"},
            page="/w/demo/connections/mail",
            headers=headers,
        )
        assert response.status_code == status
        assert "Not sent: cannot reach SMTP server" in response.text
    assert mailbox.messages == []


def test_connection_fields_are_checked_one_by_one(auth, smtp_server, demo):
    auth.login()
    form = relay_form(
        smtp_server, host="", port="70000", **{"from": "not an address"}, use_tls="1", use_ssl="1"
    )
    response = auth.post("/w/demo/connections/new?kind=smtp", form)
    assert response.status_code == 422
    for field in ("host", "port", "from", "use-ssl"):
        assert re.search(rf'id="c-{field}-error">[^<]+<', response.text), field
    assert SECRET not in response.text  # not even the one just typed
    sql = {"kind": "sql", "name": "Warehouse", "code": "wh", "url": "mysql://h/db"}
    response = auth.post(
        "/w/demo/connections/new?kind=sql", sql, page="/w/demo/connections/new?kind=sql"
    )
    assert response.status_code == 422
    assert "unsupported database &#39;mysql&#39;" in response.text
    assert count(Connection) == 2


def test_a_password_in_a_sql_url_moves_to_the_secrets(auth, client, demo):
    auth.login()
    sql = {
        "kind": "sql",
        "name": "Warehouse",
        "code": "wh",
        "url": "postgresql://report:pa55word@db.example.com/warehouse",
        "password": "",
    }
    response = auth.post(
        "/w/demo/connections/new?kind=sql", sql, page="/w/demo/connections/new?kind=sql"
    )
    assert response.status_code == 303
    wh = db.session.scalars(db.select(Connection).filter_by(code="wh")).one()
    assert wh.settings == {"url": "postgresql://report@db.example.com/warehouse"}
    assert get_secrets(wh) == {"password": "pa55word"}
    assert "pa55word" not in client.get("/w/demo/connections/wh").text


# ---- Roles and workspaces -----------------------------------------------------------------


def test_a_viewer_reads_templates_and_sources_but_changes_nothing(auth, client, demo):
    auth.login("viewer@herald.local")
    for url in (
        "/w/demo/templates",
        "/w/demo/templates/customer-statement",
        "/w/demo/sources",
        "/w/demo/sources/customers",
    ):
        assert client.get(url).status_code == 200, url
    assert "New template" not in client.get("/w/demo/templates").text
    posts = [
        "/w/demo/templates/new",
        "/w/demo/templates/customer-statement",
        "/w/demo/templates/preview",
        "/w/demo/sources/new",
        "/w/demo/sources/customers",
        "/w/demo/sources/test",
    ]
    for url in posts:
        response = auth.post(
            url, template_form(kind="json", content="[]"), page="/w/demo/templates"
        )
        assert response.status_code == 403, url
    assert count(ReportTemplate) == 1 and count(DataSource) == len(QUERIES)


CONNECTION_URLS = [
    ("get", "/w/demo/connections"),
    ("get", "/w/demo/connections/new?kind=smtp"),
    ("get", "/w/demo/connections/mail"),
    ("post", "/w/demo/connections/new?kind=sql"),
    ("post", "/w/demo/connections/mail"),
    ("post", "/w/demo/connections/mail/test-email"),
]


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_only_admins_reach_connections(auth, client, demo, mailbox, role):
    if role == "editor":
        make.user("editor@example.com", demo, "editor")
        auth.login("editor@example.com", make.PASSWORD)
    else:
        auth.login("viewer@herald.local")
    for method, url in CONNECTION_URLS:
        if method == "get":
            response = client.get(url)
        else:
            data = {"to": "x@example.com", "name": "x", "code": "x", "url": "sqlite://"}
            response = auth.post(url, data, page="/w/demo/templates")
        assert response.status_code == 403, url
    assert mailbox.messages == []
    assert count(Connection) == 2


def test_an_editor_creates_sources_and_templates(auth, demo):
    make.user("editor@example.com", demo, "editor")
    auth.login("editor@example.com", make.PASSWORD)
    response = auth.post(
        "/w/demo/sources/new?kind=json",
        {"name": "Team", "code": "team", "kind": "json", "content": '[{"name": "Ada"}]'},
    )
    assert response.status_code == 303
    response = auth.post(
        "/w/demo/templates/new",
        template_form(ds_alias=["team"], ds_source=["team"]),
    )
    assert response.status_code == 303


@pytest.fixture
def globex(app, demo):
    ws = make.workspace("globex")
    make.user("globex@example.com", ws, "admin")
    make.template(ws, "secret-letter", "<p>secret</p>")
    make.json_source(ws, "secret-people", [{"name": "Secret"}])
    make.sql_connection(ws, "sqlite://", code="secret-db")
    return ws


def test_another_workspace_is_invisible(auth, client, globex):
    auth.login()
    urls = [
        "/w/globex/templates",
        "/w/globex/templates/secret-letter",
        "/w/demo/templates/secret-letter",
        "/w/demo/templates/secret-letter/preview.pdf",
        "/w/globex/sources",
        "/w/demo/sources/secret-people",
        "/w/globex/connections",
        "/w/demo/connections/secret-db",
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    for url in (
        "/w/demo/sources/secret-people/test",
        "/w/demo/templates/secret-letter",
        "/w/globex/templates/new",
        "/w/demo/connections/secret-db",
    ):
        assert auth.post(url, {"name": "x"}, page="/w/demo/templates").status_code == 404, url
    assert "secret-letter" not in client.get("/w/demo/templates").text


# ---- Connections of the delivery channels -------------------------------------------------

SIGNING_SECRET = "whsec-0123456789abcdef-signing"
SLACK_URL = "https://hooks.slack.com/services/T0001/B0001/sl4ckT0kenSecretPart"
TEAMS_URL = "https://prod-12.westus.logic.azure.com/workflows/abc/triggers?sig=te4msSig"
PRIVATE_KEY = (
    "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"
)


def service_account_key(**fields) -> dict:
    key = {
        "type": "service_account",
        "project_id": "herald-test",
        "private_key_id": "k1",
        "private_key": PRIVATE_KEY,
        "client_email": "herald-drive@herald-test.iam.gserviceaccount.com",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    return {k: v for k, v in {**key, **fields}.items() if v is not None}


def connection(code: str) -> Connection:
    return db.session.scalars(db.select(Connection).filter_by(code=code)).one()


def test_a_webhook_signing_secret_is_stored_encrypted_and_never_shown(auth, client, demo):
    auth.login()
    listing = client.get("/w/demo/connections").text
    for label, kind in (
        ("New webhook secret", "webhook"),
        ("New Slack webhook", "slack"),
        ("New Teams webhook", "teams"),
        ("New Google service account", "google"),
    ):
        assert f'href="/w/demo/connections/new?kind={kind}">{label}<' in listing
    new = "/w/demo/connections/new?kind=webhook"
    form = {"kind": "webhook", "name": "Hook key", "code": "hook-key"}
    page = client.get(new).text
    assert re.search(r'<input id="c-secret" name="secret" type="password" value=""', page)

    short = auth.post(new, {**form, "secret": "too-short"})
    assert short.status_code == 422
    assert re.search(r'id="c-secret-error">use at least 16 characters', short.text)
    assert "too-short" not in short.text
    missing = auth.post(new, form)
    assert re.search(r'id="c-secret-error">enter the signing secret<', missing.text)
    assert count(Connection, code="hook-key") == 0

    response = auth.post(new, {**form, "secret": SIGNING_SECRET})
    assert response.status_code == 303
    assert response.headers["Location"] == "/w/demo/connections/hook-key"
    hook = connection("hook-key")
    assert hook.kind == "webhook" and hook.settings == {}
    assert get_secrets(hook) == {"secret": SIGNING_SECRET}
    assert SIGNING_SECRET.encode() not in hook.secrets_encrypted

    page = client.get("/w/demo/connections/hook-key").text
    assert SIGNING_SECRET not in page
    assert "leave this empty to keep it" in page
    edited = auth.post("/w/demo/connections/hook-key", {**form, "name": "Renamed", "secret": ""})
    assert edited.status_code == 303
    db.session.expire_all()
    assert hook.name == "Renamed" and get_secrets(hook) == {"secret": SIGNING_SECRET}
    listing = client.get("/w/demo/connections").text
    assert 'href="/w/demo/connections/hook-key">Renamed<' in listing
    assert "signing secret stored" in listing and SIGNING_SECRET not in listing


@pytest.mark.parametrize(("kind", "url"), [("slack", SLACK_URL), ("teams", TEAMS_URL)])
def test_a_chat_webhook_url_is_a_secret_and_must_be_https(auth, client, demo, kind, url):
    auth.login()
    new = f"/w/demo/connections/new?kind={kind}"
    form = {"kind": kind, "name": "Sales channel", "code": "sales-chat"}
    assert 'name="url" type="password" value=""' in client.get(new).text

    plain = auth.post(new, {**form, "url": "http://hooks.example.com/services/x"})
    assert plain.status_code == 422
    assert re.search(r'id="c-url-error">must start with https://<', plain.text)
    assert "hooks.example.com" not in plain.text  # what was typed is not echoed
    assert re.search(r'id="c-url-error">must be an http', auth.post(new, {**form, "url": "x"}).text)
    assert count(Connection, code="sales-chat") == 0

    response = auth.post(new, {**form, "url": url})
    assert response.status_code == 303
    saved = connection("sales-chat")
    assert saved.kind == kind and saved.settings == {}
    assert get_secrets(saved) == {"url": url}
    secret_part = url.rsplit("/", 1)[1]
    for page in ("/w/demo/connections/sales-chat", "/w/demo/connections"):
        text = client.get(page).text
        assert secret_part not in text and url not in text, page
    host = url.split("/")[2]
    assert f"<code>{host}/…</code>" in client.get("/w/demo/connections").text

    kept = auth.post("/w/demo/connections/sales-chat", {**form, "url": ""})
    assert kept.status_code == 303
    db.session.expire_all()
    assert get_secrets(saved) == {"url": url}


def test_http_to_localhost_needs_the_insecure_flag_outside_tests(auth, app, demo, monkeypatch):
    auth.login()
    new = "/w/demo/connections/new?kind=slack"
    form = {"kind": "slack", "name": "Mock Slack", "code": "mock-slack"}
    local = "http://127.0.0.1:8025/hooks/slack"
    monkeypatch.setitem(app.config, "TESTING", False)
    monkeypatch.setitem(app.config, "ALLOW_INSECURE_WEBHOOKS", False)
    refused = auth.post(new, {**form, "url": local})
    assert refused.status_code == 422
    assert re.search(
        r'id="c-url-error">must start with https:// \(http://localhost needs ', refused.text
    )
    assert count(Connection, code="mock-slack") == 0

    monkeypatch.setitem(app.config, "ALLOW_INSECURE_WEBHOOKS", True)
    remote = auth.post(new, {**form, "url": "http://hooks.example.com/x"})
    assert remote.status_code == 422  # the flag covers this machine only
    assert auth.post(new, {**form, "url": local}).status_code == 303
    assert get_secrets(connection("mock-slack")) == {"url": local}


def test_a_google_service_account_key_is_checked_stored_and_never_shown(auth, client, demo):
    auth.login()
    new = "/w/demo/connections/new?kind=google"
    form = {"kind": "google", "name": "Drive archive", "code": "drive-archive"}
    page = client.get(new).text
    assert 'enctype="multipart/form-data"' in page and 'name="key_file" type="file"' in page

    refused = {
        "{not json": "not valid JSON",
        json.dumps(service_account_key(client_email=None)): "the key lacks client_email",
        json.dumps(
            service_account_key(type="authorized_user")
        ): "the key type is authorized_user, not service_account",
        json.dumps(service_account_key(private_key="", token_uri=None)): (
            "the key lacks private_key, token_uri"
        ),
    }
    for text, message in refused.items():
        response = auth.post(new, {**form, "key": text})
        assert response.status_code == 422, message
        assert re.search(rf'id="c-key-error">{re.escape(message)}', response.text), message
        assert "PRIVATE KEY" not in response.text  # the key typed is not echoed
    assert count(Connection, code="drive-archive") == 0

    key = service_account_key()
    upload = (io.BytesIO(json.dumps(key).encode()), "herald-test-k1.json")
    response = auth.post(new, {**form, "key": "", "key_file": upload, "api_endpoint": ""})
    assert response.status_code == 303
    drive = connection("drive-archive")
    assert drive.kind == "google" and drive.settings == {}
    assert get_secrets(drive) == {"key": key}
    assert b"PRIVATE KEY" not in drive.secrets_encrypted
    for url in ("/w/demo/connections/drive-archive", "/w/demo/connections"):
        text = client.get(url).text
        assert key["client_email"] in text, url
        assert "PRIVATE KEY" not in text and "MIIEvQ" not in text, url

    edit = "/w/demo/connections/drive-archive"
    bad = auth.post(edit, {**form, "key": "", "api_endpoint": "ftp://x", "scopes": "drive"})
    assert bad.status_code == 422
    assert re.search(r'id="c-api-endpoint-error">must be an http', bad.text)
    assert re.search(r'id="c-scopes-error">scopes are https:// URLs', bad.text)
    scopes = "https://www.googleapis.com/auth/drive"
    good = {"api_endpoint": "https://google-proxy.example.com/", "scopes": scopes}
    assert auth.post(edit, {**form, "key": "", **good}).status_code == 303
    db.session.expire_all()
    assert drive.settings == {
        "api_endpoint": "https://google-proxy.example.com",
        "scopes": [scopes],
    }
    assert get_secrets(drive) == {"key": key}  # an empty key field keeps the stored key
    assert f'name="scopes" type="text" value="{scopes}"' in client.get(edit).text


CHANNEL_CONNECTION_URLS = [
    ("get", "/w/demo/connections/new?kind=webhook"),
    ("get", "/w/demo/connections/new?kind=google"),
    ("get", "/w/demo/connections/team-slack"),
    ("post", "/w/demo/connections/new?kind=slack"),
    ("post", "/w/demo/connections/new?kind=google"),
    ("post", "/w/demo/connections/team-slack"),
]


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_only_admins_reach_channel_connections(auth, client, demo, role):
    slack = Connection(
        workspace_id=demo.id, code="team-slack", name="Team", kind="slack", settings={}
    )
    set_secrets(slack, {"url": SLACK_URL})
    db.session.add(slack)
    db.session.commit()
    if role == "editor":
        make.user("editor@example.com", demo, "editor")
        auth.login("editor@example.com", make.PASSWORD)
    else:
        auth.login("viewer@herald.local")
    for method, url in CHANNEL_CONNECTION_URLS:
        if method == "get":
            response = client.get(url)
        else:
            data = {"name": "x", "code": "x", "url": "https://hooks.slack.com/x", "key": "{}"}
            response = auth.post(url, data, page="/w/demo/templates")
        assert response.status_code == 403, url
    assert count(Connection) == 3
    db.session.expire_all()
    assert slack.name == "Team" and get_secrets(slack) == {"url": SLACK_URL}
