"""Every script renders: names in seven scripts are drawn as glyphs, checked by what is drawn.

pdftotext is no witness here: it returns a character even when the PDF draws it as the
.notdef box. These tests look at the pixels (pdftoppm) and at the fonts' glyph maps.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageChops
from pypdf import PdfReader
from pypdf.generic import ContentStream

from app.rendering.glyphs import (
    NotdefFinder,
    to_unicode_map,
    undrawn_characters,
    undrawn_warning,
)
from app.rendering.pdf import FONT_STACK, html_to_pdf
from tests.helpers import NO_FONT, SCRIPT_NAMES

CELL = 64  # CSS px; rasterized at 96 dpi a CSS px is one pixel
COLUMNS = 12


def rasterize(pdf: bytes, tmp_path: Path) -> Image.Image:
    """The first page as a grayscale image, one pixel per CSS px (poppler's pdftoppm)."""
    assert shutil.which("pdftoppm"), "pdftoppm is missing: install poppler-utils (./dev test does)"
    source = tmp_path / "page.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "96", "-gray", "-png", "-singlefile", str(source), str(tmp_path / "p")],
        check=True,
    )
    return Image.open(tmp_path / "p.png").convert("L")


def cells_page(characters: list[str]) -> str:
    """One character per fixed cell, each drawn alone, so that a .notdef box drawn for any of
    them is pixel for pixel the box drawn in the reference cell."""
    cells = []
    for i, char in enumerate(characters):
        row, column = divmod(i, COLUMNS)
        cells.append(f'<div style="left:{column * CELL}px;top:{row * CELL}px">&#{ord(char)};</div>')
    rows = (len(characters) + COLUMNS - 1) // COLUMNS
    return (
        f"<style>@page {{ size: {COLUMNS * CELL}px {rows * CELL}px; margin: 0 }}"
        f"div {{ position: absolute; width: {CELL}px; height: {CELL}px; overflow: hidden;"
        f" font-size: 36px; line-height: {CELL}px; padding-left: 8px; box-sizing: border-box }}"
        f"</style>{''.join(cells)}"
    )


def cell(image: Image.Image, index: int) -> Image.Image:
    row, column = divmod(index, COLUMNS)
    return image.crop((column * CELL, row * CELL, (column + 1) * CELL, (row + 1) * CELL))


def has_ink(image: Image.Image) -> bool:
    return image.getextrema()[0] < 128


def same_pixels(a: Image.Image, b: Image.Image) -> bool:
    return ImageChops.difference(a, b).getbbox() is None


def test_every_font_of_the_default_stack_is_installed():
    installed = subprocess.run(
        ["fc-list", ":", "family"], capture_output=True, text=True, check=True
    ).stdout
    families = {name for line in installed.splitlines() for name in line.split(",")}
    wanted = [f.strip().strip('"') for f in FONT_STACK.split(",")][:-1]  # all but sans-serif
    missing = [family for family in wanted if family not in families]
    assert not missing, f"install fonts-noto-core and fonts-noto-cjk (./dev does): {missing}"


def test_names_in_seven_scripts_are_drawn_as_glyphs_not_notdef_boxes(app, tmp_path):
    characters = list(dict.fromkeys(c for name in SCRIPT_NAMES.values() for c in name if c != " "))
    # Cell 0 is the reference .notdef box; cell 1 holds another character no font has, so it
    # must come out identical to cell 0 - the proof that this comparison sees boxes at all.
    pdf = html_to_pdf(cells_page([*NO_FONT, *characters]), "", workspace_id=0)
    page = rasterize(pdf.data, tmp_path)

    box = cell(page, 0)
    assert has_ink(box)
    assert same_pixels(cell(page, 1), box)
    drawn_as_box = [
        f"{c} (U+{ord(c):04X})"
        for i, c in enumerate(characters, start=len(NO_FONT))
        if same_pixels(cell(page, i), box) or not has_ink(cell(page, i))
    ]
    assert drawn_as_box == []
    # The fonts' maps say the same: only the two private-use characters fell to .notdef.
    assert pdf.undrawn == NO_FONT
    assert undrawn_characters(pdf.data) == NO_FONT


FONT_OF_SCRIPT = {
    "Chinese": "Noto-Sans-CJK-JP",
    "Japanese": "Noto-Sans-CJK-JP",
    "Korean": "Noto-Sans-CJK-JP",
    "Hindi": "Noto-Sans-Devanagari",
    "Thai": "Noto-Sans-Thai",
    "Arabic": "Noto-Sans-Arabic",
    "Hebrew": "Noto-Sans-Hebrew",
}


