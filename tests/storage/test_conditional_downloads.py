"""Conditional and partial downloads, the same from both stores: local disk (werkzeug's
send_file) and an S3 bucket streamed through Herald (moto in server mode). ETag and
Last-Modified come from the stored file; a matching If-None-Match or If-Modified-Since is a
304, one byte range a 206 with Content-Range, a range past the end a 416 saying the size,
and every answer comes after Herald's own permission check and names no bucket or key."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from app import storage
from app.database import utcnow
from app.extensions import db
from app.models import TemporaryFile
from app.tokens import create_token
from tests import factories as make
from tests.s3server import BUCKET

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 300 + b"\n%%EOF\n"  # larger than a chunk
SIZE = len(PDF)


@pytest.fixture
def document(app, store):
    """A ready review document of workspace acme in the store under test, its editor, and
    an API token of the editor's; returns (page URL, API URL, token, storage key)."""
    ws = make.workspace("acme")
    editor = make.user("editor@example.com", ws, "editor")
    key = f"ws{ws.id}/files/{uuid.uuid4().hex}.pdf"
    storage.save(key, PDF)
    file = TemporaryFile(
        id=str(uuid.uuid4()),
        workspace_id=ws.id,
        kind="review-document",
        status="ready",
        filename="Review.pdf",
        storage_key=key,
        size=SIZE,
        expires_at=utcnow() + timedelta(hours=24),
    )
    db.session.add(file)
    db.session.commit()
    token = create_token(editor, ws, permissions=["jobs:read"], name="t")[1]
    return (
        f"/w/acme/files/{file.id}/download",
        f"/api/v1/ws/acme/temporary-files/{file.id}/download",
        token,
        key,
    )


@pytest.fixture
def editor(auth, document):
    auth.login("editor@example.com", make.PASSWORD)
    return document


def no_store_names(response, key: str) -> None:
    """Nothing the client sees names the bucket, the key or the store's own headers."""
    seen = str(response.headers) + response.data.decode("latin-1")
    assert BUCKET not in seen and key not in seen
    assert not [h for h, _ in response.headers.items() if h.lower().startswith("x-amz")]


