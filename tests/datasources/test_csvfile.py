"""CSV files as spreadsheets write them: real bytes in, the table Herald reads out."""

from __future__ import annotations

import codecs
import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.datasources.csvfile import CsvError, iter_csv_rows, parse_csv_text, read_csv
from app.datasources.fetch import parse_csv

# Excel's "Unicode text": UTF-16 LE with a BOM, tab-delimited, CRLF between records and
# a bare LF inside a quoted cell.
EXCEL_UNICODE_TEXT = codecs.BOM_UTF16_LE + (
    'Name\tCity\tNote\r\nZoë Ångström\tMünchen\t"first line\nsecond line"\r\n李小龍\t東京\t\r\n'
).encode("utf-16-le")
# Excel in a German or French locale: `;` between cells, Windows-1252, `€` is byte 0x80.
CP1252_SEMICOLON = b"Name;Ort;Betrag\r\nM\xfcller;Caf\xe9 Bl\xfcte;\x80 12,50\r\n"


def table(data, **options):
    found = read_csv(data, **options)
    return found.columns, found.rows


def test_a_semicolon_file_has_its_columns():
    columns, rows = table(b"id;name;city\n1;Ada;Paris\n2;Bob;Lyon\n")
    assert columns == ["id", "name", "city"]
    assert rows[1] == {"id": "2", "name": "Bob", "city": "Lyon"}
    assert read_csv(b"id;name\n1;Ada\n").delimiter == ";"


def test_excel_unicode_text_is_utf16_and_tab_delimited():
    found = read_csv(EXCEL_UNICODE_TEXT)
    assert (found.encoding, found.delimiter_name) == ("UTF-16 LE", "tab")
    assert found.columns == ["Name", "City", "Note"]
    assert found.rows == [
        {"Name": "Zoë Ångström", "City": "München", "Note": "first line\nsecond line"},
        {"Name": "李小龍", "City": "東京", "Note": ""},
    ]


def test_utf16_big_endian_with_its_bom():
    data = codecs.BOM_UTF16_BE + "a\tb\r\nÅ\t€\r\n".encode("utf-16-be")
    found = read_csv(data)
    assert (found.encoding, found.rows) == ("UTF-16 BE", [{"a": "Å", "b": "€"}])


def test_a_pipe_file_keeps_commas_and_semicolons_in_values():
    columns, rows = table(b"name|note\nAcme, Inc.|net 30; EUR\n")
    assert columns == ["name", "note"]
    assert rows == [{"name": "Acme, Inc.", "note": "net 30; EUR"}]


def test_windows_1252_is_read_when_the_bytes_are_not_utf8():
    found = read_csv(CP1252_SEMICOLON)
    assert (found.encoding, found.delimiter_name) == ("Windows-1252", "semicolon")
    assert found.rows == [{"Name": "Müller", "Ort": "Café Blüte", "Betrag": "€ 12,50"}]


def test_a_utf8_bom_is_not_part_of_the_first_column_name():
    found = read_csv(codecs.BOM_UTF8 + "id,name\n1,Zoë\n".encode())
    assert found.encoding == "UTF-8 with BOM"
    assert found.columns == ["id", "name"] and found.rows == [{"id": "1", "name": "Zoë"}]
    assert read_csv("id,name\n1,Zoë\n".encode()).encoding == "UTF-8"


def test_a_quoted_line_break_stays_in_the_value_and_later_lines_keep_their_numbers():
    data = b'id,note\r\n1,"three\r\nline\r\nnote"\r\n2,ok\r\n3,too,many\r\n'
    with pytest.raises(CsvError, match="^CSV line 6 has 3 cells but the header has 2 columns$"):
        read_csv(data)
    _, rows = table(data.replace(b",too,many", b",fine"))
    assert rows[0]["note"] == "three\nline\nnote"
    assert [r["id"] for r in rows] == ["1", "2", "3"]


def test_a_short_row_gets_empty_strings_for_the_missing_cells():
    _, rows = table(b"id,name,email\n1,Ada,ada@example.com\n2,Bob\n3\n")
    assert rows[1:] == [
        {"id": "2", "name": "Bob", "email": ""},
        {"id": "3", "name": "", "email": ""},
    ]


