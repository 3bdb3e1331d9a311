"""Recursive-descent parser: tokens to the syntax tree of `app.conditions.nodes`."""

from __future__ import annotations

from app.conditions.evaluator import Condition, is_number
from app.conditions.nodes import (
    MAX_DEPTH,
    MAX_LENGTH,
    And,
    Compare,
    ConditionSyntaxError,
    Literal,
    Negate,
    Node,
    Not,
    Or,
)
from app.conditions.tokenizer import COMPARISONS, Token, clip, tokenize


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
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
            what = f"{'reference' if token.kind == 'ref' else token.kind} {clip(token.text)}"
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
            if isinstance(operand, Literal) and is_number(operand.value):
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