@pytest.mark.parametrize("script", SCRIPT_NAMES)
def test_each_name_in_context_is_drawn_in_full_from_its_scripts_font(app, script):
    name = SCRIPT_NAMES[script]
    pdf = html_to_pdf(f"<p>Dear {name}, − 12.00 → ✓</p>", "", workspace_id=0)
    assert pdf.undrawn == [] and pdf.warning is None
    assert undrawn_characters(pdf.data) == []
    drawn_with: dict[str, set[str]] = {}
    for font, _, text in drawn_runs(pdf.data):
        drawn_with.setdefault(font.split("+")[1], set()).update("".join(text).replace(" ", ""))
    assert drawn_with == {
        "Noto-Sans": set("Dear,12.00"),
        FONT_OF_SCRIPT[script]: set(name.replace(" ", "")),
        "DejaVu-Sans": set("−→✓"),  # symbols Noto Sans lacks: not drawn from CJK or Devanagari
    }


def drawn_runs(pdf: bytes) -> list[tuple[str, list[int], list[str]]]:
    """Each text-showing operation of page 1 in drawing order: its font, the character codes
    drawn left to right, and the text each code stands for (the font's ToUnicode map)."""
    reader = PdfReader(io.BytesIO(pdf))
    page = reader.pages[0]
    fonts = page["/Resources"]["/Font"]
    runs, font = [], None
    for operands, operator in ContentStream(page.get_contents(), reader).operations:
        if operator == b"Tf":
            font = fonts[operands[0]]
        elif operator == b"TJ":
            to_unicode = to_unicode_map(font["/ToUnicode"].get_data())
            data = b"".join(
                item.original_bytes for item in operands[0] if hasattr(item, "original_bytes")
            )
            codes = [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
            runs.append((str(font["/BaseFont"]), codes, [to_unicode[c] for c in codes]))
    return runs


def test_arabic_and_hebrew_are_shaped_right_to_left(app):
    pdf = html_to_pdf("<p>محمد</p><p>שרה</p>", "", workspace_id=0).data
    (arabic_font, arabic, arabic_text), (hebrew_font, _, hebrew_text) = drawn_runs(pdf)
    assert arabic_font.endswith("Noto-Sans-Arabic") and hebrew_font.endswith("Noto-Sans-Hebrew")
    # Drawn left to right, so the last letter of the name comes first.
    assert arabic_text == ["د", "م", "ح", "م"]
    assert hebrew_text == ["ה", "ר", "ש"]
    # Joined, not isolated letters: the first meem takes its initial form, the second its
    # medial form - two different glyphs for one letter.
    assert arabic[1] != arabic[3]


def test_a_character_no_font_has_is_named_in_the_warning(app):
    pdf = html_to_pdf(f"<p>Ada {NO_FONT[1]}{NO_FONT[0]} Lovelace</p>", "", workspace_id=0)
    # The report is made all the same, and its text layer even has the characters: which is
    # why pdftotext cannot tell a drawn name from a row of boxes.
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf.data, capture_output=True, check=True
    ).stdout.decode()
    assert f"Ada {NO_FONT[1]}{NO_FONT[0]} Lovelace" in text
    assert pdf.warning == (
        "2 characters could not be drawn: \ue000 (U+E000), \U0010fffd (U+10FFFD)"
    )


def test_when_the_fonts_cannot_be_read_while_writing_the_written_file_is_read(app):
    written = html_to_pdf(f"<p>Ada {NO_FONT[0]}</p>", "", workspace_id=0).data
    finder = NotdefFinder()
    finder(None, object())  # not a pydyf document: logged, never raised into the render
    assert finder.characters is None
    assert finder.undrawn_or_read(written) == [NO_FONT[0]]
    assert finder.undrawn_or_read(b"not a pdf") == []


def test_the_warning_names_ten_characters_at_most():
    many = [chr(0xE000 + i) for i in range(13)]
    warning = undrawn_warning(many)
    assert warning.startswith("13 characters could not be drawn: \ue000 (U+E000), ")
    assert warning.endswith("\ue009 (U+E009) and 3 more")
    assert undrawn_warning(["\ue000"]) == "1 character could not be drawn: \ue000 (U+E000)"
    assert undrawn_warning([]) is None