def test_a_long_row_is_refused_naming_its_line():
    with pytest.raises(CsvError, match="^CSV line 3 has 4 cells but the header has 3 columns$"):
        read_csv(b"id;name;city\n1;Ada;Paris\n2;Bob;Lyon;France\n")


def test_padding_to_a_wider_used_range_is_dropped_but_data_beyond_the_header_is_not():
    # Excel pads each line to the sheet's used width once a cell right of the data was used.
    columns, rows = table(b"id;name;;\n1;Ada;;\n2;Bob\n")
    assert columns == ["id", "name"]
    assert rows == [{"id": "1", "name": "Ada"}, {"id": "2", "name": "Bob"}]
    with pytest.raises(CsvError, match="^CSV line 3 has 3 cells but the header has 2 columns$"):
        read_csv(b"id;name;;\n1;Ada;;\n2;Bob;x\n")


@pytest.mark.parametrize("byte", [b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d"])
def test_bytes_that_no_encoding_explains_are_refused_naming_the_line(byte):
    data = b"id;name\n1;M\xfcller\n2;B" + byte + b"ob\n"
    with pytest.raises(CsvError) as caught:
        read_csv(data)
    assert str(caught.value) == (
        f"CSV line 3 cannot be read: byte 0x{byte[0]:02X} is not UTF-8 or Windows-1252 text"
    )


def test_a_nul_in_an_8_bit_file_is_refused_naming_the_line():
    with pytest.raises(CsvError, match="^CSV line 2 holds a NUL character"):
        read_csv(b"id,name\n1,A\x00da\n")
    # UTF-16 without its BOM read as 8-bit text is the usual way to get there.
    with pytest.raises(CsvError, match="^CSV line 1 holds a NUL character"):
        read_csv("id,name\n".encode("utf-16-le"))


def test_a_utf8_file_with_one_foreign_byte_is_refused_not_read_as_mojibake():
    data = "id,name\n1,Zoë\n".encode() + b"2,Ren\xe9e\n"
    with pytest.raises(CsvError, match="^CSV line 3 is not UTF-8 \\(byte 0xE9\\)"):
        read_csv(data)
    found = read_csv(data, encoding="windows-1252")  # the person may insist
    assert found.rows[0]["name"] == "ZoÃ«"


def test_damaged_utf16_is_refused_naming_the_line():
    data = codecs.BOM_UTF16_LE + "a\tb\r\n1\t2\r\n".encode("utf-16-le") + b"3"
    with pytest.raises(CsvError, match="^CSV line 3 cannot be read: byte 0x33 is not UTF-16"):
        read_csv(data)
    with pytest.raises(CsvError, match="^CSV line 2 cannot be read"):
        read_csv(b"a,b\n\x81\n", encoding="windows-1252")
    with pytest.raises(CsvError, match="^CSV line 2 cannot be read: byte 0xFC is not UTF-8"):
        read_csv(CP1252_SEMICOLON, encoding="utf-8")


def test_blank_lines_and_rows_of_empty_cells_are_skipped():
    _, rows = table(b"id;name\n1;Ada\n\n;\n2;Bob\n;;\n\n\n")
    assert rows == [{"id": "1", "name": "Ada"}, {"id": "2", "name": "Bob"}]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (b"id,,email", "CSV header: column 2 has no name"),
        (b"id, ,name", "CSV header: column 2 has no name"),
        (b"email,name,email ", "CSV header: columns 1 and 3 are both named 'email'"),
        (b"", "CSV has no header row: the first line must name the columns"),
    ],
)
def test_a_header_must_name_every_column_once(header, message):
    with pytest.raises(CsvError) as caught:
        read_csv(header + b"\n")
    assert str(caught.value) == message


def test_quoting_problems_name_the_line_where_the_record_starts():
    with pytest.raises(CsvError, match="^CSV line 3: a quoted value is never closed$"):
        read_csv(b'id,note\n1,ok\n2,"open\n3,still inside\n')
    with pytest.raises(CsvError, match="^CSV line 2: a closing quote must be followed"):
        read_csv(b'id,note\n1,"quoted"tail\n')


