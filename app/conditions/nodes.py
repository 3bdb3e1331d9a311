"""The condition language's limits, errors and syntax tree (see `app.conditions`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
