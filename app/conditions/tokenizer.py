"""Condition text to tokens, with a hint for what people write from other languages."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.conditions.nodes import ConditionSyntaxError, Ref

IDENT_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
IDENT_CHARS = IDENT_START | frozenset("0123456789")
DIGITS = frozenset("0123456789")
ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "t": "\t"}
KEYWORDS = {"true": True, "false": False, "null": None}
WORD_OPS = ("contains", "startsWith")
COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">=", *WORD_OPS})
SYMBOLS = ("==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "-", "(", ")")
# Names people reach for from other languages, with the spelling this language uses.
NAME_HINTS = {
    "True": "true",
    "TRUE": "true",
    "False": "false",
    "FALSE": "false",
    "None": "null",
    "Null": "null",
    "NULL": "null",
    "nil": "null",
    "undefined": "null",
    "and": "&&",
    "AND": "&&",
    "or": "||",
    "OR": "||",
    "not": "!",
    "NOT": "!",
    "startswith": "startsWith",
    "StartsWith": "startsWith",
    "starts_with": "startsWith",
    "Contains": "contains",
    "CONTAINS": "contains",
}
SYMBOL_HINTS = {"=": "use == to compare", "&": "use && for 'and'", "|": "use || for 'or'"}


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # ref, string, number, literal, op, end, error
    value: Any
    position: int
    text: str  # as written, for messages


def tokenize(text: str) -> list[Token]:
    """Tokens up to the end, or up to an `error` token carrying the first lexical problem.

    A lexical error becomes a token rather than an exception so that the parser reports
    whichever problem comes first in the text.
    """
    tokens: list[Token] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            tokens.append(Token("end", None, n, "end of condition"))
            return tokens
        try:
            token, i = _next_token(text, i, tokens[-1] if tokens else None)
        except ConditionSyntaxError as exc:
            tokens.append(Token("error", exc, exc.position, ""))
            return tokens
        tokens.append(token)


def _next_token(text: str, i: int, previous: Token | None) -> tuple[Token, int]:
    c = text[i]
    if c == "{":
        return _reference(text, i)
    if c in "\"'":
        return _string(text, i)
    if c in DIGITS:
        return _number(text, i)
    if c in IDENT_START:
        return _word(text, i)
    for symbol in SYMBOLS:
        if text.startswith(symbol, i):
            return Token("op", symbol, i, symbol), i + len(symbol)
    if c == "." and previous is not None and previous.kind in ("ref", "string", "literal"):
        raise ConditionSyntaxError(
            f"unexpected '.' at position {i}; there are no methods or attributes: "
            'write {customers.email} contains "@" or {customers.name} startsWith "A"',
            i,
        )
    hint = SYMBOL_HINTS.get(c)
    raise ConditionSyntaxError(
        f"unexpected {_show_char(c)} at position {i}" + (f"; {hint}" if hint else ""), i
    )


def _show_char(c: str) -> str:
    return repr(c) if c.isprintable() else f"character U+{ord(c):04X}"


def clip(text: str) -> str:
    """Source text for a one-line message: control characters escaped, long text cut."""
    text = text if len(text) <= 40 else text[:37] + "..."
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)


def _ident_end(text: str, i: int) -> int:
    while i < len(text) and text[i] in IDENT_CHARS:
        i += 1
    return i


def _reference(text: str, start: int) -> tuple[Token, int]:
    example = "a reference looks like {customers.email}"
    i = start + 1
    ns_end = _ident_end(text, i)
    if ns_end == i or text[i] in DIGITS:
        if i < len(text) and text[i].isspace():
            example = "no spaces inside the braces: {customers.email}"
        raise ConditionSyntaxError(f"expected a name after '{{' at position {i}; {example}", i)
    if ns_end >= len(text) or text[ns_end] != ".":
        if ns_end < len(text) and text[ns_end] == "}":
            raise ConditionSyntaxError(
                f"reference {text[start : ns_end + 1]} at position {start} needs a key; {example}",
                start,
            )
        raise ConditionSyntaxError(
            f"expected '.' at position {ns_end} in a reference; {example}", ns_end
        )
    key_start = ns_end + 1
    key_end = _ident_end(text, key_start)
    if key_end == key_start or text[key_start] in DIGITS:
        raise ConditionSyntaxError(
            f"expected a key after '.' at position {key_start}; {example}", key_start
        )
    if key_end >= len(text):
        raise ConditionSyntaxError(
            f"expected '}}' at position {key_end}, found the end; {example}", key_end
        )
    if text[key_end] != "}":
        found = text[key_end]
        hint = "a reference has exactly one dot" if found == "." else example
        raise ConditionSyntaxError(
            f"expected '}}' at position {key_end}, found {_show_char(found)}; {hint}", key_end
        )
    ref = Ref(text[start + 1 : ns_end], text[key_start:key_end])
    return Token("ref", ref, start, str(ref)), key_end + 1


def _string(text: str, start: int) -> tuple[Token, int]:
    quote = text[start]
    i = start + 1
    parts: list[str] = []
    while i < len(text):
        c = text[i]
        if c == quote:
            value = "".join(parts)
            return Token("string", value, start, text[start : i + 1]), i + 1
        if c == "\\":
            if i + 1 >= len(text):
                break
            escaped = text[i + 1]
            if escaped not in ESCAPES:
                raise ConditionSyntaxError(
                    f"unknown escape \\{escaped} at position {i}; "
                    "strings support \\\" \\' \\\\ \\n \\t",
                    i,
                )
            parts.append(ESCAPES[escaped])
            i += 2
            continue
        parts.append(c)
        i += 1
    raise ConditionSyntaxError(f"unterminated string starting at position {start}", start)


def _number(text: str, start: int) -> tuple[Token, int]:
    i = start
    while i < len(text) and text[i] in DIGITS:
        i += 1
    if i < len(text) and text[i] == ".":
        frac = i + 1
        j = frac
        while j < len(text) and text[j] in DIGITS:
            j += 1
        if j == frac:
            raise ConditionSyntaxError(
                f"expected digits after the decimal point at position {frac}", frac
            )
        return Token("number", Decimal(text[start:j]), start, text[start:j]), j
    return Token("number", int(text[start:i]), start, text[start:i]), i


def _word(text: str, start: int) -> tuple[Token, int]:
    end = _ident_end(text, start)
    word = text[start:end]
    if word in KEYWORDS:
        return Token("literal", KEYWORDS[word], start, word), end
    if word in WORD_OPS:
        return Token("op", word, start, word), end
    # A dotted bare name: almost certainly a reference without its braces.
    path_end = end
    while path_end + 1 < len(text) and text[path_end] == "." and text[path_end + 1] in IDENT_START:
        path_end = _ident_end(text, path_end + 1)
    if path_end != end:
        path = text[start:path_end]
        raise ConditionSyntaxError(
            f"unexpected name '{path}' at position {start}; wrap references in braces: {{{path}}}",
            start,
        )
    if word in NAME_HINTS:
        raise ConditionSyntaxError(
            f"unexpected name '{word}' at position {start}; use {NAME_HINTS[word]}", start
        )
    raise ConditionSyntaxError(
        f"unexpected name '{word}' at position {start}; references go in braces "
        f'({{customers.email}}) and text in quotes ("{word}")',
        start,
    )
