"""Delivery conditions: a tiny, safe boolean expression language evaluated per entry.

A delivery may carry a condition such as::

    {customers.email} != null && {customers.balance} > 0

If it evaluates to ``false`` the delivery is skipped for that entry; an empty or
whitespace-only condition means "always deliver". The user-facing description, with a
semantics table, is in docs/CONDITIONS.md; this docstring is the reference for developers.

Grammar (lowest precedence first)::

    condition  := or
    or         := and ( "||" and )*
    and        := comparison ( "&&" comparison )*
    comparison := unary ( OP unary )?          OP: == != < <= > >= contains startsWith
    unary      := "!" unary | "-" unary | primary
    primary    := REFERENCE | STRING | NUMBER | true | false | null | "(" condition ")"

* References are ``{namespace.key}``: a data source alias (the Repeating source's alias
  binds the current row, a shared source's alias its first row), ``{params.name}`` or
  ``{data.key}``; the namespaces are exactly what ``placeholders.placeholder_values``
  returns. A bare ``customers.email`` is a syntax error that suggests the braces.
* Strings use double or single quotes with the escapes ``\\" \\' \\\\ \\n \\t``; numbers are
  ``123`` or ``12.50`` (negative via unary minus).
* ``contains`` and ``startsWith`` are infix words only (``{c.email} contains "@"``); the
  method form ``{c.email}.contains("@")`` is a syntax error, as is anything resembling
  attribute access or a call: there are no functions, attributes or indexing.
* Comparisons do not chain: ``1 < {a.b} < 3`` is a syntax error (use ``&&``).
* ``!`` binds tighter than comparisons, as in JavaScript: ``!{a.b} == 1`` is
  ``(!{a.b}) == 1``; write ``!({a.b} == 1)`` or ``{a.b} != 1``.

Semantics (evaluation errors raise ConditionEvalError; the delivery then fails):

* ``==``/``!=``: null equals only null; booleans equal only booleans; numbers compare
  numerically (``1 == 1.0``); a number and a string that looks like a plain decimal number
  (``"12.50"``, ``" -3 "``; no exponent, separators or currency) compare numerically,
  because CSV rows hold strings; any other number/string pair is unequal; strings compare
  exactly (case-sensitive; two strings never compare as numbers).
* ``< <= > >=``: two numbers (or a number and a numeric string) numerically, two strings
  by code point; anything else, null included, is an evaluation error.
* ``contains``/``startsWith``: two strings; if either side is null the result is ``false``;
  any other operand type is an evaluation error.
* ``&&``/``||``/``!`` need booleans (no truthiness) and short-circuit left to right, so an
  operand that is not reached is neither evaluated nor type-checked.
* Unary ``-`` needs a number or a numeric string.
* Date/time values compare as their ISO-8601 strings.
* A reference to an unknown namespace or key is an evaluation error
  (``unknown reference {customers.nickname}``); a known key holding null is just null.
* The whole condition must produce a boolean.

Safety: a hand-written tokenizer and recursive-descent parser build an AST of small frozen
dataclasses, and evaluation walks it. User text is never passed to eval/exec/compile or used
for Python attribute access; values are only read with Mapping lookups. Conditions are
limited to MAX_LENGTH characters and MAX_DEPTH levels of parentheses and unary operators,
and ``&&``/``||`` chains are flattened, so neither parsing nor evaluation can exhaust the stack.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

__all__ = [
    "MAX_DEPTH",
    "MAX_LENGTH",
    "Condition",
    "ConditionEvalError",
    "ConditionSyntaxError",
    "check_condition",
    "evaluate",
    "parse_condition",
]

MAX_LENGTH = 2000
MAX_DEPTH = 50


class ConditionSyntaxError(ValueError):
    """The condition text does not parse; `position` is the 0-based index of the problem."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position

    def __reduce__(self) -> tuple[Any, ...]:  # picklable, e.g. across worker processes
        return (type(self), (self.message, self.position))


class ConditionEvalError(ValueError):
    """The condition parsed but could not be evaluated against an entry's values."""


# --- AST -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Literal:
    value: Any  # None, bool, int, Decimal or str


@dataclass(frozen=True, slots=True)
class Ref:
    namespace: str
    key: str

    def __str__(self) -> str:
        return f"{{{self.namespace}.{self.key}}}"


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node


@dataclass(frozen=True, slots=True)
class Negate:
    operand: Node


