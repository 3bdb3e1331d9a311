"""Hostile cells in CSV and XLSX files: text that cannot be UTF-8, what an XLSX sheet cannot
hold, numbers too large for a float (docs/OUTPUTS.md, "Limits and odd text")."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import openpyxl
import pytest

from app.rendering.tables import (
    MAX_XLSX_CELL,
    MAX_XLSX_COLUMNS,
    MAX_XLSX_ROWS,
    TableError,
    rows_to_csv,
    rows_to_xlsx,
)


def read_sheet(data: bytes, name: str = "s") -> list[list[object]]:
    return [[c.value for c in row] for row in openpyxl.load_workbook(io.BytesIO(data))[name]]


# json.loads('"bad \\udcff"') gives a lone surrogate: JSON allows the escape, UTF-8 cannot
# hold it.
LONE = [{"name": "bad \udcff end", "emoji": "\ud83d", "ok": "😀 مرحبا 中文"}]


def test_a_lone_surrogate_becomes_a_replacement_character_in_csv():
    data = rows_to_csv(LONE, bom=True)
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert table == [["name", "emoji", "ok"], ["bad \ufffd end", "\ufffd", "😀 مرحبا 中文"]]


def test_a_lone_surrogate_becomes_a_replacement_character_in_xlsx():
    assert read_sheet(rows_to_xlsx([("s", LONE)]))[1] == [
        "bad \ufffd end",
        "\ufffd",
        "😀 مرحبا 中文",
    ]


def test_a_cell_longer_than_excel_holds_is_refused_naming_section_row_and_column():
    rows = [{"id": 1, "note": "ok"}, {"id": 2, "note": "x" * 40_000}]
    with pytest.raises(TableError) as caught:
        rows_to_xlsx([("lines", rows)])
    message = str(caught.value)
    assert "section 'lines'" in message and "row 2" in message and "column 'note'" in message
    assert "40,000 characters" in message and "32,767" in message


def test_a_cell_of_exactly_the_limit_is_written_whole():
    data = rows_to_xlsx([("s", [{"note": "x" * MAX_XLSX_CELL}])])
    assert read_sheet(data)[1] == ["x" * MAX_XLSX_CELL]


def test_characters_beyond_the_basic_plane_count_twice_as_excel_counts_them():
    # 20,000 emoji are 40,000 UTF-16 units: Excel would cut them short.
    with pytest.raises(TableError, match="40,000 characters"):
        rows_to_xlsx([("s", [{"note": "😀" * 20_000}])])


def test_a_column_name_longer_than_a_cell_is_refused():
    with pytest.raises(TableError, match="the column name"):
        rows_to_xlsx([("s", [{"n" * 40_000: 1}])])


def test_more_rows_than_a_sheet_holds_are_refused_before_writing():
    row = {"id": 1}
    with pytest.raises(TableError, match="section 'big' has 1,048,576 rows.*1,048,575"):
        rows_to_xlsx([("big", [row] * (MAX_XLSX_ROWS + 1))])


def test_more_columns_than_a_sheet_holds_are_refused():
    row = {f"c{i}": i for i in range(MAX_XLSX_COLUMNS + 1)}
    with pytest.raises(TableError, match="16,385 columns"):
        rows_to_xlsx([("wide", [row])])


def test_the_csv_has_no_such_limits():
    data = rows_to_csv([{"note": "x" * 40_000}])
    assert data == b"note\r\n" + b"x" * 40_000 + b"\r\n"


def test_number_text_too_large_for_a_float_stays_text():
    # float("1e400") is infinity, which XlsxWriter writes as the error formula =1/0.
    assert read_sheet(rows_to_xlsx([("s", [{"n": "1e400", "m": "-1e400", "k": "1e300"}])]))[1] == [
        "1e400",
        "-1e400",
        1e300,
    ]


@pytest.mark.parametrize("bom", [False, True])
def test_a_first_column_named_id_is_quoted_so_excel_does_not_take_the_file_for_sylk(bom):
    data = rows_to_csv([{"ID": 1, "name": "Ann"}, {"ID": 2, "name": "Bob"}], bom=bom)
    assert not data.lstrip(b"\xef\xbb\xbf").startswith(b"ID")
    assert data.lstrip(b"\xef\xbb\xbf") == b'"ID",name\r\n1,Ann\r\n2,Bob\r\n'
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert table == [["ID", "name"], ["1", "Ann"], ["2", "Bob"]]
    assert rows_to_csv([{"IDENT": 1}]) == b'"IDENT"\r\n1\r\n'
    assert rows_to_csv([{"id": 1}]) == b"id\r\n1\r\n"  # lower case is no SYLK header


def test_dates_outside_excels_calendar_stay_text_and_its_first_day_is_right():
    row = {
        "old": "1800-01-01",
        "first": "1900-01-01",
        "first_noon": "1900-01-01T12:00:00",
        "last": "9999-12-31",
        "too_late": "9999-12-31T23:59:59.999999",
        "year_one": date(1, 1, 1),
    }
    sheet = openpyxl.load_workbook(io.BytesIO(rows_to_xlsx([("s", [row])])))["s"]
    cells = {sheet.cell(1, c).value: sheet.cell(2, c) for c in range(1, len(row) + 1)}
    assert cells["old"].value == "1800-01-01" and cells["old"].data_type == "s"
    assert cells["too_late"].value == "9999-12-31T23:59:59.999999"
    assert cells["year_one"].value == "0001-01-01"
    assert cells["first"].value == datetime(1900, 1, 1)  # serial 1, not 0 ("1900-01-00")
    assert cells["first_noon"].value == datetime(1900, 1, 1, 12)
    assert cells["last"].value == datetime(9999, 12, 31) and cells["last"].is_date
