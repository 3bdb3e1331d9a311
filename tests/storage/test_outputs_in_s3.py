"""A report's CSV and XLSX files in an S3 bucket (moto in server mode): stored under keys made
of ids with their own extension, nowhere on local disk, mailed as stored (docs/OUTPUTS.md)."""

from __future__ import annotations

from app.rendering.tables import XLSX_TYPE
from app.runs.create import start_run
from tests import factories as make
from tests.helpers import entries_of
from tests.runs.test_outputs import check_csv, check_xlsx, outputs_job
from tests.s3server import keys_under
from tests.storage.test_artifacts_in_s3 import artifacts_of, local_files, object_bytes


def test_csv_and_xlsx_go_to_the_bucket_and_are_mailed_as_stored(
    app, s3, bucket, work, smtp_server, mailbox
):
    ws = make.workspace("acme", smtp=smtp_server.settings)
    delivery = {"kind": "email", "to": "{people.email}", "subject": "s", "message": "m"}
    run_id = start_run(outputs_job(ws, [delivery]), None).id
    work()

    first = entries_of(run_id)[0]  # Zoë's
    found = [a for a in artifacts_of(run_id) if a.entry_id == first.id]
    folder = f"{s3}ws{ws.id}/run{run_id}/entry{found[0].entry_id}"
    assert sorted(k for k in keys_under(bucket, s3) if k.startswith(folder + "/")) == [
        f"{folder}/0.pdf",
        f"{folder}/1.csv",
        f"{folder}/2.xlsx",
    ]
    assert local_files(app) == []
    stored = [object_bytes(bucket, s3 + a.storage_key) for a in found]
    check_csv(stored[1])
    check_xlsx(stored[2])
    message = next(m for m in mailbox.messages if m["To"] == "zoe@example.com")
    parts = list(message.iter_attachments())
    assert [p.get_payload(decode=True) for p in parts] == stored
    assert parts[2].get_content_type() == XLSX_TYPE
