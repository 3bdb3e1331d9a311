"""File storage for generated artifacts: a directory tree under STORAGE_DIR."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from flask import Response, current_app, send_file

from app.filenames import clean_filename


def _root() -> Path:
    return Path(current_app.config["STORAGE_DIR"])


def _path(key: str) -> Path:
    path = (_root() / key).resolve()
    if not path.is_relative_to(_root().resolve()):
        raise ValueError(f"storage key escapes the storage root: {key}")
    return path


def save(key: str, content: bytes) -> int:
    """Write `content` under `key` atomically (never half a file); return its size."""
    path = _path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    os.replace(tmp, path)
    return len(content)


def load(key: str) -> bytes:
    return _path(key).read_bytes()


def local_path(key: str) -> Path:
    """Filesystem path of a stored file, for send_file."""
    return _path(key)


def send_stored(
    key: str, download_name: str, mimetype: str | None, *, as_attachment: bool = False
) -> Response:
    """A stored file as a download; its name cleaned (app.filenames) and, when not ASCII,
    sent as RFC 6266 ``filename*`` (werkzeug writes the RFC 5987 encoding)."""
    return send_file(
        local_path(key),
        mimetype=mimetype,
        download_name=clean_filename(download_name, extension=None),
        as_attachment=as_attachment,
    )
