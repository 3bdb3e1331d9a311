"""Where generated artifacts live: report PDFs, review documents, thumbnails, dry-run PDFs.

Every artifact goes through this module; no caller opens a path. STORAGE_URL (env
HERALD_STORAGE_URL, docs/STORAGE.md) picks the store:

- unset or empty: the directory STORAGE_DIR on this host (`local.LocalBackend`);
- ``file:///absolute/dir``: that directory (a mount shared by every host, say);
- ``s3://bucket`` or ``s3://bucket/prefix``: an S3-compatible bucket (`s3.S3Backend`), with
  S3_ENDPOINT_URL, S3_REGION and credentials from the environment.

Keys are built by Herald from ids (``ws1/run2/entry3/0.pdf``); `base.check_key` refuses any
key that is not a plain relative path. A missing key raises FileNotFoundError; a store that
cannot be reached raises StorageError, an OSError.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app

from app.errors import NotFound
from app.filenames import clean_filename
from app.storage.base import Backend, StorageError, check_key, content_disposition
from app.storage.local import LocalBackend
from app.storage.s3 import S3Backend, make_client

__all__ = [
    "Backend",
    "StorageError",
    "backend",
    "check_key",
    "content_disposition",
    "delete",
    "exists",
    "load",
    "parse_storage_url",
    "save",
    "send_stored",
]

# AWS's rule for bucket names (3–63 lowercase letters, digits, dots and hyphens).
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # SigV4's limit on a presigned URL's life
ADDRESSING_STYLES = ("auto", "path", "virtual")  # botocore's s3 "addressing_style"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Location:
    """A parsed STORAGE_URL: a local directory, or a bucket and a key prefix ("" or "a/b/")."""

    kind: str
    directory: str = ""
    bucket: str = ""
    prefix: str = ""


def parse_storage_url(url: str | None, storage_dir: str) -> Location:
    """The store `url` names; `storage_dir` when it is empty.

    Raises ValueError naming what is wrong (the URL itself is not echoed: it may have been
    given credentials, which belong in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)."""
    if not url:
        return Location("local", directory=storage_dir)
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc or not parts.path.startswith("/"):
            raise ValueError("HERALD_STORAGE_URL: a file URL names an absolute directory")
        return Location("local", directory=parts.path)
    if parts.scheme != "s3":
        raise ValueError(
            f"HERALD_STORAGE_URL: unknown scheme {parts.scheme!r}; "
            "use file:///absolute/dir or s3://bucket/prefix"
        )
    if "@" in parts.netloc or parts.query or parts.fragment:
        raise ValueError(
            "HERALD_STORAGE_URL: an s3 URL is s3://bucket/prefix only; credentials go in "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    if not _BUCKET.fullmatch(parts.netloc):
        raise ValueError("HERALD_STORAGE_URL: not an S3 bucket name (3–63 of a-z 0-9 . -)")
    prefix = parts.path.strip("/")
    if prefix:
        try:
            check_key(prefix)
        except ValueError:
            raise ValueError("HERALD_STORAGE_URL: the key prefix is not a plain path") from None
    return Location("s3", bucket=parts.netloc, prefix=f"{prefix}/" if prefix else "")


def _presign_seconds(config: Any) -> int:
    seconds = int(config.get("S3_PRESIGN_SECONDS") or 0)
    if not 0 <= seconds <= MAX_PRESIGN_SECONDS:
        raise ValueError(
            f"HERALD_S3_PRESIGN_SECONDS must be 0 (stream) to {MAX_PRESIGN_SECONDS} seconds"
        )
    return seconds


def init_app(app: Flask) -> None:
    """Check the storage settings when the app starts, so a wrong URL stops it at once."""
    parse_storage_url(app.config.get("STORAGE_URL"), app.config["STORAGE_DIR"])
    _presign_seconds(app.config)
    if (app.config.get("S3_ADDRESSING_STYLE") or "auto") not in ADDRESSING_STYLES:
        raise ValueError(
            "HERALD_S3_ADDRESSING_STYLE must be one of " + ", ".join(ADDRESSING_STYLES)
        )


def _build(config: Any) -> Backend:
    where = parse_storage_url(config.get("STORAGE_URL"), config["STORAGE_DIR"])
    if where.kind == "local":
        return LocalBackend(where.directory)
    client = make_client(
        endpoint_url=config.get("S3_ENDPOINT_URL"),
        region=config.get("S3_REGION"),
        access_key_id=config.get("S3_ACCESS_KEY_ID"),
        secret_access_key=config.get("S3_SECRET_ACCESS_KEY"),
        addressing_style=config.get("S3_ADDRESSING_STYLE") or "auto",
    )
    return S3Backend(client, where.bucket, where.prefix, _presign_seconds(config))


_SETTINGS = (
    "STORAGE_URL",
    "STORAGE_DIR",
    "S3_ENDPOINT_URL",
    "S3_REGION",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
    "S3_ADDRESSING_STYLE",
    "S3_PRESIGN_SECONDS",
)


def backend() -> Backend:
    """The current app's store, made once per process and settings (boto3 clients are
    thread-safe, but are not carried across a fork)."""
    config = current_app.config
    settings = (os.getpid(), *(config.get(name) for name in _SETTINGS))
    made: dict = current_app.extensions.setdefault("herald.storage", {})
    found = made.get(settings)
    if found is None:
        made.clear()  # settings changed (tests switch stores): drop the old client
        found = made[settings] = _build(config)
    return found


def save(key: str, content: bytes) -> int:
    """Store `content` under `key`, whole or not at all; return its size in bytes."""
    return backend().save(key, content)


def load(key: str) -> bytes:
    """The bytes stored under `key` (FileNotFoundError when there are none)."""
    return backend().load(key)


def exists(key: str) -> bool:
    """Whether something is stored under `key`."""
    return backend().exists(key)


def delete(key: str) -> None:
    """Remove what is stored under `key`, if anything."""
    backend().delete(key)


def send_stored(
    key: str,
    download_name: str,
    mimetype: str | None,
    *,
    as_attachment: bool = False,
    max_age: int = 0,
) -> Response:
    """A stored file as a download, for a view that has already checked permission.

    Its name is cleaned (app.filenames) and, when not ASCII, sent as RFC 6266 ``filename*``
    (werkzeug writes the RFC 5987 encoding). `max_age` seconds of private caching when the
    bytes come through Herald (0: revalidate). Raises NotFound when nothing is stored under
    `key` (a 404 page or API envelope; never a redirect to the store's own error)."""
    name = clean_filename(download_name, extension=None)
    mimetype = mimetype or mimetypes.guess_type(name)[0] or "application/octet-stream"
    try:
        return backend().response(key, name, mimetype, as_attachment=as_attachment, max_age=max_age)
    except FileNotFoundError:
        log.warning("nothing stored under %s", key)
        raise NotFound("file not found") from None
