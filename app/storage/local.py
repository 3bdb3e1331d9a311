"""Artifacts on the local disk: a directory tree under STORAGE_DIR (one host, or a shared mount)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from flask import Response, send_file

from app.storage.base import check_key


class LocalBackend:
    """Files under `root`; a key is a relative path below it."""

    name = "local"

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if not path.is_relative_to(self.root.resolve()):  # a symlink pointing out
            raise ValueError(f"storage key escapes the storage root: {key!r}")
        return path

    def save(self, key: str, content: bytes) -> int:
        """Write `content` under `key` atomically (a temporary file renamed over it)."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return len(content)

    def load(self, key: str) -> bytes:
        """The file's bytes; FileNotFoundError when there is none."""
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        """Whether the file is there."""
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        """Remove the file if it is there."""
        self._path(key).unlink(missing_ok=True)

    def response(
        self, key: str, download_name: str, mimetype: str, *, as_attachment: bool, max_age: int
    ) -> Response:
        """send_file: conditional requests and byte ranges included."""
        response = send_file(
            self._path(key),
            mimetype=mimetype,
            download_name=download_name,
            as_attachment=as_attachment,
        )
        if max_age:
            response.cache_control.no_cache = None
            response.cache_control.private, response.cache_control.max_age = True, max_age
        return response