@dataclass(frozen=True, slots=True)
class Compare:
    op: str  # == != < <= > >= contains startsWith
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Node, ...]


Node = Literal | Ref | Not | Negate | Compare | And | Or


@dataclass(frozen=True, slots=True)
class Condition:
    """A parsed condition: the source text and the root of its AST."""

    text: str
    root: Node

    def references(self) -> set[tuple[str, str]]:
        """Every (namespace, key) the condition refers to, reached or not."""
        found: set[tuple[str, str]] = set()
        stack: list[Node] = [self.root]
        while stack:
            node = stack.pop()
            if isinstance(node, Ref):
                found.add((node.namespace, node.key))
            elif isinstance(node, Not | Negate):
                stack.append(node.operand)
            elif isinstance(node, Compare):
                stack += (node.left, node.right)
            elif isinstance(node, And | Or):
                stack += node.operands
        return found

    def evaluate(self, values: Mapping[str, Mapping[str, Any]]) -> bool:
        result = _eval(self.root, values)
        if not isinstance(result, bool):
            raise ConditionEvalError(f"condition must be true or false, got {_describe(result)}")
        return result


# --- Tokenizer -------------------------------------------------------------------------

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


def _tokenize(text: str) -> list[Token]:
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


def _clip(text: str) -> str:
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


# --- Parser ----------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.index = 0
        self.depth = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.token
        if token.kind == "error":
            raise token.value
        self.index += 1
        return token

    def at(self, *ops: str) -> bool:
        return self.token.kind == "op" and self.token.value in ops

    def fail(self, hint: str = "") -> ConditionSyntaxError:
        token = self.token
        if token.kind == "error":
            return token.value
        what = token.text if token.kind == "end" else f"'{token.text}'"
        if token.kind in ("string", "ref", "number"):
            what = f"{'reference' if token.kind == 'ref' else token.kind} {_clip(token.text)}"
        message = f"unexpected {what} at position {token.position}"
        return ConditionSyntaxError(message + (f"; {hint}" if hint else ""), token.position)

    def parse(self) -> Node:
        node = self.or_expr()
        if self.token.kind != "end":
            hint = ""
            if self.at("("):
                hint = "there are no function calls"
            elif self.token.kind in ("ref", "string", "number", "literal"):
                hint = "missing an operator such as == or && before it?"
            raise self.fail(hint)
        return node

    def or_expr(self) -> Node:
        operands = [self.and_expr()]
        while self.at("||"):
            self.advance()
            operands.append(self.and_expr())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def and_expr(self) -> Node:
        operands = [self.comparison()]
        while self.at("&&"):
            self.advance()
            operands.append(self.comparison())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def comparison(self) -> Node:
        left = self.unary()
        if self.token.kind != "op" or self.token.value not in COMPARISONS:
            return left
        op = self.advance().value
        right = self.unary()
        if self.token.kind == "op" and self.token.value in COMPARISONS:
            raise self.fail("comparisons cannot be chained; combine them with &&")
        return Compare(op, left, right)

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            position = self.token.position
            raise ConditionSyntaxError(
                f"condition nested too deeply at position {position} "
                f"(at most {MAX_DEPTH} levels of parentheses and ! or -)",
                position,
            )

    def unary(self) -> Node:
        if self.at("!", "-"):
            self.enter()
            op = self.advance().value
            operand = self.unary()
            self.depth -= 1
            if op == "!":
                return Not(operand)
            if isinstance(operand, Literal) and _is_number(operand.value):
                return Literal(-operand.value)
            return Negate(operand)
        return self.primary()

    def primary(self) -> Node:
        token = self.token
        if token.kind in ("literal", "string", "number"):
            self.advance()
            return Literal(token.value)
        if token.kind == "ref":
            self.advance()
            return token.value
        if self.at("("):
            self.enter()
            self.advance()
            node = self.or_expr()
            if not self.at(")"):
                raise self.fail("expected ')'")
            self.advance()
            self.depth -= 1
            return node
        raise self.fail()


def parse_condition(text: str) -> Condition | None:
    """Parse a condition; None for an empty or whitespace-only one ("always deliver")."""
    if text is None or not text.strip():
        return None
    if len(text) > MAX_LENGTH:
        raise ConditionSyntaxError(
            f"condition is too long at position {MAX_LENGTH} "
            f"({len(text)} characters, at most {MAX_LENGTH})",
            MAX_LENGTH,
        )
    return Condition(text, _Parser(text).parse())


