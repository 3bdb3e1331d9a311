"""File names made from row values: report files, attachments and downloads are cleaned the
same way (app.filenames), and the default report file name differs per entry."""

from __future__ import annotations

import re
from email.message import EmailMessage
from urllib.parse import unquote

import pytest

from app.extensions import db
from app.filenames import MAX_FILENAME_BYTES, clean_filename
from app.models import User
from app.runs.create import start_run
from app.tokens import create_token
from tests import factories as make
from tests.helpers import attachments, entries_of

FORBIDDEN = re.compile(r'[/\\:*?"<>|\x00-\x1f\x7f-\x9f]')
ROWS = [
    {"name": "../../etc/passwd", "email": "a@example.com"},
    {"name": 'Zoë\r\nÅngström: Q1/Q2 <draft>?*|"x"\\', "email": "b@example.com"},
    {"name": "é" * 300, "email": "c@example.com"},
    {"name": "\x00\x1b[31mred\u202egnp.exe", "email": "d@example.com"},
    {"name": "..", "email": "e@example.com"},
]
# What each row's report file is called with the pattern "{people.name}.pdf".
EXPECTED = [
    "_.._etc_passwd.pdf",
    "Zoë Ångström_ Q1_Q2 _draft_____x__.pdf",
    "é" * 98 + ".pdf",
    "[31mredgnp.exe.pdf",
    "letter.pdf",
]


@pytest.mark.parametrize(
    ("name", "cleaned"),
    [
        ("statement.pdf", "statement.pdf"),
        ("statement", "statement.pdf"),
        ('a/b\\c:d*e?f"g<h>i|j.pdf', "a_b_c_d_e_f_g_h_i_j.pdf"),
        ("  ..hidden. ", "hidden.pdf"),
        ("", "report.pdf"),
        ("CON", "_CON.pdf"),
        ("x" * 300 + ".pdf", "x" * 196 + ".pdf"),
        ("Relevé – März.PDF", "Relevé – März.pdf"),
        ("evil\u202efdp.exe", "evilfdp.exe.pdf"),
    ],
)
def test_clean_filename(name, cleaned):
    assert clean_filename(name) == cleaned


def test_clean_filename_keeps_another_extension_when_asked():
    assert clean_filename("data/export.csv", extension=None) == "data_export.csv"
    cut = clean_filename("日本語" * 100, extension=".pdf")  # cut on a character boundary
    assert cut == "日本語" * 21 + "日本.pdf" and len(cut.encode()) == 199


def hostile_job(ws, **delivery):
    email = {"kind": "email", "to": "{people.email}", "subject": "s", "message": "m", **delivery}
    return make.people_job(
        ws,
        ROWS,
        "<p>x</p>",
        reports=[
            {
                "template": "letter",
                "bindings": {"person": {"column": "name"}},
                "filename": "{people.name}.pdf",
            }
        ],
        deliveries=[email],
    )


def test_report_files_and_attachments_from_row_values_are_safe(app, work, smtp_server, mailbox):
    ws = make.workspace(smtp=smtp_server.settings)
    run_id = start_run(hostile_job(ws), None).id
    work()

    entries = entries_of(run_id)
    assert [e.artifacts[0].filename for e in entries] == EXPECTED
    by_recipient = {
        env[0]: msg for msg, env in zip(mailbox.messages, mailbox.envelopes, strict=True)
    }
    sent = [attachments(by_recipient[row["email"]])[0][0] for row in ROWS]
    assert sent == EXPECTED
    for name in sent:
        assert not FORBIDDEN.search(name) and not name.startswith(".")
        assert len(name.encode("utf-8")) <= MAX_FILENAME_BYTES


