"""CSV as spreadsheets export it: decoding, delimiter detection, rows, normalized storage.

The rules (docs/CSV.md) follow RFC 4180 for quoting, with the variations spreadsheets
produce: a byte order mark, UTF-16 ("Unicode text", tab-delimited), Windows-1252, and a
`;`, tab or `|` delimiter. Uploads and `sources import` both go through `read_csv`; what
is stored is `CsvTable.normalized()`, comma CSV in UTF-8 text, which `parse_csv_text`
with `","` reads back to the same columns and rows.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from app.datasources.sql import QueryError

# Form and command-line names of the delimiters a person may pick; "auto" detects.
DELIMITERS = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}
DELIMITER_NAMES = {char: name for name, char in DELIMITERS.items()}
# Form and command-line names of the encodings a person may pick; "auto" detects.
ENCODINGS = {"utf-8": "UTF-8", "utf-16": "UTF-16", "windows-1252": "Windows-1252"}
AUTO = "auto"

# Detection looks at this many records: enough to see a pattern, cheap on a large file.
SAMPLE_RECORDS = 50
# A field this large is a runaway quote or not CSV at all (csv's default limit is 128 KiB).
FIELD_LIMIT = 1_000_000
# Characters that make a normalized field quoted. Quoting every candidate delimiter, not
# only the comma, keeps detection on the stored text unambiguous: outside quotes only `,`
# can separate cells, so re-reading it with "auto" (editing a saved source) finds `,`.
_QUOTE_TRIGGER = re.compile(r'[,;\t|"\n]')
# UTF-8 multi-byte sequences: seen before an invalid byte they mean the file is UTF-8
# with a damaged or foreign byte, not Windows-1252 (which would turn them into "Ã©").
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")


# Process-wide in the csv module; raised once here so a long note or address cell fits.
csv.field_size_limit(FIELD_LIMIT)


class CsvError(QueryError):
    """A CSV that cannot be read as a table; the message names the line when there is one."""


@dataclass(frozen=True)
class CsvTable:
    """A CSV read as a table: header names, rows (every cell a string), how it was read.

    `encoding` is a label ("UTF-8 with BOM", "UTF-16 LE", "Windows-1252"…) or None for
    text that arrived already decoded (pasted); `delimiter` is the one character used.
    """

    columns: list[str]
    rows: list[dict[str, str]]
    delimiter: str
    encoding: str | None = None
    text: str = field(default="", repr=False)

    @property
    def delimiter_name(self) -> str:
        return DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))

    def normalized(self) -> str:
        """The table as comma CSV text, "\\n" line ends: what a data source stores."""
        lines = [_csv_line(self.columns)]
        lines += [_csv_line([row[c] for c in self.columns]) for row in self.rows]
        return "".join(line + "\n" for line in lines)


def read_csv(data: bytes | str, *, encoding: str = AUTO, delimiter: str = AUTO) -> CsvTable:
    """Read an uploaded CSV file (bytes) or pasted CSV text (str) as a table.

    `encoding` is "auto" or a key of ENCODINGS (ignored for str); `delimiter` is "auto",
    a key of DELIMITERS or one of their characters. Raises CsvError naming the line of
    the first problem: undecodable bytes, a row longer than the header, an unnamed or
    repeated column, a quote never closed.
    """
    if isinstance(data, bytes):
        text, label = decode_csv_bytes(data, encoding)
    else:
        text, label = data.removeprefix("\ufeff"), None
        _refuse_nul(text)
    return parse_csv_text(text, _delimiter_char(delimiter), encoding=label)


def decode_csv_bytes(data: bytes, encoding: str = AUTO) -> tuple[str, str]:
    """The text of a file and a label of its encoding.

    "auto": a UTF-8 BOM means UTF-8; a UTF-16 BOM (LE or BE) UTF-16; otherwise UTF-8
    when the bytes are valid UTF-8, else Windows-1252. A deterministic rule rather than
    a statistical detector: these are the encodings spreadsheets write, and a guess
    between similar 8-bit code pages on a short file is wrong as often as right.
    Raises CsvError naming the line of an undecodable byte or of a NUL character.
    """
    if encoding == AUTO:
        text, label = _decode_auto(data)
    elif encoding == "utf-8":
        text = _decode(data.removeprefix(codecs.BOM_UTF8), "utf-8", "UTF-8")
        label = "UTF-8 with BOM" if data.startswith(codecs.BOM_UTF8) else "UTF-8"
    elif encoding == "utf-16":
        text, label = _decode_utf16(data)
    elif encoding == "windows-1252":
        text, label = _decode(data, "cp1252", "Windows-1252"), "Windows-1252"
    else:
        raise CsvError(f"unknown encoding '{encoding}': use auto, {', '.join(ENCODINGS)}")
    _refuse_nul(text)
    return text, label


def parse_csv_text(
    text: str, delimiter: str | None = None, *, encoding: str | None = None, strict: bool = True
) -> CsvTable:
    """The table in CSV `text`; `delimiter` None detects it among `,` `;` tab `|`.

    The first non-blank line names the columns. A row with fewer cells than the header
    gets "" for the missing ones; a longer one is refused naming its line (the physical
    line where the record starts, quoted line breaks counted) unless the extra cells are
    empty: spreadsheets pad every line to the sheet's used width, header included, so
    unnamed trailing header cells and empty trailing cells are dropped. Lines that are empty or
    hold only empty cells are skipped. `strict` False reads text saved before these
    rules as it was read then: no header checks, lenient quoting.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if delimiter is None:
        delimiter = detect_delimiter(text)
    columns, rows = iter_csv_rows(text, delimiter, strict=strict)
    return CsvTable(columns, list(rows), delimiter, encoding, text)