def check_condition(text: str) -> str | None:
    """The syntax error message for `text`, or None when it parses (for validators)."""
    try:
        parse_condition(text)
    except ConditionSyntaxError as exc:
        return str(exc)
    return None


# --- Evaluation ------------------------------------------------------------------------

NUMERIC_STRING = re.compile(r"\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)\s*", re.ASCII)


def evaluate(condition: Condition | None, values: Mapping[str, Mapping[str, Any]]) -> bool:
    """Whether to deliver: True for no condition; ConditionEvalError if it cannot be decided."""
    if condition is None:
        return True
    return condition.evaluate(values)


def _eval(node: Node, values: Mapping[str, Mapping[str, Any]]) -> Any:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Ref):
        return _lookup(node, values)
    if isinstance(node, Compare):
        return _compare(node.op, _eval(node.left, values), _eval(node.right, values))
    if isinstance(node, And | Or):
        op, decisive = ("&&", False) if isinstance(node, And) else ("||", True)
        for operand in node.operands:
            value = _eval(operand, values)
            if not isinstance(value, bool):
                raise ConditionEvalError(f"'{op}' needs true or false, got {_describe(value)}")
            if value is decisive:
                return decisive
        return not decisive
    if isinstance(node, Not):
        value = _eval(node.operand, values)
        if not isinstance(value, bool):
            raise ConditionEvalError(f"'!' needs true or false, got {_describe(value)}")
        return not value
    if isinstance(node, Negate):
        value = _eval(node.operand, values)
        number = _as_number(value)
        if number is None:
            raise ConditionEvalError(f"'-' needs a number, got {_describe(value)}")
        return -number
    raise TypeError(f"not a condition node: {node!r}")  # pragma: no cover


def _lookup(ref: Ref, values: Mapping[str, Mapping[str, Any]]) -> Any:
    scope = values.get(ref.namespace)
    if not isinstance(scope, Mapping) or ref.key not in scope:
        raise ConditionEvalError(f"unknown reference {ref}")
    return _normalize(scope[ref.key])


def _normalize(value: Any) -> Any:
    """Row values as the language sees them: floats become Decimals, dates ISO strings."""
    if isinstance(value, float):
        if math.isnan(value):
            return value  # kept as NaN: equal to nothing, not orderable
        return Decimal(repr(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | Decimal | float) and not isinstance(value, bool)


def _as_number(value: Any) -> Any:
    """A number, a numeric string as a number, or None."""
    if _is_number(value):
        return value
    if isinstance(value, str) and NUMERIC_STRING.fullmatch(value):
        return Decimal(value.strip())
    return None


def _is_nan(value: Any) -> bool:
    return (isinstance(value, float) and math.isnan(value)) or (
        isinstance(value, Decimal) and value.is_nan()
    )


def _numbers(left: Any, right: Any) -> tuple[Any, Any] | None:
    """Both sides as numbers when one is a number and the other a number or numeric string."""
    if not (_is_number(left) or _is_number(right)):
        return None
    a, b = _as_number(left), _as_number(right)
    return None if a is None or b is None else (a, b)


def _equal(left: Any, right: Any) -> bool:
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left is right
    pair = _numbers(left, right)
    if pair is not None:
        a, b = pair
        return not (_is_nan(a) or _is_nan(b)) and a == b
    if _is_number(left) or _is_number(right):
        return False  # a number and a non-numeric value
    return type(left) is type(right) and left == right


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "==":
        return _equal(left, right)
    if op == "!=":
        return not _equal(left, right)
    if op in ("contains", "startsWith"):
        if left is None or right is None:
            return False
        if not (isinstance(left, str) and isinstance(right, str)):
            raise ConditionEvalError(
                f"'{op}' needs two strings, got {_describe(left)} and {_describe(right)}"
            )
        return right in left if op == "contains" else left.startswith(right)
    pair = _numbers(left, right)
    if pair is None and isinstance(left, str) and isinstance(right, str):
        pair = (left, right)
    if pair is None or _is_nan(pair[0]) or _is_nan(pair[1]):
        raise ConditionEvalError(
            f"'{op}' needs two numbers or two strings, got {_describe(left)} and {_describe(right)}"
        )
    a, b = pair
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if _is_number(value):
        return f"number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return 'string "' + shown.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a value of type {type(value).__name__}"
