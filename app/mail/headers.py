"""Writing mail header fields: address lists and text, each character encoded exactly once.

The standard library's header folder is not used for these fields because it does not
round-trip arbitrary display names: a name such as ``00000\\x80𐀀𐀀𐀀`` followed by another
address made it encode the separating comma inside an encoded word (``=?utf-8?q?=2C?=``),
merging two recipients, and a name that looks like an encoded word (``=?utf-8?q?x?=``) is
decoded when the header is set. Here the rules are few and explicit:

- A header line is folded before 78 characters where it can be (RFC 5322 §2.1.1), only
  between tokens, so no line reaches the 998-character limit.
- A display name (RFC 5322 §3.4 ``display-name = phrase``) of printable ASCII is written as
  words, each an atom or a quoted-string (§3.2.4: ``\\`` and ``"`` escaped); any other name —
  non-ASCII, a word over 76 characters, or text containing ``=?`` that a reader would take
  for an encoded word — is written whole as RFC 2047 "B" encoded words in UTF-8
  (§5 rule 3), each at most 75 characters and holding whole characters (§5). Whitespace
  between adjacent encoded words is not part of the text (§6.2), so spaces of the name travel
  inside the encoded words.
- Unstructured text (Subject; RFC 5322 §3.2.5, RFC 2047 §5 rule 1) follows the same choice.

The result is a `PreparedHeader`: a str (the readable value) that `email.policy.EmailPolicy`
stores and writes unchanged, because it carries a ``name`` and a ``fold(policy=...)`` method
(the protocol of `email.headerregistry` header objects).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from typing import Any

MAX_LINE = 78  # RFC 5322 §2.1.1: SHOULD be no more than 78 characters, excluding CRLF
MAX_ENCODED_WORD = 75  # RFC 2047 §2
_EW_PREFIX, _EW_SUFFIX = "=?utf-8?b?", "?="
# Bytes of UTF-8 per encoded word: base64 makes 4 characters of each 3 bytes.
_EW_BYTES = (MAX_ENCODED_WORD - len(_EW_PREFIX) - len(_EW_SUFFIX)) // 4 * 3
# RFC 5322 §3.2.3 atext: a word made only of these needs no quotes.
_ATOM = re.compile(r"^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+$")
_SPECIALS = frozenset('()<>[]:;@\\,."')  # RFC 5322 §3.2.3
_PRINTABLE = re.compile(r"^[\x20-\x7e]*$")


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def single_line(text: str) -> str:
    """Header text from any value: control characters and line breaks become spaces, runs of
    whitespace one space, no leading or trailing space; a lone surrogate (which UTF-8 cannot
    carry) becomes U+FFFD. A line break in a value can therefore never start a new header."""
    text = _SURROGATE.sub("\ufffd", _CONTROL.sub(" ", text))
    return " ".join(text.split())


class PreparedHeader(str):
    """A header field formatted and folded here; its str value is the readable text."""

    name: str
    _lines: list[str]

    def __new__(cls, name: str, text: str, lines: list[str]) -> PreparedHeader:
        self = super().__new__(cls, text)
        self.name = name
        self._lines = lines
        return self

    def fold(self, *, policy: Any) -> str:
        """The header as written on the wire, lines joined with the policy's line separator."""
        return policy.linesep.join(self._lines) + policy.linesep


def encoded_words(text: str) -> list[str]:
    """RFC 2047 "B" encoded words for `text`, each ≤ 75 characters, never splitting a character."""
    words, chunk, size = [], [], 0
    for char in text:
        width = len(char.encode("utf-8"))
        if size + width > _EW_BYTES:
            words.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(char)
        size += width
    if chunk or not words:
        words.append("".join(chunk))
    return [
        _EW_PREFIX + base64.b64encode(w.encode("utf-8")).decode("ascii") + _EW_SUFFIX for w in words
    ]


def _plain_words(text: str) -> list[str] | None:
    """`text` as whitespace-separated words when it can travel unencoded, else None."""
    words = text.split(" ")
    if not _PRINTABLE.match(text) or "=?" in text or any(len(w) > 76 for w in words):
        return None
    return words


def phrase_tokens(name: str) -> list[str]:
    """An RFC 5322 phrase for a display name (single-spaced, no control characters)."""
    words = _plain_words(name)
    if words is None:
        return encoded_words(name)
    return [w if _ATOM.match(w) else quote(w) for w in words]


def quote(text: str) -> str:
    """An RFC 5322 §3.2.4 quoted-string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _fold(name: str, tokens: Sequence[str]) -> list[str]:
    """Lines of `name: tokens...`, breaking between tokens before MAX_LINE where possible."""
    lines, line = [], f"{name}:"
    for token in tokens:
        if len(line) + 1 + len(token) > MAX_LINE and line.strip() != f"{name}:":
            lines.append(line)
            line = ""
        line += " " + token
    lines.append(line)
    return lines


def mailbox_tokens(display_name: str, addr_spec: str) -> list[str]:
    """Tokens of one RFC 5322 §3.4 mailbox: ``addr-spec`` or ``phrase <addr-spec>``."""
    if not display_name:
        return [addr_spec]
    return [*phrase_tokens(display_name), f"<{addr_spec}>"]


def address_header(name: str, mailboxes: Sequence[tuple[str, str]]) -> PreparedHeader:
    """An address-list header (To, Cc, Reply-To, From) from (display name, addr-spec) pairs."""
    tokens: list[str] = []
    readable = []
    for index, (display_name, addr_spec) in enumerate(mailboxes):
        part = mailbox_tokens(display_name, addr_spec)
        if index < len(mailboxes) - 1:
            part[-1] += ","
        tokens.extend(part)
        readable.append(readable_mailbox(display_name, addr_spec))
    return PreparedHeader(name, ", ".join(readable), _fold(name, tokens))


def text_header(name: str, text: str) -> PreparedHeader:
    """An unstructured header (Subject) holding `text` (single-spaced, no control characters)."""
    words = _plain_words(text)
    tokens = encoded_words(text) if words is None else words
    return PreparedHeader(name, text, _fold(name, tokens))


def readable_mailbox(display_name: str, addr_spec: str) -> str:
    """A mailbox as people read it: ``"Acme, Inc." <ap@acme.example>`` (not for the wire)."""
    if not display_name:
        return addr_spec
    shown = quote(display_name) if _SPECIALS.intersection(display_name) else display_name
    return f"{shown} <{addr_spec}>"