def test_attachment_names_from_a_pattern_are_cleaned(app, work, smtp_server, mailbox):
    ws = make.workspace(smtp=smtp_server.settings)
    run_id = start_run(hostile_job(ws, attachment_name="{people.name} – {report.code}"), None).id
    work()

    assert {e.status for e in entries_of(run_id)} == {"Completed"}
    by_recipient = {
        env[0]: msg for msg, env in zip(mailbox.messages, mailbox.envelopes, strict=True)
    }
    names = [attachments(by_recipient[row["email"]])[0][0] for row in ROWS]
    assert names[0] == "_.._etc_passwd – letter.pdf"
    assert names[1] == "Zoë Ångström_ Q1_Q2 _draft_____x__ – letter.pdf"
    assert names[2] == "é" * 98 + ".pdf"
    assert names[4] == "– letter.pdf"  # no leading dots: never "..", never hidden
    for name in names:
        assert not FORBIDDEN.search(name) and name.endswith(".pdf")


def test_two_entries_get_different_default_file_names(app, work, smtp_server, mailbox):
    ws = make.workspace(smtp=smtp_server.settings)
    rows = [
        {"name": "Ada", "email": "ada@example.com"},
        {"name": "Bob", "email": "bob@example.com"},
    ]
    job = make.mailing_job(ws, rows)
    assert job.reports[0]["filename"] == "{report.code}-{entry.seq}.pdf"
    run_id = start_run(job, None).id
    work()

    assert [e.artifacts[0].filename for e in entries_of(run_id)] == ["letter-1.pdf", "letter-2.pdf"]
    sent = sorted(attachments(m)[0][0] for m in mailbox.messages)
    assert sent == ["letter-1.pdf", "letter-2.pdf"]


def test_a_job_saved_with_the_old_default_gets_per_entry_names(app):
    ws = make.workspace()
    make.json_source(ws, "people", [{"name": "Ada"}])
    make.template(ws, "letter", "<p>x</p>")
    job = make.job(
        ws,
        data_sources=[{"alias": "people", "source": "people", "repeating": True}],
        reports=[{"template": "letter", "filename": "{report.code}.pdf"}],
    )
    assert job.reports[0]["filename"] == "{report.code}-{entry.seq}.pdf"


def download_name(response) -> str:
    """The file name a browser saves: RFC 6266 §4.3, filename* (RFC 5987) over filename."""
    disposition = response.headers["Content-Disposition"]
    extended = re.search(r"filename\*=UTF-8''([^;\s]+)", disposition)
    if extended:
        return unquote(extended[1])
    header = EmailMessage()
    header["Content-Disposition"] = disposition
    return header.get_filename()


def test_downloads_carry_the_cleaned_name(app, work, smtp_server, auth, client):
    ws = make.workspace(smtp=smtp_server.settings)
    editor = make.user("editor@acme.example", ws, "editor")
    job = hostile_job(ws)
    run_id = start_run(job, None).id
    work()
    entries = entries_of(run_id)
    # An artifact stored by an older version with a name that was never cleaned.
    entries[0].artifacts[0].filename = 'old/..\\name:"x"\r\n.pdf'
    db.session.commit()

    auth.login("editor@acme.example", make.PASSWORD)
    token = create_token(db.session.get(User, editor.id), ws, name="t", permissions=["jobs:read"])[
        1
    ]
    for entry, expected in zip(entries, ["old_.._name__x_.pdf", *EXPECTED[1:]], strict=True):
        artifact = entry.artifacts[0]
        web = client.get(f"/w/{ws.code}/artifacts/{artifact.id}/file.pdf?download=1")
        api = client.get(
            f"/api/v1/ws/{ws.code}/jobs/{job.code}/runs/{run_id}/entries/{entry.id}"
            f"/artifacts/{artifact.id}",
            headers={"Authorization": f"Bearer {token}"},
        )
        for response in (web, api):
            assert response.status_code == 200 and response.data.startswith(b"%PDF")
            assert download_name(response) == expected
            disposition = response.headers["Content-Disposition"]
            assert disposition.isascii() and "\n" not in disposition
        if not expected.isascii():  # non-ASCII travels as RFC 6266 filename*
            assert "filename*=UTF-8''" in web.headers["Content-Disposition"]