def test_a_download_carries_an_etag_and_answers_it_with_304(client, store, editor):
    page, _, _, key = editor
    first = client.get(page)
    assert first.status_code == 200 and first.data == PDF
    assert first.headers["Accept-Ranges"] == "bytes"
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]

    again = client.get(page, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    since = client.get(page, headers={"If-Modified-Since": modified})
    assert since.status_code == 304 and since.data == b""
    other = client.get(page, headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.data == PDF
    for response in (first, again, since, other):
        no_store_names(response, key)


def test_a_file_saved_again_is_sent_again_despite_the_old_etag(client, store, editor):
    page, _, _, key = editor
    etag = client.get(page).headers["ETag"]
    storage.save(key, PDF[::-1] + b"x")  # a different size, so even local's ETag changes
    fresh = client.get(page, headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.data == PDF[::-1] + b"x"
    assert fresh.headers["ETag"] != etag


@pytest.mark.parametrize(
    ("asked", "start", "stop"),
    [
        ("bytes=10-109", 10, 110),
        ("bytes=-7", SIZE - 7, SIZE),
        (f"bytes={SIZE - 3}-", SIZE - 3, SIZE),
    ],
    ids=["span", "suffix", "open-ended"],
)
def test_one_byte_range_is_206_with_its_content_range(client, store, editor, asked, start, stop):
    page, _, _, key = editor
    part = client.get(page, headers={"Range": asked})
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes {start}-{stop - 1}/{SIZE}"
    assert part.content_length == stop - start
    assert part.data == PDF[start:stop]
    no_store_names(part, key)


def test_if_range_gives_the_range_only_for_the_same_file(client, store, editor):
    page, _, _, _ = editor
    etag = client.get(page).headers["ETag"]
    same = client.get(page, headers={"Range": "bytes=0-3", "If-Range": etag})
    assert same.status_code == 206 and same.data == PDF[:4]
    stale = client.get(page, headers={"Range": "bytes=0-3", "If-Range": '"older"'})
    assert stale.status_code == 200 and stale.data == PDF


def test_a_head_request_answers_the_same_without_a_body(client, store, editor):
    page, _, _, _ = editor
    whole = client.head(page)
    assert whole.status_code == 200 and whole.data == b"" and whole.content_length == SIZE
    part = client.head(page, headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.data == b""
    assert part.headers["Content-Range"] == f"bytes 0-9/{SIZE}"
    same = client.head(page, headers={"If-None-Match": whole.headers["ETag"]})
    assert same.status_code == 304


def test_a_range_past_the_end_is_416_with_the_size_on_the_page_and_the_api(client, store, editor):
    page, api, token, key = editor
    beyond = {"Range": f"bytes={SIZE}-"}
    refused = client.get(page, headers=beyond)
    assert refused.status_code == 416
    assert refused.headers["Content-Range"] == f"bytes */{SIZE}"
    by_api = client.get(api, headers={**beyond, "Authorization": f"Bearer {token}"})
    assert by_api.status_code == 416
    assert by_api.headers["Content-Range"] == f"bytes */{SIZE}"
    assert by_api.get_json()["error"]["message"]
    for response in (refused, by_api):
        no_store_names(response, key)


def test_the_api_answers_ranges_and_etags_alike(client, store, document):
    _, api, token, _ = document
    bearer = {"Authorization": f"Bearer {token}"}
    etag = client.get(api, headers=bearer).headers["ETag"]
    assert client.get(api, headers={**bearer, "If-None-Match": etag}).status_code == 304
    part = client.get(api, headers={**bearer, "Range": "bytes=5-9"})
    assert part.status_code == 206 and part.data == PDF[5:10]


def test_conditions_and_ranges_come_after_the_permission_check(client, store, auth, document):
    page, api, _, key = document
    etag = '"anything"'
    asks = {"Range": "bytes=0-3", "If-None-Match": etag, "If-Modified-Since": "x"}
    anonymous = client.get(page, headers=asks)
    assert anonymous.status_code == 302 and anonymous.location.startswith("/login")
    assert client.get(api, headers=asks).status_code == 401
    make.user("outsider@example.com", make.workspace("other"), "admin")
    auth.login("outsider@example.com", make.PASSWORD)
    for headers in (asks, {"Range": f"bytes={SIZE}-"}):
        refused = client.get(page, headers=headers)
        assert refused.status_code in (403, 404)
        assert "Content-Range" not in refused.headers and "ETag" not in refused.headers
        no_store_names(refused, key)


@pytest.mark.parametrize("store", ["s3"], indirect=True)
def test_s3_is_asked_for_the_range_only_and_a_304_opens_no_body(client, store, editor):
    """The range goes to S3's GetObject (the object is never read and skipped through), and
    a 304 or 416 costs a HeadObject alone. Watched through botocore's own event hooks."""
    page, _, _, _ = editor
    calls: list[tuple[str, dict]] = []
    events = storage.backend().client.meta.events
    record = lambda model, params, **_: calls.append((model.name, dict(params)))  # noqa: E731
    events.register("provide-client-params.s3", record)
    try:
        etag = client.get(page).headers["ETag"]
        calls.clear()
        assert client.get(page, headers={"Range": "bytes=10-109"}).data == PDF[10:110]
        assert [name for name, _ in calls] == ["HeadObject", "GetObject"]
        assert calls[1][1]["Range"] == "bytes=10-109"
        calls.clear()
        assert client.get(page, headers={"If-None-Match": etag}).status_code == 304
        assert client.get(page, headers={"Range": f"bytes={SIZE}-"}).status_code == 416
        assert [name for name, _ in calls] == ["HeadObject", "HeadObject"]
    finally:
        events.unregister("provide-client-params.s3", record)


@pytest.mark.parametrize("store", ["s3"], indirect=True)
def test_a_file_saved_again_between_s3s_head_and_get_is_sent_whole_and_new(
    client, store, editor, bucket, s3
):
    """Headers and bytes always describe one version: the GET is pinned to the HEAD's ETag,
    and when the object changed in between (S3's 412) the download starts over once."""
    page, _, _, key = editor
    newer = PDF[::-1]
    events = storage.backend().client.meta.events
    gets: list[str] = []

    def save_again_first(params, **_):
        gets.append(params.get("IfMatch", ""))
        if len(gets) == 1:  # another process saves the file again right now
            bucket.put_object(Bucket=BUCKET, Key=s3 + key, Body=newer)

    events.register("provide-client-params.s3.GetObject", save_again_first)
    try:
        part = client.get(page, headers={"Range": "bytes=0-9"})
    finally:
        events.unregister("provide-client-params.s3.GetObject", save_again_first)
    assert len(gets) == 2 and gets[0] != gets[1]
    assert part.status_code == 206 and part.data == newer[:10]
    assert part.headers["ETag"] == gets[1]
