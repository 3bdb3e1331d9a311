"""The storage contract, run against both backends: the local disk and an S3 bucket on a real
S3-compatible server (moto in server mode). Whatever Herald stores reads back the same,
downloads carry the same headers, and a bad key or an unreachable store is refused clearly."""

from __future__ import annotations

import io
import urllib.request
from pathlib import Path

import pytest
from flask import Flask, send_file

from app import storage
from app.errors import NotFound
from app.storage import StorageError, parse_storage_url
from tests.helpers import free_port
from tests.s3server import keys_under

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 300 + b"\n%%EOF\n"  # binary, larger than a chunk


def stored_files(app: Flask) -> list[Path]:
    root = Path(app.config["STORAGE_DIR"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def body(response) -> bytes:
    """The bytes a client would receive (send_file answers in passthrough mode)."""
    try:
        return b"".join(response.response)
    finally:
        response.close()


def test_what_is_saved_loads_back_byte_for_byte(app, store):
    assert not storage.exists("ws1/run1/entry1/0.pdf")
    assert storage.save("ws1/run1/entry1/0.pdf", PDF) == len(PDF)
    assert storage.exists("ws1/run1/entry1/0.pdf")
    assert storage.load("ws1/run1/entry1/0.pdf") == PDF
    assert storage.backend().name == store


def test_saving_again_replaces_the_file(app, store):
    storage.save("thumbnails/7.png", b"first")
    storage.save("thumbnails/7.png", b"second")
    assert storage.load("thumbnails/7.png") == b"second"


def test_delete_removes_and_a_second_delete_is_no_error(app, store):
    storage.save("ws1/files/abc.pdf", PDF)
    storage.delete("ws1/files/abc.pdf")
    storage.delete("ws1/files/abc.pdf")
    assert not storage.exists("ws1/files/abc.pdf")
    with pytest.raises(FileNotFoundError):
        storage.load("ws1/files/abc.pdf")


def test_a_missing_file_is_file_not_found_and_its_download_not_found(app, store):
    with app.test_request_context(), pytest.raises(NotFound, match="file not found"):
        storage.send_stored("ws9/none.pdf", "none.pdf", "application/pdf")
    with pytest.raises(FileNotFoundError):
        storage.load("ws9/none.pdf")


@pytest.mark.parametrize(
    "key",
    ["../escape.pdf", "ws1/../../escape.pdf", "/etc/passwd", "ws1//x.pdf", "ws1/./x.pdf",
     "ws1\\x.pdf", "ws1/x\n.pdf", "", "ws1/", "k" * 1025],
)  # fmt: skip
def test_a_key_that_is_not_a_plain_relative_path_is_refused_and_nothing_stored(
    app, store, key, s3_endpoint, bucket
):
    with pytest.raises(ValueError, match="not a storage key"):
        storage.save(key, b"x")
    with pytest.raises(ValueError, match="not a storage key"):
        storage.load(key)
    assert stored_files(app) == []
    if store == "s3":
        assert keys_under(bucket, storage.backend().prefix) == []


def test_an_older_key_ending_in_a_report_name_still_reads(app, store):
    """Rows written before keys were made from ids alone end in the cleaned file name."""
    key = "ws1/run2/entry3/0-Relevé Müller (2).pdf"
    storage.save(key, PDF)
    assert storage.load(key) == PDF


@pytest.mark.parametrize(
    ("name", "attachment"), [("Relevé Müller.pdf", False), ("st-42.pdf", True)]
)
def test_a_download_keeps_name_type_and_bytes(app, store, name, attachment):
    storage.save("ws1/run1/entry1/0.pdf", PDF)
    with app.test_request_context():
        response = storage.send_stored(
            "ws1/run1/entry1/0.pdf", name, "application/pdf", as_attachment=attachment
        )
        # What werkzeug's send_file writes for that name: the behaviour downloads always had.
        expected = send_file(
            io.BytesIO(b""), mimetype="application/pdf", download_name=name,
            as_attachment=attachment,
        ).headers["Content-Disposition"]  # fmt: skip
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == expected
    assert response.mimetype == "application/pdf"
    assert response.content_length == len(PDF)
    assert body(response) == PDF
    if name.startswith("Relev"):
        assert expected == (
            "inline; filename=\"Releve Muller.pdf\"; filename*=UTF-8''Relev%C3%A9%20M%C3%BCller.pdf"
        )


def test_a_download_name_from_a_row_is_cleaned(app, store):
    storage.save("ws1/run1/entry1/0.pdf", PDF)
    with app.test_request_context():
        response = storage.send_stored("ws1/run1/entry1/0.pdf", "a\r\nb/../c.pdf", None)
    assert response.headers["Content-Disposition"] == 'inline; filename="a b_.._c.pdf"'
    assert response.mimetype == "application/pdf"  # guessed from the cleaned name
    body(response)


def test_a_private_cache_life_applies_to_bytes_sent_by_herald(app, store):
    storage.save("thumbnails/1.png", b"png")
    with app.test_request_context():
        response = storage.send_stored("thumbnails/1.png", "t.png", "image/png", max_age=3600)
    assert response.cache_control.private and response.cache_control.max_age == 3600
    assert not response.cache_control.no_cache
    body(response)


def test_prefixes_keep_two_installations_apart(app, s3, s3_endpoint, bucket):
    storage.save("ws1/files/a.pdf", b"mine")
    app.config["STORAGE_URL"] = app.config["STORAGE_URL"] + "-other"
    assert not storage.exists("ws1/files/a.pdf")
    storage.save("ws1/files/a.pdf", b"theirs")
    assert keys_under(bucket, s3) == [s3 + "ws1/files/a.pdf"]
    assert bucket.get_object(Bucket="herald-test", Key=s3 + "ws1/files/a.pdf")["Body"].read() == (
        b"mine"
    )


def test_a_presigned_download_redirects_to_the_store_with_the_same_headers(app, s3, s3_endpoint):
    app.config["S3_PRESIGN_SECONDS"] = 60
    storage.save("ws1/run1/entry1/0.pdf", PDF)
    with app.test_request_context():
        response = storage.send_stored("ws1/run1/entry1/0.pdf", "Relevé.pdf", "application/pdf")
        with pytest.raises(NotFound):  # no redirect to a file that is not there
            storage.send_stored("ws1/run1/entry1/9.pdf", "x.pdf", "application/pdf")
    assert response.status_code == 302
    assert response.location.startswith(f"{s3_endpoint}/herald-test/{s3}ws1/run1/entry1/0.pdf?")
    assert "X-Amz-Expires=60" in response.location
    assert response.headers["Cache-Control"] == "no-store"
    with urllib.request.urlopen(response.location, timeout=30) as fetched:
        assert fetched.read() == PDF
        assert fetched.headers["Content-Type"] == "application/pdf"
        assert fetched.headers["Content-Disposition"] == (
            "inline; filename=Releve.pdf; filename*=UTF-8''Relev%C3%A9.pdf"
        )


def test_an_unreachable_store_is_a_storage_error_that_names_no_secret(app, s3):
    app.config["S3_ENDPOINT_URL"] = f"http://127.0.0.1:{free_port()}"  # nothing listens
    with pytest.raises(StorageError) as raised:
        storage.save("ws1/files/a.pdf", b"x")
    assert isinstance(raised.value, OSError)  # callers treat it as a failing disk
    assert "S3 storage unreachable" in str(raised.value)
    assert app.config["S3_SECRET_ACCESS_KEY"] not in str(raised.value)


def test_a_refusing_store_is_a_storage_error(app, s3):
    app.config["STORAGE_URL"] = "s3://no-such-bucket-here/x"
    with pytest.raises(StorageError, match=r"S3 storage refused PutObject \(NoSuchBucket\)"):
        storage.save("ws1/files/a.pdf", b"x")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("", ("local", "/srv/storage", "", "")),
        ("file:///mnt/shared/herald", ("local", "/mnt/shared/herald", "", "")),
        ("s3://reports", ("s3", "", "reports", "")),
        ("s3://reports.example/herald/prod/", ("s3", "", "reports.example", "herald/prod/")),
    ],
)
def test_storage_urls_name_a_directory_or_a_bucket_and_prefix(url, expected):
    where = parse_storage_url(url, "/srv/storage")
    assert (where.kind, where.directory, where.bucket, where.prefix) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://host/x", "unknown scheme 'ftp'"),
        ("file://host/x", "absolute directory"),
        ("s3://AKIA:secret@bucket/x", "credentials go in AWS_ACCESS_KEY_ID"),
        ("s3://Bad_Bucket/x", "not an S3 bucket name"),
        ("s3://reports/a/../b", "not a plain path"),
    ],
)
def test_a_wrong_storage_url_stops_the_app_at_start_with_a_clear_message(url, message):
    app = Flask("check")
    app.config.update(STORAGE_URL=url, STORAGE_DIR="/srv/storage")
    with pytest.raises(ValueError, match=message) as raised:
        storage.init_app(app)
    assert "secret" not in str(raised.value)


def test_an_unknown_addressing_style_is_refused():
    app = Flask("check")
    app.config.update(STORAGE_URL="s3://reports", STORAGE_DIR="/x", S3_ADDRESSING_STYLE="dns")
    with pytest.raises(ValueError, match="auto, path, virtual"):
        storage.init_app(app)


def test_a_presign_life_beyond_sigv4s_week_is_refused():
    app = Flask("check")
    app.config.update(STORAGE_URL="s3://reports", STORAGE_DIR="/x", S3_PRESIGN_SECONDS=700000)
    with pytest.raises(ValueError, match="HERALD_S3_PRESIGN_SECONDS"):
        storage.init_app(app)
