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
  ``{data.key}``; the namespaces are exactly what ``app.placeholders.placeholder_values``
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

from app.conditions.evaluator import Condition, evaluate
from app.conditions.nodes import (
    MAX_DEPTH,
    MAX_LENGTH,
    And,
    Compare,
    ConditionEvalError,
    ConditionSyntaxError,
    Literal,
    Negate,
    Node,
    Not,
    Or,
    Ref,
)
from app.conditions.parser import check_condition, parse_condition

__all__ = [
    "MAX_DEPTH",
    "MAX_LENGTH",
    "And",
    "Compare",
    "Condition",
    "ConditionEvalError",
    "ConditionSyntaxError",
    "Literal",
    "Negate",
    "Node",
    "Not",
    "Or",
    "Ref",
    "check_condition",
    "evaluate",
    "parse_condition",
]
