"""CSV and XLSX files of a data section, read back with independent readers: Python's csv
module and openpyxl (docs/OUTPUTS.md)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import openpyxl
import pytest

from app.rendering.tables import rows_to_csv, rows_to_xlsx, sheet_names

ROWS = [
    {"id": 1, "name": "Zoë Ångström", "amount": -12.5, "when": "2026-10-01"},
    {"id": 2, "name": '张伟, "the" boss', "amount": 3, "when": "2026-10-02", "note": "a\nb"},
    {"id": 3, "name": "محمد علي", "amount": None, "when": None},
]


def read_csv(data: bytes, delimiter: str = ",") -> list[list[str]]:
    text = data.decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_reads_back_with_each_delimiter(delimiter):
    data = rows_to_csv(ROWS, delimiter=delimiter)
    assert not data.startswith(b"\xef\xbb\xbf")
    table = read_csv(data, delimiter)
    assert table[0] == ["id", "name", "amount", "when", "note"]  # every column, first seen
    assert table[1] == ["1", "Zoë Ångström", "-12.5", "2026-10-01", ""]
    assert table[2] == ["2", '张伟, "the" boss', "3", "2026-10-02", "a\nb"]
    assert table[3] == ["3", "محمد علي", "", "", ""]
    assert len(table) == 4


def test_csv_is_rfc_4180_crlf_with_quoted_fields():
    data = rows_to_csv([{"a": 'say "hi"', "b": "x,y"}])
    assert data == b'a,b\r\n"say ""hi""","x,y"\r\n'


def test_csv_bom_is_written_only_when_asked():
    data = rows_to_csv(ROWS, bom=True)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")  # what Excel and csv readers with utf-8-sig see
    assert next(csv.reader(io.StringIO(text)))[0] == "id"


def test_csv_refuses_an_unknown_delimiter():
    with pytest.raises(ValueError, match="delimiter"):
        rows_to_csv(ROWS, delimiter="|")


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-12.5", "-12.5"),  # a plain negative number stays a number
        ("-3e4", "-3e4"),
        ("- 5", "'- 5"),
        ("a=b", "a=b"),  # only the first character counts
    ],
)
def test_csv_neutralises_formula_cells(value, written):
    table = read_csv(rows_to_csv([{"cell": value}, {"cell": -7}]))
    assert table[1] == [written]
    assert table[2] == ["-7"]


def test_csv_neutralises_a_formula_in_a_column_name():
    assert read_csv(rows_to_csv([{"=cmd": 1}]))[0] == ["'=cmd"]


def test_xlsx_types_header_and_sheets():
    rows = [
        {
            "id": "1",
            "amount": "-12.50",
            "big": 12345678901234567890,
            "account": "007",
            "day": "2026-10-01",
            "at": "2026-10-01T08:30:00",
            "formula": "=1+1",
            "flag": True,
        },
        {
            "id": 2,
            "amount": 3.25,
            "big": None,
            "account": "0",
            "day": "2026-13-01",
            "at": None,
            "formula": "plain",
            "flag": False,
        },
    ]
    data = rows_to_xlsx([("lines", rows), ("lines", rows[:1])])
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["lines", "lines (2)"]
    sheet = book["lines"]
    header = [c.value for c in sheet[1]]
    assert header == ["id", "amount", "big", "account", "day", "at", "formula", "flag"]
    assert all(c.font.b for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    first = [c.value for c in sheet[2]]
    assert first[0] == 1 and isinstance(first[0], int)
    assert first[1] == -12.5 and isinstance(first[1], float)
    assert first[2] == "12345678901234567890"  # past 15 digits Excel would round it: text
    assert first[3] == "007"  # leading zeros: text, not a number
    assert first[4] == datetime(2026, 10, 1) and sheet.cell(2, 5).is_date
    assert sheet.cell(2, 5).number_format == "yyyy-mm-dd"
    assert first[5] == datetime(2026, 10, 1, 8, 30) and sheet.cell(2, 6).is_date
    assert first[6] == "=1+1" and sheet.cell(2, 7).data_type == "s"  # text, never a formula
    assert first[7] is True
    second = [c.value for c in sheet[3]]
    assert second[:4] == [2, 3.25, None, 0]
    assert second[4] == "2026-13-01"  # not a real date: stays text
    widths = {k: v.width for k, v in sheet.column_dimensions.items()}
    assert 6 <= widths["A"] < widths["F"] <= 60


def test_xlsx_with_no_rows_still_has_its_sheet():
    book = openpyxl.load_workbook(io.BytesIO(rows_to_xlsx([("empty", [])])))
    assert book.sheetnames == ["empty"]
    assert book["empty"].max_row == 1


def test_sheet_names_are_valid_and_distinct():
    names = sheet_names(["a/b:c*d?e[f]g\\h", "x" * 40, "X" * 40, "'quoted'", "", "Data", "data"])
    assert names[0] == "a_b_c_d_e_f_g_h"
    assert names[1] == "x" * 31
    assert names[2] == "X" * 27 + " (2)"  # Excel compares names without case
    assert names[3] == "quoted"
    assert names[4] == "Sheet"
    assert names[5:] == ["Data", "data (2)"]
    assert all(len(n) <= 31 for n in names)
    data = rows_to_xlsx([(n, [{"a": 1}]) for n in ["a/b", "a_b", "x" * 40]])
    assert openpyxl.load_workbook(io.BytesIO(data)).sheetnames == ["a_b", "a_b (2)", "x" * 31]


def test_dates_from_the_data_are_dates():
    data = rows_to_xlsx([("s", [{"d": date(2026, 1, 2)}])])
    cell = openpyxl.load_workbook(io.BytesIO(data))["s"].cell(2, 1)
    assert cell.is_date and cell.value == datetime(2026, 1, 2)
