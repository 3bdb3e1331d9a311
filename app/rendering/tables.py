"""A data section's rows as a spreadsheet file: CSV (RFC 4180) or XLSX (XlsxWriter).

Rows are what a data source returns (`app.datasources.fetch.fetch_rows`): dicts whose values
are str, int, float, bool or None (SQL dates arrive as ISO text, CSV sources as text). The
columns of a table are the keys of its rows in first-seen order. The rules (number and date
recognition, formula neutralising) are documented in docs/OUTPUTS.md.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import xlsxwriter

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
    return ("\ufeff" + text if bom else text).encode("utf-8")


def spreadsheet_value(value: Any) -> Any:
    """The typed cell value of a row value: int/float for numbers (also canonical number
    text), date/datetime for ISO dates and times, bool, None, else the text itself. Integers
    of more than 15 digits stay text, as Excel keeps only 15 significant digits."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**_MAX_INT_DIGITS:
        return str(value)  # Excel would round it to 15 digits
    if value is None or isinstance(value, bool | int | float | date):
        return value
    text = str(value)
    if is_plain_number(text):
        if re.fullmatch(r"-?[0-9]+", text):
            return int(text) if len(text.lstrip("-")) <= _MAX_INT_DIGITS else text
        return float(text)
    if _DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            return text
    if _DATETIME.fullmatch(text):
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            return text
    return text


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
    numbers as numbers, dates in a date format, columns as wide as their content (6–60)."""
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
    for name, (_, rows) in zip(sheet_names([s[0] for s in sections]), sections, strict=True):
        sheet = workbook.add_worksheet(name)
        columns = columns_of(rows)
        widths = [len(c) for c in columns]
        for col, column in enumerate(columns):
            sheet.write_string(0, col, column, header)
        for r, row in enumerate(rows, start=1):
            for col, column in enumerate(columns):
                value = spreadsheet_value(row.get(column))
                widths[col] = max(widths[col], _width(value) if value is not None else 0)
                _write(sheet, r, col, value, date_format, datetime_format)
        for col, width in enumerate(widths):
            sheet.set_column(col, col, min(max(width + 2, _MIN_WIDTH), _MAX_WIDTH))
        sheet.freeze_panes(1, 0)
    workbook.close()
    return buffer.getvalue()


def _write(sheet: Any, row: int, col: int, value: Any, date_fmt: Any, datetime_fmt: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, int | float):
        sheet.write_number(row, col, value)
    elif isinstance(value, datetime):
        sheet.write_datetime(row, col, value.replace(tzinfo=None), datetime_fmt)
    elif isinstance(value, date):
        sheet.write_datetime(row, col, datetime(value.year, value.month, value.day), date_fmt)
    else:
        sheet.write_string(row, col, str(value))
