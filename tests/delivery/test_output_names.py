"""One file name pattern names a report's PDF, CSV and XLSX files (docs/OUTPUTS.md)."""

from __future__ import annotations

from app.delivery.channels.chat import link_label
from app.delivery.channels.drive import file_names
from app.delivery.email import Attachment, attachment_names
from app.jobs.channels import DriveDelivery
from app.jobs.schema import EmailDelivery
from app.rendering.tables import CSV_TYPE, XLSX_TYPE

FILES = [
    Attachment("statement", "statement-7.pdf", b"%PDF"),
    Attachment("statement", "statement-7.csv", b"a\r\n", CSV_TYPE),
    Attachment("statement", "statement-7.xlsx", b"PK", XLSX_TYPE),
]
VALUES = {"people": {"id": 7, "name": "Zoë"}}


def email(pattern: str) -> EmailDelivery:
    return EmailDelivery(to="a@example.com", subject="s", message="m", attachment_name=pattern)


def test_attachment_pattern_takes_each_files_extension():
    names = attachment_names(email("Statement {people.name}.pdf"), VALUES, FILES)
    assert names == ["Statement Zoë.pdf", "Statement Zoë.csv", "Statement Zoë.xlsx"]
    assert attachment_names(email(""), VALUES, FILES) == [f.filename for f in FILES]
    # Another extension is text of the name: the file's own is appended.
    assert attachment_names(email("x.txt"), VALUES, FILES[1:2]) == ["x.txt.csv"]


def test_drive_pattern_takes_each_files_extension():
    config = DriveDelivery(
        service_account="g", folder_id="f1", filename="{people.id}-{report.code}.PDF"
    )
    assert file_names(config, VALUES, FILES) == [
        "7-statement.pdf",
        "7-statement.csv",
        "7-statement.xlsx",
    ]
    same = DriveDelivery(service_account="g", folder_id="f1", filename="{people.id}")
    assert file_names(same, VALUES, FILES) == ["7.pdf", "7.csv", "7.xlsx"]


def test_chat_link_names_a_single_files_kind():
    assert link_label(FILES[1:2], 0) == "Open CSV"
    assert link_label(FILES[:1], 0) == "Open PDF"
    assert link_label(FILES, 2) == "Open statement-7.xlsx"