def iter_csv_rows(
    text: str, delimiter: str, *, strict: bool = True
) -> tuple[list[str], Iterator[dict[str, str]]]:
    """The columns of CSV `text` and its rows, read one at a time as the iterator is
    consumed (`parse_csv_text`'s rules, any line ends). The header is read at once: CsvError
    when there is none; a bad row raises CsvError when the iterator reaches it."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # no copy when there is none
    reader = csv.reader(_lines(text), delimiter=delimiter, strict=strict)
    records = _records(reader)
    first = next(records, None)
    if first is None:
        raise CsvError("CSV has no header row: the first line must name the columns")
    columns = _header(first[1]) if strict else first[1]
    return columns, _rows(records, columns, strict)


def _rows(
    records: Iterator[tuple[int, list[str]]], columns: list[str], strict: bool
) -> Iterator[dict[str, str]]:
    for line, record in records:
        if len(record) > len(columns) and strict:
            # Padding to a used range wider than the named columns carries no data.
            while len(record) > len(columns) and not record[-1].strip():
                record.pop()
        if len(record) > len(columns):
            raise CsvError(
                f"CSV line {line} has {len(record)} cells but the header has "
                f"{_columns(len(columns))}"
            )
        record += [""] * (len(columns) - len(record))
        yield dict(zip(columns, record, strict=True))


def _lines(text: str) -> Iterator[str]:
    """The lines of `text` with their "\\n", one at a time: what `io.StringIO(text,
    newline="")` gives for "\\n" line ends, without a second copy of the text (StringIO
    holds 4 bytes per character)."""
    start, size = 0, len(text)
    while start < size:
        end = text.find("\n", start)
        if end < 0:
            yield text[start:]
            return
        yield text[start : end + 1]
        start = end + 1


def detect_delimiter(text: str) -> str:
    """The delimiter among `,` `;` tab `|` that splits the first records most consistently.

    Each candidate parses the first SAMPLE_RECORDS records (quotes respected). Best: one
    that gives the header at least two columns, then no row longer than the header, then
    the most rows exactly as wide as the header, then the most columns; ties go to the
    earlier of `,` `;` tab `|`. A one-column file thus gets a character that splits none
    of its lines (`Acme, Inc.` in a one-column semicolon export stays one value).
    csv.Sniffer is not used: it guesses from character frequencies and fails ("Could not
    determine delimiter") or picks a character inside values on short files.
    """
    best, best_score = ",", None
    for char in DELIMITERS.values():
        reader = csv.reader(_lines(text), delimiter=char)
        try:
            records = [r for _, r in islice(_records(reader), SAMPLE_RECORDS)]
        except csv.Error:
            continue
        if not records:
            continue
        width, body = len(records[0]), records[1:]
        score = (
            width >= 2,
            all(len(r) <= width for r in body),
            sum(len(r) == width for r in body) / max(len(body), 1),
            width,
        )
        if best_score is None or score > best_score:
            best, best_score = char, score
    return best


def _records(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, cells) for each record that holds a non-blank cell."""
    start = 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise CsvError(_quote_problem(start, str(exc))) from None
        if any(cell.strip() for cell in record):
            yield start, record
        start = reader.line_num + 1


def _columns(count: int) -> str:
    return f"{count} column" if count == 1 else f"{count} columns"


def _quote_problem(line: int, reason: str) -> str:
    if "unexpected end of data" in reason:
        return f"CSV line {line}: a quoted value is never closed"
    if "expected after" in reason:
        return f"CSV line {line}: a closing quote must be followed by the delimiter"
    if "field larger than field limit" in reason:
        return f"CSV line {line}: a value is longer than {FIELD_LIMIT:,} characters"
    return f"CSV line {line}: {reason}"


def _header(record: list[str]) -> list[str]:
    names = [name.strip() for name in record]
    while names and not names[-1]:
        names.pop()  # a spreadsheet's used range padded past the named columns
    for number, name in enumerate(names, start=1):
        if not name:
            raise CsvError(f"CSV header: column {number} has no name")
        first = names.index(name) + 1
        if first != number:
            raise CsvError(f"CSV header: columns {first} and {number} are both named '{name}'")
    return names


def _csv_line(cells: list[str]) -> str:
    return ",".join(
        '"' + cell.replace('"', '""') + '"' if _QUOTE_TRIGGER.search(cell) else cell
        for cell in cells
    )


def _delimiter_char(delimiter: str) -> str | None:
    if delimiter == AUTO:
        return None
    if delimiter in DELIMITERS:
        return DELIMITERS[delimiter]
    if delimiter in DELIMITER_NAMES:
        return delimiter
    raise CsvError(f"unknown delimiter '{delimiter}': use auto, {', '.join(DELIMITERS)}")


def _decode_auto(data: bytes) -> tuple[str, str]:
    if data.startswith(codecs.BOM_UTF8):
        return _decode(data[len(codecs.BOM_UTF8) :], "utf-8", "UTF-8"), "UTF-8 with BOM"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode_utf16(data)
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError as exc:
        if _UTF8_MULTIBYTE.search(data, 0, exc.start):
            raise CsvError(
                f"CSV line {_line_at(data, exc.start)} is not UTF-8 (byte "
                f"0x{data[exc.start]:02X}) although earlier lines are: the file mixes "
                "encodings; save it again as CSV UTF-8"
            ) from None
    return _decode(data, "cp1252", "UTF-8 or Windows-1252"), "Windows-1252"


def _decode_utf16(data: bytes) -> tuple[str, str]:
    if data.startswith(codecs.BOM_UTF16_BE):
        return _decode(data[2:], "utf-16-be", "UTF-16"), "UTF-16 BE"
    # Little-endian is what Windows writes, and what "utf-16" assumes without a BOM.
    return _decode(data.removeprefix(codecs.BOM_UTF16_LE), "utf-16-le", "UTF-16"), "UTF-16 LE"


def _decode(data: bytes, codec: str, what: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        prefix = data[: exc.start].decode(codec, errors="replace")
        line = prefix.count("\n") + 1
        raise CsvError(
            f"CSV line {line} cannot be read: byte 0x{data[exc.start]:02X} is not {what} text"
        ) from None


def _line_at(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _refuse_nul(text: str) -> None:
    # NUL is never text: an 8-bit read of UTF-16 without a BOM, or a binary file.
    at = text.find("\x00")
    if at >= 0:
        line = text.count("\n", 0, at) + 1
        raise CsvError(
            f"CSV line {line} holds a NUL character: this is not a text file, or UTF-16 "
            "without a byte order mark; save it again as CSV UTF-8"
        )
