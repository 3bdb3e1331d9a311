"""What every artifact store offers (local disk, S3), and the rules their keys follow."""

from __future__ import annotations

import re
import unicodedata
from typing import Protocol
from urllib.parse import quote

from flask import Response
from werkzeug.http import dump_options_header

# A key is a relative, slash-separated name Herald builds from ids ("ws1/run2/entry3/0.pdf").
# Older rows hold keys ending in a cleaned report file name (app/filenames.py), so any
# character is allowed inside a segment; only the structure is checked.
_BAD_SEGMENT = re.compile(r"^(|\.|\.\.)$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\\]")
MAX_KEY_BYTES = 1024  # S3's limit on an object key (UTF-8)


class StorageError(OSError):
    """The store could not be reached or refused the request (never a missing file: that
    is FileNotFoundError). An OSError, so callers treat it like a failing disk."""


def check_key(key: str) -> str:
    """`key` unchanged when it is a relative path of non-empty segments, without ``.``,
    ``..``, backslashes or control characters, and at most MAX_KEY_BYTES of UTF-8.

    Raises ValueError otherwise (a key never escapes the store's root or prefix)."""
    if (
        not isinstance(key, str)
        or key.startswith("/")
        or _CONTROL.search(key)
        or any(_BAD_SEGMENT.match(segment) for segment in key.split("/"))
        or len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES
    ):
        raise ValueError(f"not a storage key: {key!r}")
    return key


def content_disposition(download_name: str, *, as_attachment: bool) -> str:
    """The Content-Disposition value werkzeug's send_file writes for `download_name`:
    ``filename`` in ASCII and, when the name is not ASCII, RFC 6266 ``filename*`` in the
    RFC 5987 encoding. S3 echoes it on a presigned download, so both ways read the same."""
    kind = "attachment" if as_attachment else "inline"
    try:
        download_name.encode("ascii")
    except UnicodeEncodeError:
        simple = unicodedata.normalize("NFKD", download_name).encode("ascii", "ignore")
        quoted = quote(download_name, safe="!#$&+-.^_`|~")
        names = {"filename": simple.decode("ascii"), "filename*": f"UTF-8''{quoted}"}
    else:
        names = {"filename": download_name}
    return dump_options_header(kind, names)


class Backend(Protocol):
    """An artifact store. Keys come from `check_key`; a missing key raises FileNotFoundError,
    an unreachable or refusing store StorageError."""

    name: str

    def save(self, key: str, content: bytes) -> int:
        """Store `content` under `key` whole (never half a file); return its size in bytes."""

    def load(self, key: str) -> bytes:
        """The bytes stored under `key`."""

    def exists(self, key: str) -> bool:
        """Whether something is stored under `key`."""

    def delete(self, key: str) -> None:
        """Remove what is stored under `key`; nothing stored is not an error."""

    def response(
        self, key: str, download_name: str, mimetype: str, *, as_attachment: bool, max_age: int
    ) -> Response:
        """A download of `key` (streamed, or a redirect the store answers); `max_age` seconds
        of private caching when streamed (0: none)."""
