"""Which characters a PDF draws as the .notdef box, read from its fonts rather than its text.

Text extraction cannot tell: a character no installed font covers is still in the PDF's
ToUnicode map (so pdftotext returns it), but the glyph drawn for it is glyph 0, `.notdef`,
an empty box. For each composite (Type0) font this follows what a viewer does (ISO 32000-1
§9.7): character code → CID through the font's Encoding CMap, CID → glyph id through the
descendant's CIDToGIDMap; a code drawn as glyph 0 is a character that was not drawn.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

import pydyf
from pypdf import PdfReader
from pypdf.generic import DictionaryObject, IndirectObject, StreamObject

log = logging.getLogger(__name__)

# How many characters a warning names before "and N more".
NAMED_IN_WARNING = 10

_HEX = rb"<([0-9A-Fa-f]*)>"
_BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_BFRANGE = re.compile(rb"beginbfrange(.*?)endbfrange", re.S)
_CIDCHAR = re.compile(rb"begincidchar(.*?)endcidchar", re.S)
_CIDRANGE = re.compile(rb"begincidrange(.*?)endcidrange", re.S)
_BFCHAR_PAIR = re.compile(_HEX + rb"\s*" + _HEX)
_BFRANGE_ITEM = re.compile(_HEX + rb"\s*" + _HEX + rb"\s*(?:" + _HEX + rb"|\[([^\]]*)\])")
_CID_PAIR = re.compile(_HEX + rb"\s*(\d+)")
_CID_RANGE = re.compile(_HEX + rb"\s*" + _HEX + rb"\s*(\d+)")


class FontMaps(NamedTuple):
    """The three maps of one composite font that decide which glyph a character code draws."""

    to_unicode: bytes  # ToUnicode CMap: code → text
    encoding: bytes | None  # embedded Encoding CMap: code → CID; None for Identity-H/V
    cid_to_gid: bytes | None  # CIDToGIDMap: 2-byte glyph id per CID; None for Identity


def undrawn_characters(pdf: bytes) -> list[str]:
    """The distinct characters a written PDF draws as .notdef, in code point order.

    Reads the file with pypdf (a few ms: every object stream is parsed); rendering uses the
    in-memory `NotdefFinder` instead. A PDF that pypdf cannot open raises pypdf's error.
    """
    reader = PdfReader(io.BytesIO(pdf))
    return undrawn_in_fonts(_font_maps(font) for font in _pdf_fonts(reader))


class NotdefFinder:
    """A WeasyPrint `finisher`: reads the fonts of the PDF being written, before it is written.

    `write_pdf(finisher=finder)` leaves the distinct undrawn characters in `finder.characters`;
    the cost is that of reading the fonts' CMaps (well under a millisecond).
    """

    def __init__(self) -> None:
        self.characters: list[str] | None = None  # None: not found (see `undrawn_or_read`)

    def __call__(self, document: Any, pdf: pydyf.PDF) -> None:
        try:
            self.characters = undrawn_in_fonts(
                _pydyf_font_maps(pdf, obj)
                for obj in pdf.objects
                if isinstance(obj, pydyf.Dictionary)
                and obj.get("Type") == "/Font"
                and obj.get("Subtype") == "/Type0"
                and "ToUnicode" in obj
            )
        except Exception:  # a check must never cost the report: read the written file instead
            log.exception("reading the fonts of the PDF being written failed")

    def undrawn_or_read(self, written: bytes) -> list[str]:
        """The characters found while writing, or else read back from the written PDF."""
        if self.characters is not None:
            return self.characters
        try:
            return undrawn_characters(written)
        except Exception:
            log.exception("reading the fonts of a written PDF failed; no glyph warning")
            return []


def undrawn_in_fonts(fonts: Iterable[FontMaps | None]) -> list[str]:
    """The distinct characters the given fonts draw as glyph 0, in code point order."""
    missing: set[str] = set()
    for font in fonts:
        if font is not None:
            missing.update(_undrawn_in_font(font))
    return sorted(missing)


def undrawn_warning(characters: Sequence[str]) -> str | None:
    """The warning shown for characters that could not be drawn, or None when there are none.

    "2 characters could not be drawn: 🚀 (U+1F680), 🛸 (U+1F6F8)"; after ten, "and N more"."""
    if not characters:
        return None
    named = [f"{c} (U+{ord(c):04X})" for c in characters[:NAMED_IN_WARNING]]
    more = len(characters) - len(named)
    listed = ", ".join(named) + (f" and {more} more" if more else "")
    noun = "character" if len(characters) == 1 else "characters"
    return f"{len(characters)} {noun} could not be drawn: {listed}"


def _undrawn_in_font(font: FontMaps) -> Iterator[str]:
    code_to_cid = _code_to_cid(font.encoding) if font.encoding is not None else None
    for code, text in to_unicode_map(font.to_unicode).items():
        # A code missing from an embedded Encoding CMap selects CID 0 (ISO 32000-1 §9.7.6.3).
        cid = code if code_to_cid is None else code_to_cid.get(code, 0)
        gid = cid
        if font.cid_to_gid is not None:
            gid = int.from_bytes(font.cid_to_gid[2 * cid : 2 * cid + 2], "big")
        if gid == 0:
            # Spaces and control characters never show a box, whatever glyph they map to.
            yield from (c for c in text if not c.isspace() and unicodedata.category(c) != "Cc")


# Reading the maps from a written PDF (pypdf) ...


def _pdf_fonts(reader: PdfReader) -> Iterator[DictionaryObject]:
    """Every font used by a page, a form XObject or a tiling pattern, each once."""
    seen: set[int] = set()
    stack: list[object] = [page.get("/Resources") for page in reader.pages]
    while stack:
        resources = _resolve(stack.pop(), seen)
        if not isinstance(resources, DictionaryObject):
            continue
        for font in (_resolve(resources.get("/Font"), seen) or {}).values():
            if isinstance(resolved := _resolve(font, seen), DictionaryObject):
                yield resolved
        for kind in ("/XObject", "/Pattern"):
            for item in (_resolve(resources.get(kind), seen) or {}).values():
                if isinstance(resolved := _resolve(item, seen), DictionaryObject):
                    stack.append(resolved.get("/Resources"))


def _resolve(value: object, seen: set[int]) -> object:
    """The object behind an indirect reference, or None when it was visited already."""
    if isinstance(value, IndirectObject):
        if value.idnum in seen:
            return None
        seen.add(value.idnum)
        return value.get_object()
    return value


def _font_maps(font: DictionaryObject) -> FontMaps | None:
    if font.get("/Subtype") != "/Type0" or "/ToUnicode" not in font:
        return None
    encoding = _stream(font.get("/Encoding"))
    cid_to_gid = _stream(font["/DescendantFonts"][0].get_object().get("/CIDToGIDMap"))
    return FontMaps(
        font["/ToUnicode"].get_data(),
        encoding.get_data() if encoding is not None else None,
        cid_to_gid.get_data() if cid_to_gid is not None else None,
    )


def _stream(value: object) -> StreamObject | None:
    resolved = value.get_object() if isinstance(value, IndirectObject) else value
    return resolved if isinstance(resolved, StreamObject) else None


# ... and from the PDF WeasyPrint is about to write (pydyf objects, references as b"12 0 R").


def _pydyf_font_maps(pdf: pydyf.PDF, font: pydyf.Dictionary) -> FontMaps:
    def target(reference: Any) -> Any:
        if isinstance(reference, bytes) and reference.endswith(b" R"):
            return pdf.objects[int(reference.split()[0])]
        return reference

    def stream_bytes(value: Any) -> bytes | None:
        item = target(value)
        if not isinstance(item, pydyf.Stream):
            return None
        return b"\n".join(
            part if isinstance(part, bytes) else str(part).encode() for part in item.stream
        )

    descendant = target(target(font["DescendantFonts"])[0])
    return FontMaps(
        stream_bytes(font["ToUnicode"]) or b"",
        stream_bytes(font.get("Encoding")),
        stream_bytes(descendant.get("CIDToGIDMap")),
    )


def to_unicode_map(cmap: bytes) -> dict[int, str]:
    """Code → text of a ToUnicode CMap (bfchar and bfrange sections; text is UTF-16BE)."""
    mapping: dict[int, str] = {}
    for section in _BFCHAR.findall(cmap):
        for code, text in _BFCHAR_PAIR.findall(section):
            mapping[int(code, 16)] = _utf16(text)
    for section in _BFRANGE.findall(cmap):
        for low, high, start, array in _BFRANGE_ITEM.findall(section):
            low_code, high_code = int(low, 16), int(high, 16)
            if array:
                for offset, text in enumerate(re.findall(_HEX, array)):
                    mapping[low_code + offset] = _utf16(text)
                continue
            first = bytearray(bytes.fromhex(start.decode()))
            for offset in range(high_code - low_code + 1):
                last = int.from_bytes(first[-2:], "big") + offset
                mapping[low_code + offset] = _utf16(
                    (bytes(first[:-2]) + (last & 0xFFFF).to_bytes(2, "big")).hex().encode()
                )
    return mapping


def _code_to_cid(cmap: bytes) -> dict[int, int]:
    """Code → CID of an embedded Encoding CMap (cidchar and cidrange sections)."""
    mapping: dict[int, int] = {}
    for section in _CIDCHAR.findall(cmap):
        for code, cid in _CID_PAIR.findall(section):
            mapping[int(code, 16)] = int(cid)
    for section in _CIDRANGE.findall(cmap):
        for low, high, cid in _CID_RANGE.findall(section):
            for offset in range(int(high, 16) - int(low, 16) + 1):
                mapping[int(low, 16) + offset] = int(cid) + offset
    return mapping


def _utf16(hex_text: bytes) -> str:
    return bytes.fromhex(hex_text.decode()).decode("utf-16-be", errors="replace")
