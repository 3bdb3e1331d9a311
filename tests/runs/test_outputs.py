"""A report's CSV and XLSX files beside its PDF, through the real run path: artifacts,
email attachments read back from the SMTP server, webhook content, entry page, API, checks."""

from __future__ import annotations

import base64
import csv
import io
import json

import openpyxl
import pytest
from pypdf import PdfReader

from app.errors import ValidationFailed
from app.extensions import db
from app.models import Artifact
from app.rendering.tables import XLSX_TYPE
from app.review.document import build_review_document, request_review_document
from app.runs.create import start_run
from tests import factories as make
from tests.helpers import entries_of

PEOPLE = [
    {"id": 1, "name": "Zoë", "email": "zoe@example.com"},
    {"id": 2, "name": "张伟", "email": "wei@example.com"},
]
LINES = [
    {"day": "2026-10-01", "item": '=HYPERLINK("http://evil.example")', "amount": "-12.50"},
    {"day": "2026-10-02", "item": "Café crème", "amount": "3"},
]


def outputs_job(ws, deliveries=(), **report):
    """People burst through a template with its own data section `lines`."""
    make.json_source(ws, "people", PEOPLE)
    make.json_source(ws, "lines", LINES)
    make.template(
        ws,
        "statement",
        "<p>{{ params.person }}</p>{% for l in lines %}<p>{{ l.item }}</p>{% endfor %}",
        parameters=[{"name": "person", "type": "string"}],
        data_sources=[{"alias": "lines", "source": "lines"}],
    )
    ref = {
        "template": "statement",
        "bindings": {"person": {"column": "name"}},
        "filename": "statement-{people.id}.pdf",
        "formats": ["pdf", "csv", "xlsx"],
        "table_sections": ["lines"],
        "csv": {"delimiter": ";", "bom": True},
        **report,
    }
    return make.job(
        ws,
        data_sources=[{"alias": "people", "source": "people", "repeating": True}],
        reports=[ref],
        deliveries=list(deliveries),
    )


def check_csv(data: bytes, delimiter: str = ";") -> None:
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=delimiter))
    assert rows == [
        ["day", "item", "amount"],
        ["2026-10-01", '\'=HYPERLINK("http://evil.example")', "-12.50"],
        ["2026-10-02", "Café crème", "3"],
    ]


def check_xlsx(data: bytes) -> None:
    sheet = openpyxl.load_workbook(io.BytesIO(data))["lines"]
    assert [c.value for c in sheet[1]] == ["day", "item", "amount"]
    assert sheet.cell(2, 1).is_date and sheet.cell(2, 3).value == -12.5
    assert sheet.cell(3, 3).value == 3


def test_email_carries_pdf_csv_and_xlsx_read_back_from_smtp(app, work, smtp_server, mailbox):
    ws = make.workspace(smtp=smtp_server.settings)
    delivery = {"kind": "email", "to": "{people.email}", "subject": "s", "message": "m"}
    run_id = start_run(outputs_job(ws, [delivery]), None).id
    work()

    assert {e.status for e in entries_of(run_id)} == {"Completed"}
    by_to = {m["To"]: m for m in mailbox.messages}
    parts = list(by_to["wei@example.com"].iter_attachments())
    assert [p.get_filename() for p in parts] == [
        "statement-2.pdf",
        "statement-2.csv",
        "statement-2.xlsx",
    ]
    assert [p.get_content_type() for p in parts] == ["application/pdf", "text/csv", XLSX_TYPE]
    assert parts[1].get_param("charset") == "utf-8"
    assert parts[0].get_content().startswith(b"%PDF")
    check_csv(parts[1].get_payload(decode=True))  # the bytes as sent, BOM included
    check_xlsx(parts[2].get_content())


def test_every_file_is_an_artifact_listed_and_downloadable(app, work, client, auth):
    ws = make.workspace()
    make.user("ed@example.com", ws)
    run_id = start_run(outputs_job(ws), None).id
    work()

    entry = entries_of(run_id)[0]
    artifacts = db.session.scalars(
        db.select(Artifact).filter_by(entry_id=entry.id).order_by(Artifact.position)
    ).all()
    assert [(a.filename, a.content_type, a.status) for a in artifacts] == [
        ("statement-1.pdf", "application/pdf", "generated"),
        ("statement-1.csv", "text/csv", "generated"),
        ("statement-1.xlsx", XLSX_TYPE, "generated"),
    ]
    auth.login("ed@example.com", make.PASSWORD)
    page = client.get(f"/w/{ws.code}/runs/{run_id}/entries/{entry.id}")
    assert page.status_code == 200
    for a in artifacts:
        assert f">{a.filename}</a>" in page.text
    assert "CSV, " in page.text and "XLSX, " in page.text
    assert page.text.count('class="pdf-frame"') == 1  # only the PDF is shown inline
    download = client.get(f"/w/{ws.code}/artifacts/{artifacts[1].id}/statement-1.csv?download=1")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert len(download.data) == artifacts[1].size
    check_csv(download.data)
    workbook = client.get(f"/w/{ws.code}/artifacts/{artifacts[2].id}/statement-1.xlsx")
    assert workbook.mimetype == XLSX_TYPE
    check_xlsx(workbook.data)


def test_webhook_receives_every_file_in_base64(app, work, serve):
    server = serve()
    ws = make.workspace()
    hook = {"kind": "webhook", "url": f"{server.base}/hook", "include_pdf": True}
    start_run(outputs_job(ws, [hook], formats=["csv", "xlsx"]), None)
    work()

    bodies = sorted((json.loads(r.body) for r in server.received), key=lambda b: b["row"]["id"])
    reports = bodies[0]["reports"]
    assert [(r["filename"], r["content_type"]) for r in reports] == [
        ("statement-1.csv", "text/csv"),
        ("statement-1.xlsx", XLSX_TYPE),
    ]
    check_csv(base64.b64decode(reports[0]["content_base64"]))
    check_xlsx(base64.b64decode(reports[1]["content_base64"]))
    assert reports[0]["size"] == len(base64.b64decode(reports[0]["content_base64"]))


def test_review_document_stitches_pdfs_and_names_the_other_files(app, work):
    ws = make.workspace()
    job = outputs_job(ws)
    run_id = start_run(job, None).id
    work()
    entries = entries_of(run_id)
    file = request_review_document(ws, None, [e.id for e in entries], "Check")
    build_review_document(file.id)
    db.session.refresh(file)
    from app import storage

    reader = PdfReader(io.BytesIO(storage.load(file.storage_key)))
    index = reader.pages[0].extract_text()
    assert "statement-1.csv" in index and "statement-2.xlsx" in index
    assert len(reader.pages) == 1 + 2  # the index and one PDF page per entry


@pytest.mark.parametrize(
    ("report", "field", "message"),
    [
        ({"table_sections": ["nope"]}, "reports.0.table_sections", "no data section 'nope'"),
        ({"table_sections": []}, "reports.0.table_sections", "pick the data section"),
        ({"csv": {"delimiter": "|"}}, "reports.0.csv.delimiter", "a semicolon (;) or a tab"),
        ({"formats": ["pdf", "doc"]}, "reports.0.formats.1", "must be one of"),
        ({"formats": []}, "reports.0.formats", "at least 1"),
    ],
)
def test_bad_output_settings_are_refused_naming_the_field(app, report, field, message):
    ws = make.workspace()
    with pytest.raises(ValidationFailed) as caught:
        outputs_job(ws, **report)
    assert message in caught.value.errors[field]
