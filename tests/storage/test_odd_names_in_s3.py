"""Report files named from hostile row values, stored in S3 (moto server) and downloaded
through Herald: keys are made of ids whatever the name, every file is made (a lone surrogate
included), each download is the stored bytes under a cleaned name, and another workspace's
user gets 404 for every file, streamed or presigned (docs/OUTPUTS.md, "Where the files go")."""

from __future__ import annotations

import re
import urllib.request

import pytest

from app.runs.create import start_run
from tests import factories as make
from tests.helpers import csrf_from
from tests.runs.test_outputs import LINES
from tests.s3server import keys_under
from tests.storage.test_artifacts_in_s3 import artifacts_of, object_bytes

# "bad \udcff" holds a lone surrogate: json.dumps writes it as the escape "\udcff", which is
# valid JSON but no UTF-8.
NAMES = [
    "../../etc/passwd",
    'a/b\\c:d*e?f"g<h>i|j',
    "Relevé 张伟 محمد 😀",
    "x" * 400,
    "bad \udcff",
    "line\r\nX-Injected: 1",
    "..",
    "",
    "%2e%2e%2fetc",
]
PEOPLE = [{"id": i, "name": n, "email": f"p{i}@example.com"} for i, n in enumerate(NAMES)]


@pytest.mark.parametrize("presign", [0, 120])
def test_odd_names_are_stored_under_ids_and_downloaded_only_by_their_workspace(
    app, s3, bucket, work, auth, client, presign
):
    app.config["S3_PRESIGN_SECONDS"] = presign
    ws = make.workspace("acme")
    make.user("editor@example.com", ws, "editor")
    make.json_source(ws, "people", PEOPLE)
    make.json_source(ws, "lines", LINES)
    make.template(
        ws,
        "statement",
        "<p>{{ params.person }}</p>",
        parameters=[{"name": "person", "type": "string"}],
        data_sources=[{"alias": "lines", "source": "lines"}],
    )
    report = {
        "template": "statement",
        "bindings": {"person": {"column": "name"}},
        "filename": "{people.name}.pdf",
        "formats": ["pdf", "csv", "xlsx"],
        "table_sections": ["lines"],
    }
    job = make.job(
        ws,
        data_sources=[{"alias": "people", "source": "people", "repeating": True}],
        reports=[report],
        deliveries=[],
    )
    run_id = start_run(job, None).id
    work()

    found = artifacts_of(run_id)
    assert len(found) == 3 * len(NAMES)
    assert [a.filename for a in found if not a.storage_key] == []  # every file was made
    for key in keys_under(bucket, s3):
        assert re.fullmatch(r"ws\d+/run\d+/entry\d+/[012]\.(pdf|csv|xlsx)", key[len(s3) :])
    assert {a.filename for a in found} >= {"bad \ufffd.pdf", "bad \ufffd.csv", "bad \ufffd.xlsx"}

    make.user("outsider@example.com", make.workspace("other"), "admin")
    auth.login("outsider@example.com", make.PASSWORD)
    for artifact in found:
        assert client.get(f"/w/acme/artifacts/{artifact.id}/f?download=1").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_from(client, "/tokens")})

    auth.login("editor@example.com", make.PASSWORD)
    for artifact in found:
        response = client.get(f"/w/acme/artifacts/{artifact.id}/f?download=1")
        stored = object_bytes(bucket, s3 + artifact.storage_key)
        if presign:
            assert response.status_code == 302
            with urllib.request.urlopen(response.location, timeout=30) as fetched:
                assert fetched.read() == stored
                disposition = fetched.headers["Content-Disposition"]
        else:
            assert response.status_code == 200 and response.data == stored
            disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment; filename")
        assert "\r" not in disposition and "\n" not in disposition and "/" not in disposition
