"""Text that can be written as UTF-8: lone UTF-16 surrogates replaced.

JSON allows a surrogate escape on its own (`"\\udcff"`, often half of an emoji cut short), and
Python keeps it in the string, but no UTF-8 encoder accepts it: WeasyPrint, the CSV and XLSX
writers and the mail headers would each fail on it. Values are cleaned where they enter
(a JSON data source) and again where they leave (the PDF's HTML, the table files), as the
Unicode standard says (§3.9, "U+FFFD substitution"): the character becomes U+FFFD.
"""

from __future__ import annotations

import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """`text` that encodes as UTF-8: a surrogate pair is joined into its character and a
    lone surrogate replaced by U+FFFD; any other text is returned as it is (fast for ASCII)."""
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def clean_value(value: Any) -> Any:
    """`value` (parsed JSON: dicts, lists, strings, numbers) with `clean_text` applied to
    every string in it, keys included."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [clean_value(v) for v in value]
    if isinstance(value, dict):
        return {clean_text(k): clean_value(v) for k, v in value.items()}
    return value
