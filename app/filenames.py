"""File names made from templates and row values: one cleaning for every place a name goes.

Report files, email attachments, Google Drive files and download names (Content-Disposition)
all pass through `clean_filename`, so a row value can never name a path, a device or a header:

- NFC; control characters and line breaks become spaces, bidirectional overrides
  (U+202A–U+202E, U+2066–U+2069, which can disguise an extension) are dropped;
- ``/ \\ : * ? " < > |`` become ``_`` (reserved on Windows, separators on Unix);
- runs of whitespace become one space; leading and trailing spaces and dots are dropped
  (no hidden files, no ``..``; Windows drops trailing dots itself);
- a Windows device name (``CON``, ``NUL``, ``COM1``…) as the stem gets a leading ``_``;
- the extension is kept (appended when missing), and the whole name is at most
  `MAX_FILENAME_BYTES` bytes of UTF-8 (file systems count bytes; 255 is the common limit,
  and the storage prefixes the report's position);
- non-ASCII letters are kept (downloads carry them in RFC 6266 ``filename*``, mail in
  RFC 2231 parameters).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

MAX_FILENAME_BYTES = 200
_FORBIDDEN = re.compile(r'[/\\:*?"<>|]')
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_DEVICES = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{n}" for p in ("COM", "LPT") for n in range(10)}


def clean_filename(name: str, *, default: str = "report", extension: str | None = ".pdf") -> str:
    """A safe file name from `name` (see the module docstring); `default` when nothing is left.

    `extension` (with its dot) is appended when the name does not end with it; None keeps
    whatever extension the name has.
    """
    text = unicodedata.normalize("NFC", _SURROGATE.sub("\ufffd", name or ""))
    text = _BIDI.sub("", _CONTROL.sub(" ", text))
    text = " ".join(_FORBIDDEN.sub("_", text).split())
    if extension is None:
        stem, dot, ext = text.rpartition(".")
        stem, ext = (stem, dot + ext) if dot and stem and " " not in ext else (text, "")
    else:
        ext = extension
        stem = text[: -len(ext)] if text.lower().endswith(ext.lower()) else text
    stem = stem.strip(" .") or default
    if stem.split(".")[0].upper() in _DEVICES:
        stem = "_" + stem
    budget = MAX_FILENAME_BYTES - len(ext.encode("utf-8"))
    # Cut on a character boundary: a partial UTF-8 sequence at the end is dropped.
    stem = stem.encode("utf-8")[:budget].decode("utf-8", "ignore")
    return (stem.rstrip(" .") or default) + ext


def unique_filenames(names: Iterable[str]) -> list[str]:
    """`names` with repeats told apart as ``name (2).pdf``, ``name (3).pdf``… (case-insensitive)."""
    seen: set[str] = set()
    out = []
    for name in names:
        candidate, number = name, 1
        while candidate.lower() in seen:
            number += 1
            stem, dot, ext = name.rpartition(".")
            candidate = f"{stem} ({number}).{ext}" if dot else f"{name} ({number})"
        seen.add(candidate.lower())
        out.append(candidate)
    return out


# The extensions of the files a report is made into (docs/OUTPUTS.md).
REPORT_EXTENSIONS = (".pdf", ".csv", ".xlsx")


def with_extension(name: str, extension: str, *, default: str = "report") -> str:
    """`name` cleaned (`clean_filename`) with `extension` instead of a report extension it
    ends with: one pattern such as ``statement-{entry.seq}.pdf`` names the entry's PDF, CSV
    and XLSX files (``statement-1.pdf``, ``statement-1.csv``, ``statement-1.xlsx``)."""
    stem = name.rstrip(" .")
    for known in REPORT_EXTENSIONS:
        if stem.lower().endswith(known):
            stem = stem[: -len(known)]
            break
    return clean_filename(stem, default=default, extension=extension)


def named_like(name: str, filename: str, *, default: str = "report") -> str:
    """`name` (a delivery's file name pattern, filled) with the extension of the report file
    `filename` (`with_extension`): a pattern ending in ``.pdf`` names a CSV ``….csv``."""
    stem, dot, ext = filename.rpartition(".")
    if not dot or not stem:
        return clean_filename(name, default=default, extension=None)
    return with_extension(name, "." + ext, default=default)
