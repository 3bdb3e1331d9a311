"""A data section's rows as a spreadsheet file: CSV (RFC 4180) or XLSX (XlsxWriter).

Rows are what a data source returns (`app.datasources.fetch.fetch_rows`): dicts whose values
are str, int, float, bool or None (SQL dates arrive as ISO text, CSV sources as text). The
columns of a table are the keys of its rows in first-seen order. The rules (number and date
recognition, formula neutralising) are documented in docs/OUTPUTS.md.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import xlsxwriter

from app.datasources.text import clean_text

CSV_TYPE = "text/csv"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_TYPE = "application/pdf"
# Each output format's file extension and content type (IANA registrations: RFC 7111 for
# text/csv, ECMA-376 for the OOXML spreadsheet type).
FORMATS: dict[str, tuple[str, str]] = {
    "pdf": (".pdf", PDF_TYPE),
    "csv": (".csv", CSV_TYPE),
    "xlsx": (".xlsx", XLSX_TYPE),
}
CSV_DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}

# A number written the canonical way: no leading zeros (an account "007" stays text), no
# leading "+", no thousands separators. Such text is a number in both output formats.
_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
# Excel keeps 15 significant digits: longer integers (card or order numbers) stay text.
_MAX_INT_DIGITS = 15
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?")
# OWASP "CSV Injection": a cell starting with one of these is read as a formula by Excel,
# LibreOffice and Google Sheets (tab and CR too, as some importers strip them first).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Sheet names: at most 31 characters, none of []:*?/\ (Excel refuses the workbook otherwise).
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
MAX_SHEET_NAME = 31
_MIN_WIDTH, _MAX_WIDTH = 6, 60
# Excel's worksheet limits ("Excel specifications and limits", Microsoft): 1,048,576 rows
# (the header takes one), 16,384 columns, 32,767 characters in a cell. XlsxWriter skips a
# cell beyond them and cuts a longer text short without a word, so they are checked here.
MAX_XLSX_ROWS = 1_048_576 - 1
MAX_XLSX_COLUMNS = 16_384
MAX_XLSX_CELL = 32_767
_FIRST_DAY, _LAST_MOMENT = datetime(1900, 1, 1), datetime(9999, 12, 31, 23, 59, 59)


class TableError(ValueError):
    """Rows that do not fit the file asked for (an XLSX limit); the message names the
    section, and the row and column where one cell is at fault."""


def columns_of(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """Column names of `rows`: every key, in the order first seen."""
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def is_plain_number(text: str) -> bool:
    """Whether `text` is a number written canonically (`-12.5`, `3e4`; not `007`, `+1`)."""
    return _NUMBER.fullmatch(text) is not None


def neutralise(text: str) -> str:
    """A CSV cell that no spreadsheet reads as a formula: text starting with = + - @ tab or
    CR gets a leading `'` (OWASP); a plain negative number (`-12.5`) stays as it is, as it
    holds no formula and a spreadsheet must still read it as a number."""
    if text.startswith(FORMULA_STARTS) and not is_plain_number(text):
        return "'" + text
    return text


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)  # a number carries no formula, negative or not
    return neutralise(str(value))


def rows_to_csv(
    rows: Sequence[Mapping[str, Any]], *, delimiter: str = ",", bom: bool = False
) -> bytes:
    """`rows` as CSV bytes: UTF-8 (with a BOM when `bom`, which Excel needs to read UTF-8),
    a header line of the columns, CRLF line ends and double-quote quoting as RFC 4180 says;
    `delimiter` is one of CSV_DELIMITERS (ValueError otherwise)."""
    if delimiter not in CSV_DELIMITERS:
        raise ValueError(f"delimiter must be one of {', '.join(map(repr, CSV_DELIMITERS))}")
    columns = columns_of(rows)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([neutralise(c) for c in columns])
    for row in rows:
        writer.writerow([_csv_cell(row.get(c)) for c in columns])
    text = out.getvalue()
    if text.startswith("ID"):
        # Excel takes a file starting with the letters "ID" for a SYLK file and refuses it
        # ("SYLK: File format is not valid", Microsoft KB 215591). Any field may be quoted
        # (RFC 4180), and a first field starting "ID" holds nothing that needs escaping.
        first = neutralise(columns[0])
        text = f'"{first}"' + text[len(first) :]
    text = ("\ufeff" if bom else "") + text
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate somewhere: rare, so not looked for first
        return clean_text(text).encode("utf-8")


def spreadsheet_value(value: Any) -> Any:
    """The typed cell value of a row value: int/float for numbers (also canonical number
    text), date/datetime for ISO dates and times inside Excel's calendar (1900-01-01 to
    9999-12-31), bool, None, else the text itself. Integers of more than 15 digits stay text,
    as Excel keeps only 15 significant digits; so does number text too large for a float."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**_MAX_INT_DIGITS:
        return str(value)  # Excel would round it to 15 digits
    if isinstance(value, date):
        return value if _in_excel_calendar(value) else value.isoformat()
    if value is None or isinstance(value, bool | int | float):
        return value
    text = str(value)
    if is_plain_number(text):
        if re.fullmatch(r"-?[0-9]+", text):
            return int(text) if len(text.lstrip("-")) <= _MAX_INT_DIGITS else text
        number = float(text)
        # "1e400" overflows to infinity, which XlsxWriter writes as an error formula.
        return number if math.isfinite(number) else text
    parse = date.fromisoformat if _DATE.fullmatch(text) else None
    if parse is None and _DATETIME.fullmatch(text):
        parse = datetime.fromisoformat
    if parse is not None:
        try:
            moment = parse(text)
        except ValueError:  # 2026-13-01: only looks like a date
            return text
        return moment if _in_excel_calendar(moment) else text
    return text