def test_a_picked_delimiter_wins_over_detection():
    data = b"name;note\nAda;a,b\n"
    with pytest.raises(CsvError, match="CSV line 2 has 2 cells but the header has 1 column$"):
        read_csv(data, delimiter="comma")
    assert table(data, delimiter="semicolon")[1] == [{"name": "Ada", "note": "a,b"}]
    assert table(b"a\tb\n1\t2\n", delimiter="\t")[0] == ["a", "b"]
    with pytest.raises(CsvError, match="unknown delimiter"):
        read_csv(data, delimiter="colon")


@pytest.mark.parametrize(
    ("data", "delimiter", "rows"),
    [
        # Decimal commas in a semicolon file: the header has no comma, so `;` it is.
        (b"name;amount\nAda;1,50\nBob;2,00\n", ";", [{"name": "Ada", "amount": "1,50"}]),
        # A one-column export of a semicolon locale does not quote `Acme, Inc.`.
        (b"name\nAcme, Inc.\n", ";", [{"name": "Acme, Inc."}]),
        (b"name\nAda\n", ",", [{"name": "Ada"}]),
        # `;` inside values of a comma file: only `,` splits the header.
        (b"name,note\nAda,a;b;c\n", ",", [{"name": "Ada", "note": "a;b;c"}]),
        # Both split the header; `;` splits every line the same way, `,` does not.
        (b"name;street, no\nAda;Main St, 5\nBob;Elm St\n", ";", [{"name": "Ada"}]),
    ],
)
def test_detection_on_files_where_a_character_count_would_guess_wrong(data, delimiter, rows):
    found = read_csv(data)
    assert found.delimiter == delimiter
    assert [{k: r[k] for k in rows[0]} for r in found.rows[: len(rows)]] == rows


def test_stored_text_is_comma_csv_that_reads_back_the_same():
    found = read_csv(EXCEL_UNICODE_TEXT)
    stored = found.normalized()
    assert stored.startswith("Name,City,Note\nZoë Ångström,München,")
    again = parse_csv_text(stored, ",")
    assert (again.columns, again.rows) == (found.columns, found.rows)
    assert parse_csv(stored) == found.rows
    assert read_csv(stored).delimiter == ","  # editing the saved text detects `,` again


def test_text_saved_before_these_rules_still_reads():
    # Saved by the old upload: lenient quoting, an unnamed column; short rows now give "".
    legacy = 'id,name,\n1,"Ada" Lovelace,x\n2,Bob\n'
    assert parse_csv(legacy) == [
        {"id": "1", "name": "Ada Lovelace", "": "x"},
        {"id": "2", "name": "Bob", "": ""},
    ]
    with pytest.raises(CsvError, match="CSV line 2 has 3 cells"):
        parse_csv("id,name\n1,Ada,extra\n")


names = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), min_size=1
).map(str.strip)
cells = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"))


@st.composite
def tables(draw):
    columns = draw(st.lists(names.filter(bool), min_size=1, max_size=5, unique=True))
    rows = draw(
        st.lists(
            st.lists(cells, min_size=len(columns), max_size=len(columns)).filter(
                lambda row: any(c.strip() for c in row)
            ),
            max_size=6,
        )
    )
    return columns, [dict(zip(columns, row, strict=True)) for row in rows]


@given(tables(), st.sampled_from(["comma", "semicolon", "tab", "pipe"]))
def test_any_table_written_by_a_csv_writer_reads_back_and_stores_losslessly(shape, delimiter):
    columns, rows = shape
    char = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}[delimiter]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=char, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([row[c] for c in columns] for row in rows)
    found = read_csv(out.getvalue().encode("utf-8"), delimiter=delimiter)
    assert (found.columns, found.rows) == (columns, rows)
    stored = found.normalized()
    assert parse_csv(stored) == rows
    again = read_csv(stored)  # what saving the edit page again does
    assert (again.columns, again.rows) == (columns, rows)


def test_rows_are_read_as_they_are_consumed_and_a_bad_line_raises_when_reached():
    columns, rows = iter_csv_rows("a,b\r\n1,2\r\n3,4,5\r\n", ",")
    assert columns == ["a", "b"]
    assert next(rows) == {"a": "1", "b": "2"}
    with pytest.raises(CsvError, match="CSV line 3 has 3 cells but the header has 2 columns"):
        next(rows)


def test_a_text_without_header_is_refused_before_any_row():
    with pytest.raises(CsvError, match="no header row"):
        iter_csv_rows("\n\n", ",")
