"""Evaluating a parsed condition against an entry's placeholder values (the semantics of
`app.conditions`: no truthiness, numeric strings compare as numbers, null only equals null)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from app.conditions.nodes import (
    And,
    Compare,
    ConditionEvalError,
    Literal,
    Negate,
    Node,
    Not,
    Or,
    Ref,
)


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


def is_number(value: Any) -> bool:
    return isinstance(value, int | Decimal | float) and not isinstance(value, bool)


def _as_number(value: Any) -> Any:
    """A number, a numeric string as a number, or None."""
    if is_number(value):
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
    if not (is_number(left) or is_number(right)):
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
    if is_number(left) or is_number(right):
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
    if is_number(value):
        return f"number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return 'string "' + shown.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a value of type {type(value).__name__}"