def _in_excel_calendar(value: date) -> bool:
    # Excel's dates run from 1900-01-01 to 9999-12-31 ("Excel specifications and limits");
    # outside them the serial is negative or too large and the cell shows only ####.
    if isinstance(value, datetime):
        return _FIRST_DAY <= value.replace(tzinfo=None) <= _LAST_MOMENT
    return _FIRST_DAY.date() <= value


def sheet_names(names: Sequence[str]) -> list[str]:
    """Valid, distinct sheet names for `names`: forbidden characters become `_`, at most 31
    characters, no leading or trailing `'`, repeats numbered `name (2)` (case-insensitive,
    as Excel compares them)."""
    out: list[str] = []
    seen: set[str] = set()
    for name in names:
        base = _SHEET_FORBIDDEN.sub("_", name).strip("'").strip() or "Sheet"
        candidate, number = base[:MAX_SHEET_NAME], 1
        while candidate.casefold() in seen:
            number += 1
            suffix = f" ({number})"
            candidate = base[: MAX_SHEET_NAME - len(suffix)] + suffix
        seen.add(candidate.casefold())
        out.append(candidate)
    return out


def _width(value: Any) -> int:
    if isinstance(value, datetime):
        return 19
    if isinstance(value, date):
        return 10
    return max((len(line) for line in str(value).splitlines()), default=0)


def rows_to_xlsx(sections: Sequence[tuple[str, Sequence[Mapping[str, Any]]]]) -> bytes:
    """One workbook with a sheet per (name, rows) section: a bold header row frozen in place,
    numbers as numbers, dates in a date format, columns as wide as their content (6–60).

    Raises TableError for what an XLSX sheet cannot hold (more than 1,048,575 rows or 16,384
    columns, a cell over 32,767 characters), naming the section, row and column: XlsxWriter
    would drop or cut it without a word."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "nan_inf_to_errors": True,
        },
    )
    header = workbook.add_format({"bold": True})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    datetime_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    for name, (section, rows) in zip(sheet_names([s[0] for s in sections]), sections, strict=True):
        sheet = workbook.add_worksheet(name)
        columns = columns_of(rows)
        _check_size(section, len(rows), len(columns))
        widths = [len(c) for c in columns]
        for col, column in enumerate(columns):
            sheet.write_string(0, col, _sheet_text(column, section, 0, column), header)
        for r, row in enumerate(rows, start=1):
            for col, column in enumerate(columns):
                value = spreadsheet_value(row.get(column))
                if isinstance(value, str):
                    value = _sheet_text(value, section, r, column)
                widths[col] = max(widths[col], _width(value) if value is not None else 0)
                _write(sheet, r, col, value, date_format, datetime_format)
        for col, width in enumerate(widths):
            sheet.set_column(col, col, min(max(width + 2, _MIN_WIDTH), _MAX_WIDTH))
        sheet.freeze_panes(1, 0)
    workbook.close()
    return buffer.getvalue()


def _check_size(section: str, rows: int, columns: int) -> None:
    if rows > MAX_XLSX_ROWS:
        raise TableError(
            f"section '{section}' has {rows:,} rows; an XLSX sheet holds at most "
            f"{MAX_XLSX_ROWS:,} below its header (a CSV file has no such limit)"
        )
    if columns > MAX_XLSX_COLUMNS:
        raise TableError(
            f"section '{section}' has {columns:,} columns; an XLSX sheet holds at most "
            f"{MAX_XLSX_COLUMNS:,}"
        )


def _sheet_text(text: str, section: str, row: int, column: str) -> str:
    """`text` for a cell (lone surrogates replaced); TableError when it is longer than a
    cell holds. Excel counts UTF-16 units, so a character beyond U+FFFF counts twice."""
    text = clean_text(text)
    units = len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2
    if units > MAX_XLSX_CELL:
        where = "the column name" if row == 0 else f"row {row:,}"
        raise TableError(
            f"section '{section}', {where}, column '{clean_text(column)[:60]}': "
            f"{units:,} characters; an XLSX cell holds at most {MAX_XLSX_CELL:,}"
        )
    return text


def _write(sheet: Any, row: int, col: int, value: Any, date_fmt: Any, datetime_fmt: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, int | float):
        sheet.write_number(row, col, value)
    elif isinstance(value, datetime):
        _write_moment(sheet, row, col, value.replace(tzinfo=None), datetime_fmt)
    elif isinstance(value, date):
        _write_moment(sheet, row, col, datetime(value.year, value.month, value.day), date_fmt)
    else:
        sheet.write_string(row, col, str(value))


def _write_moment(sheet: Any, row: int, col: int, moment: datetime, fmt: Any) -> None:
    if moment.date() == _FIRST_DAY.date():
        # XlsxWriter takes a datetime on 1900-01-01 for a bare time of day (serial 0, shown
        # as 1900-01-00); that day is serial 1.
        since_midnight = moment - _FIRST_DAY
        sheet.write_number(row, col, 1 + since_midnight.total_seconds() / 86_400, fmt)
    else:
        sheet.write_datetime(row, col, moment, fmt)
