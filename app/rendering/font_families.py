"""Which font families a stylesheet names that neither fontconfig nor an @font-face provides.

WeasyPrint (through Pango) falls back to another font without a word when a named family is
not installed: the report prints, in a font its designer did not choose.
"""

from __future__ import annotations

import re
from functools import cache

from tinycss2.ast import Node
from weasyprint.text.ffi import ffi, fontconfig

# CSS generic families and keywords (CSS Fonts 4 §2.1.1): never installed under these names.
GENERIC = {
    "serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui", "math", "emoji",
    "fangsong", "ui-serif", "ui-sans-serif", "ui-monospace", "ui-rounded", "inherit",
    "initial", "unset", "revert", "revert-layer",
}  # fmt: skip
_FONT_FACE_FAMILY = re.compile(
    r"@font-face\s*\{[^}]*?font-family\s*:\s*(?:\"([^\"]+)\"|'([^']+)'|([^;}]+))", re.I
)


@cache
def installed_families() -> frozenset[str]:
    """Every family name fontconfig knows on this machine, case-folded (read once a process)."""
    config = fontconfig.FcInitLoadConfigAndFonts()
    try:
        fonts = fontconfig.FcConfigGetFonts(config, 0)  # FcSetSystem
        names: set[str] = set()
        value = ffi.new("FcChar8 **")
        for i in range(fonts.nfont if fonts != ffi.NULL else 0):
            n = 0  # a font has its family under several names (one per language)
            while fontconfig.FcPatternGetString(fonts.fonts[i], b"family", n, value) == 0:
                names.add(ffi.string(value[0]).decode(errors="replace").casefold())
                n += 1
        return frozenset(names)
    finally:
        fontconfig.FcConfigDestroy(config)


def font_faces(text: str) -> frozenset[str]:
    """Family names an `@font-face` rule in `text` (CSS, or HTML with <style>) defines."""
    found = (next(g for g in m.groups() if g) for m in _FONT_FACE_FAMILY.finditer(text))
    return frozenset(name.strip().casefold() for name in found)


def families(value: list[Node]) -> list[str]:
    """The family names of a `font-family` value: quoted strings, or runs of identifiers."""
    names, words = [], []
    for token in [*value, None]:
        if token is None or (token.type == "literal" and token.value == ","):
            if words:
                names.append(" ".join(words))
            words = []
        elif token.type == "string":
            names.append(token.value)
        elif token.type == "ident":
            words.append(token.value)
    return names


def missing_families(value: list[Node], faces: frozenset[str]) -> list[str]:
    """The named families of a `font-family` value when NONE of them is installed or in
    `faces` (the stylesheet's own @font-face families); [] when any one is.

    A family list is a fallback list by design (CSS Fonts 4 §5.1): "Helvetica Neue", Arial,
    "DejaVu Sans" prints in DejaVu Sans where the first two are missing, as its author
    allowed. Only a list none of whose named families exists prints in a font nobody chose
    (a generic family, or Pango's default)."""
    known = installed_families() | faces
    named = [name for name in families(value) if name.casefold() not in GENERIC]
    if any(name.casefold() in known for name in named):
        return []
    return named
