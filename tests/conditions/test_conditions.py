"""Delivery conditions: tokenizer, parser, evaluation semantics, limits and hostile input."""

from __future__ import annotations

import ast
import math
import pickle
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import app.conditions as conditions
from app.conditions import (
    MAX_DEPTH,
    MAX_LENGTH,
    Condition,
    ConditionEvalError,
    ConditionSyntaxError,
    check_condition,
    evaluate,
    parse_condition,
)
from app.placeholders import placeholder_values

# The shape delivery uses: a Repeating CSV row (strings), a shared source's first row,
# job parameters and the run's data payload.
VALUES = placeholder_values(
    params={"region": "EU", "threshold": 100, "dry_run": False, "rate": Decimal("0.25")},
    data={"force": True, "note": None, "tags": ["a", "b"], "limit": 2.5, "meta": {"k": 1}},
    repeating_alias="customers",
    row={
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "balance": "12.50",
        "zero": "0",
        "empty": "",
        "cell": None,
        "count": 3,
        "ratio": 0.1,
        "vip": True,
        "vip_csv": "true",
        "quote": 'say "hi"',
        "code": "007",
        "padded": " 42 ",
        "tab": "a\tb",
        "signup": date(2026, 3, 1),
        "seen": datetime(2026, 3, 1, 9, 30),
        "nan": float("nan"),
    },
    shared={"company": [{"name": "Acme", "country": "FR"}, {"name": "ignored"}], "none": []},
)


def run(text: str) -> bool:
    return evaluate(parse_condition(text), VALUES)


TRUE_FALSE = [
    # literals and logic
    ("true", True),
    ("false", False),
    ("!false", True),
    ("!!true", True),
    ("true && true", True),
    ("true && false", False),
    ("false || true", True),
    ("false || false", False),
    ("true || false && false", True),  # && binds tighter than ||
    ("(true || false) && false", False),
    ("!true || true", True),  # ! binds tighter than ||
    ("!(true || true)", False),
    # equality, JSON-ish
    ("null == null", True),
    ("null != null", False),
    ("{customers.cell} == null", True),
    ("{customers.email} != null", True),
    ("{customers.empty} == null", False),  # an empty CSV cell is "", not null
    ('{customers.empty} == ""', True),
    ("1 == 1.0", True),
    ("0.10 == 0.1", True),
    ("-0 == 0", True),
    ("{customers.ratio} == 0.1", True),  # a float from JSON compares by its shortest repr
    ("{data.limit} == 2.5", True),
    ("{params.rate} == 0.25", True),
    ("{customers.count} == 3", True),
    ("{customers.count} == 3.0", True),
    ('{customers.count} == "3"', True),  # number vs numeric string: numerically
    ("{customers.balance} == 12.5", True),
    ("{customers.code} == 7", True),
    ('{customers.code} == "7"', False),  # two strings compare as strings
    ("{customers.padded} == 42", True),
    ("{customers.email} == 1", False),  # number vs non-numeric string: just unequal
    ("true == 1", False),
    ('true == "true"', False),
    ('{customers.vip_csv} == "true"', True),
    ("{customers.vip} == true", True),
    ("{customers.vip}", True),
    ("{data.force} && !{params.dry_run}", True),
    ('{customers.name} == "Ada Lovelace"', True),
    ('{customers.name} == "ada lovelace"', False),  # case-sensitive
    ("{customers.name} == 'Ada Lovelace'", True),
    ('{customers.quote} == "say \\"hi\\""', True),
    ("{customers.quote} == 'say \"hi\"'", True),
    ('{customers.tab} == "a\\tb"', True),
    ("\"\\\\\" == '\\\\'", True),
    ('"it\\\'s" == "it\'s"', True),
    ("{data.tags} == null", False),
    ("{customers.nan} == {customers.nan}", False),  # NaN equals nothing
    ("{customers.nan} != 1", True),
    # ordering
    ("{customers.balance} > 0", True),
    ("{customers.balance} >= 12.5", True),
    ("{customers.balance} < 12.5", False),
    ("{customers.zero} <= 0", True),
    ("-1 < 0", True),
    ("-{customers.balance} < -12", True),
    ("--1 == 1", True),
    ("{customers.count} < {params.threshold}", True),
    ('"apple" < "banana"', True),
    ('"10" < "9"', True),  # two strings order by code point, even numeric-looking ones
    ('"B" < "a"', True),
    ('{customers.signup} >= "2026-01-01"', True),  # dates compare as ISO strings
    ('{customers.seen} == "2026-03-01T09:30:00"', True),
    ("1.5 >= 1.50", True),
    ("99999999999999999999999 > 99999999999999999999998", True),
    # contains / startsWith
    ('{customers.email} contains "@example.com"', True),
    ('{customers.email} contains "@example.org"', False),
    ('{customers.name} startsWith "A"', True),
    ('{customers.name} startsWith "a"', False),
    ('{customers.name} contains ""', True),
    ('{customers.cell} contains "@"', False),  # null: false, not an error
    ('!({customers.cell} contains "@")', True),
    ("{customers.name} startsWith {customers.cell}", False),
    ("{customers.name} startsWith {company.name}", False),
    # namespaces
    ('{params.region} == "EU"', True),
    ('{company.name} == "Acme"', True),  # a shared source binds its first row
    ('{company.country} != "DE" && {customers.count} > 2', True),
    ("{data.note} == null", True),
    # short-circuit: operands that are not reached are not evaluated or type-checked
    ("false && {x.missing}", False),
    ("true || {x.missing}", True),
    ("false && 1", False),
    ("true || 1 < null", True),
    ("true && false && {x.missing}", False),
    ("false || false || true || {x.missing}", True),
    # whitespace and layout
    ("  true  ", True),
    ("\n{customers.count}\t==\r\n3\n", True),
    ("{customers.count}==3&&{customers.vip}", True),
    ("((((true))))", True),
]


@pytest.mark.parametrize(("text", "expected"), TRUE_FALSE)
def test_evaluates(text: str, expected: bool) -> None:
    assert run(text) is expected


EVAL_ERRORS = [
    ("{customers.nickname} == 1", "unknown reference {customers.nickname}"),
    ("{suppliers.email} == 1", "unknown reference {suppliers.email}"),
    ("{params.missing} == 1", "unknown reference {params.missing}"),
    ("{none.name} == 1", "unknown reference {none.name}"),  # a shared source with no rows
    ("1", "condition must be true or false, got number 1"),
    ('"yes"', 'condition must be true or false, got string "yes"'),
    ("null", "condition must be true or false, got null"),
    ("{customers.vip_csv}", 'condition must be true or false, got string "true"'),
    ("{customers.email}", "condition must be true or false, got string"),
    ("{data.tags}", "got a list"),
    ("{customers.cell} > 0", "'>' needs two numbers or two strings, got null and number 0"),
    ("{customers.email} < 5", "'<' needs two numbers or two strings"),
    ("true < false", "'<' needs two numbers or two strings, got true and false"),
    ("{data.meta} >= 1", "got an object"),
    ("{customers.nan} < 1", "'<' needs two numbers or two strings"),
    ('{customers.count} contains "3"', "'contains' needs two strings, got number 3"),
    ("{customers.name} startsWith 1", "'startsWith' needs two strings"),
    ('{data.tags} contains "a"', "'contains' needs two strings, got a list"),
    ("1 && true", "'&&' needs true or false, got number 1"),
    ("true && {customers.email}", "'&&' needs true or false, got string"),
    ("false || null", "'||' needs true or false, got null"),
    ("!{customers.vip_csv}", "'!' needs true or false, got string \"true\""),
    ("!{customers.email} == null", "'!' needs true or false"),  # ! binds tighter than ==
    ("-{customers.email} < 0", "'-' needs a number, got string"),
    ("-true == 1", "'-' needs a number, got true"),
    ("true && {x.missing}", "unknown reference {x.missing}"),
    ("false || {x.missing}", "unknown reference {x.missing}"),
]


@pytest.mark.parametrize(("text", "message"), EVAL_ERRORS)
def test_evaluation_errors(text: str, message: str) -> None:
    condition = parse_condition(text)  # parses fine: the problem shows only at run time
    with pytest.raises(ConditionEvalError) as info:
        evaluate(condition, VALUES)
    assert message in str(info.value)


SYNTAX_ERRORS = [
    # (text, position, message substring)
    ("customers.email", 0, "wrap references in braces: {customers.email}"),
    ("customers.email != null", 0, "wrap references in braces"),
    ("{a.b} == x.y.z", 9, "wrap references in braces: {x.y.z}"),
    ("__import__('os')", 0, "unexpected name '__import__' at position 0"),
    ("__import__('os').system('id')", 0, "unexpected name '__import__'"),
    ("{a.b}.__class__", 5, "unexpected '.' at position 5"),
    ("().__class__.__bases__", 1, "unexpected ')' at position 1"),
    ('{a.b}.contains("x")', 5, 'write {customers.email} contains "@"'),
    ("{a.b}(1)", 5, "unexpected '(' at position 5; there are no function calls"),
    ("{a.b} ; {c.d}", 6, "unexpected ';' at position 6"),
    ("{a.b} = 1", 6, "use == to compare"),
    ("{a.b} === 1", 8, "unexpected '=' at position 8"),
    ("{a.b} & {c.d}", 6, "use &&"),
    ("{a.b} | {c.d}", 6, "use ||"),
    ('"unterminated', 0, "unterminated string starting at position 0"),
    ("{a.b} == 'oops", 9, "unterminated string starting at position 9"),
    ('"ends in backslash\\', 0, "unterminated string"),
    ('"\\x41"', 1, "unknown escape \\x at position 1"),
    ("[1]", 0, "unexpected '[' at position 0"),
    ("{a.b} == [1]", 9, "unexpected '['"),
    ("lambda: 1", 0, "unexpected name 'lambda'"),
    ("true and false", 5, "unexpected name 'and' at position 5; use &&"),
    ("not true", 0, "use !"),
    ("True", 0, "use true"),
    ("None == {a.b}", 0, "use null"),
    ("{a.b} startswith 'x'", 6, "use startsWith"),
    ("{a.b} in 'x'", 6, "unexpected name 'in'"),
    ("{a}", 0, "needs a key"),
    ("{a.b.c}", 4, "a reference has exactly one dot"),
    ("{ a.b }", 1, "no spaces inside the braces"),
    ("{1a.b}", 1, "expected a name after '{'"),
    ("{a.}", 3, "expected a key after '.'"),
    ("{a.b", 4, "expected '}' at position 4, found the end"),
    ("{a.b-c}", 4, "expected '}' at position 4, found '-'"),
    ("{a.b} ==", 8, "unexpected end of condition at position 8"),
    ("(true", 5, "unexpected end of condition at position 5; expected ')'"),
    ("true)", 4, "unexpected ')' at position 4"),
    ("()", 1, "unexpected ')' at position 1"),
    ("&& true", 0, "unexpected '&&' at position 0"),
    ("true || || false", 8, "unexpected '||' at position 8"),
    ("1 < 2 < 3", 6, "comparisons cannot be chained"),
    ("{a.b} == 1 == true", 11, "comparisons cannot be chained"),
    ("{a.b} {c.d}", 6, "unexpected reference {c.d} at position 6"),
    ("1 2", 2, "unexpected number 2"),
    ('"a" "b"', 4, 'unexpected string "b"'),
    ('1 "line\none' + "x" * 50 + '"', 2, 'unexpected string "line\\u000aone'),
    ("1.", 2, "expected digits after the decimal point"),
    ("1.5.3", 3, "unexpected '.' at position 3"),
    ("1e5 > 0", 1, "unexpected name 'e5'"),
    ("{a.b} contains", 14, "unexpected end of condition"),
    ("contains 'x'", 0, "unexpected 'contains' at position 0"),
    ("{a.b} > 0 ✓", 10, "unexpected '✓' at position 10"),
    ("{a.b} == café", 9, "unexpected name 'caf'"),
    ("{a.b} ==\x00 1", 8, "character U+0000"),
    ("`id`", 0, "unexpected '`'"),
    ("{a.b}[0]", 5, "unexpected '['"),
    ("{{a.b}}", 1, "expected a name after '{'"),
    ("${a.b}", 0, "unexpected '$'"),
    ("{a.b} ? 1 : 2", 6, "unexpected '?'"),
    ("{a.b} + 1 > 2", 6, "unexpected '+'"),
    # the earliest problem wins, whether lexical or grammatical
    (") && customers.email", 0, "unexpected ')' at position 0"),
    ("true && customers.email )", 8, "wrap references in braces"),
]


@pytest.mark.parametrize(("text", "position", "message"), SYNTAX_ERRORS)
def test_syntax_errors(text: str, position: int, message: str) -> None:
    with pytest.raises(ConditionSyntaxError) as info:
        parse_condition(text)
    assert info.value.position == position
    assert message in str(info.value)
    assert f"at position {position}" in str(info.value)
    assert check_condition(text) == str(info.value)
    assert "\n" not in str(info.value) and len(str(info.value)) < 200  # one line for the UI


def test_syntax_error_is_a_value_error_with_message_and_position() -> None:
    with pytest.raises(ValueError, match=r"^unexpected '\)' at position 17$") as info:
        parse_condition("{customers.a} == )")
    assert info.value.position == 17
    assert isinstance(info.value, ConditionSyntaxError)
    assert issubclass(ConditionEvalError, ValueError)
    copy = pickle.loads(pickle.dumps(info.value))
    assert (str(copy), copy.position) == (str(info.value), 17)


@pytest.mark.parametrize("text", ["", " ", "\t\n  ", "\u00a0"])
def test_empty_condition_always_delivers(text: str) -> None:
    assert parse_condition(text) is None
    assert check_condition(text) is None
    assert evaluate(parse_condition(text), {}) is True
    assert evaluate(None, VALUES) is True


def test_check_condition_accepts_valid_text() -> None:
    assert check_condition('{customers.email} contains "@" || {params.region} == "EU"') is None
    # check_condition is about syntax only: unknown references surface at evaluation.
    assert check_condition("{nobody.knows} == 1") is None


def test_length_limit() -> None:
    at_limit = "true" + " " * (MAX_LENGTH - 4)
    assert parse_condition(at_limit) is not None
    too_long = '"' + "x" * MAX_LENGTH + '" == "x"'
    with pytest.raises(ConditionSyntaxError, match="too long") as info:
        parse_condition(too_long)
    assert info.value.position == MAX_LENGTH


@pytest.mark.parametrize(("opener", "closer"), [("(", ")"), ("!", ""), ("-", ""), ("!(", ")")])
def test_depth_limit(opener: str, closer: str) -> None:
    units = MAX_DEPTH // len(opener)  # each character of the opener is one level
    assert parse_condition(opener * units + "1" + closer * units) is not None
    deep = opener * (units + 1) + "1" + closer * (units + 1)
    with pytest.raises(ConditionSyntaxError, match="nested too deeply") as info:
        parse_condition(deep)
    assert info.value.position == MAX_DEPTH


def test_deep_nesting_at_the_limit_evaluates() -> None:
    assert run("(" * MAX_DEPTH + "true" + ")" * MAX_DEPTH) is True
    assert run("!" * MAX_DEPTH + "true") is True  # an even number of negations


@pytest.mark.parametrize(
    "text",
    [
        "(" * 1999 + "1",
        "!" * 1999 + "1",
        "-" * 1999 + "1",
        "(" * 1000 + ")" * 1000,
    ],
)
def test_hostile_nesting_is_a_syntax_error_not_a_crash(text: str) -> None:
    with pytest.raises(ConditionSyntaxError, match="nested too deeply"):
        parse_condition(text)


def test_long_flat_chains_do_not_recurse() -> None:
    # ~330 operands of && and || at one level are flattened, not nested.
    chain = "&&".join(["true"] * 330)
    assert len(chain) < MAX_LENGTH
    assert run(chain) is True
    assert run("||".join(["false"] * 280)) is False
    condition = parse_condition(chain)
    assert condition is not None and len(condition.root.operands) == 330


def test_unary_minus_on_a_number_literal_folds() -> None:
    condition = parse_condition("-5 < -4.5")
    assert condition is not None
    assert condition.root == conditions.Compare(
        "<", conditions.Literal(-5), conditions.Literal(Decimal("-4.5"))
    )


def test_precedence_shapes_the_tree() -> None:
    condition = parse_condition("!{a.b} == 1 || {c.d} < 2 && {e.f} contains 'x'")
    assert condition is not None
    c = conditions
    assert condition.root == c.Or(
        (
            c.Compare("==", c.Not(c.Ref("a", "b")), c.Literal(1)),
            c.And(
                (
                    c.Compare("<", c.Ref("c", "d"), c.Literal(2)),
                    c.Compare("contains", c.Ref("e", "f"), c.Literal("x")),
                )
            ),
        )
    )


def test_references() -> None:
    condition = parse_condition(
        '{customers.email} != null && ({params.region} == "EU" || {data.force})'
        " && !({customers.email} contains {company.domain}) || -{x.y} < 0"
    )
    assert condition is not None
    assert condition.references() == {
        ("customers", "email"),
        ("params", "region"),
        ("data", "force"),
        ("company", "domain"),
        ("x", "y"),
    }
    assert parse_condition("true").references() == set()


def test_references_include_unreached_operands() -> None:
    condition = parse_condition("false && {x.missing}")
    assert condition.references() == {("x", "missing")}
    assert evaluate(condition, {}) is False


def test_condition_is_reusable_and_immutable() -> None:
    condition = parse_condition("{customers.count} > 2")
    assert isinstance(condition, Condition)
    assert condition.evaluate(VALUES) is True
    assert condition.evaluate({"customers": {"count": 1}}) is False
    with pytest.raises(AttributeError):
        condition.text = "true"  # type: ignore[misc]


def test_values_are_only_read_by_mapping_lookup() -> None:
    class Sneaky:
        email = "attribute"

    # A namespace that is not a mapping names nothing; attributes are never consulted.
    with pytest.raises(ConditionEvalError, match=r"unknown reference \{customers\.email\}"):
        evaluate(parse_condition("{customers.email} == null"), {"customers": Sneaky()})
    assert evaluate(parse_condition("{a.__class__} == null"), {"a": {"__class__": None}})


def test_decimal_and_infinite_values() -> None:
    values = {"r": {"d": Decimal("12.50"), "inf": float("inf"), "big": 10**30}}
    assert evaluate(parse_condition("{r.d} == 12.5"), values) is True
    assert evaluate(parse_condition("{r.inf} > {r.big}"), values) is True
    assert evaluate(parse_condition('{r.big} == "1000000000000000000000000000000"'), values)


def test_module_never_evaluates_or_introspects_user_text() -> None:
    modules = sorted(Path(conditions.__file__).parent.glob("*.py"))
    assert {m.name for m in modules} >= {"tokenizer.py", "parser.py", "evaluator.py"}
    for module in modules:
        tree = ast.parse(module.read_text())
        builtins = {"eval", "exec", "compile", "getattr", "setattr", "delattr", "__import__"}
        builtins.add("vars")
        calls = [node.func for node in ast.walk(tree) if isinstance(node, ast.Call)]
        assert not {f.id for f in calls if isinstance(f, ast.Name)} & builtins, module.name
        assert not {f.attr for f in calls if isinstance(f, ast.Attribute)} & {"literal_eval"}
        imported = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module)])
            if alias.name
        }
        # Only the standard library and the language's own modules: no Flask, models or I/O.
        own = {name for name in imported if name.startswith("app.conditions.")}
        assert {name.split(".")[0] for name in imported - own} <= {
            "__future__",
            "collections",
            "dataclasses",
            "datetime",
            "decimal",
            "math",
            "re",
            "typing",
        }, module.name


PRINTABLE = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200)
GRAMMARISH = st.lists(
    st.sampled_from(
        list("{}()!&|=<>\"'\\.-_ 0123456789abcxyz\t\n")
        + ["{c.x}", "{c.n}", "{d.s}", "true", "false", "null", " contains ", " startsWith "]
        + ["&&", "||", "==", "!=", "<=", ">=", "1.5", '"a"', "'b'"]
    ),
    max_size=60,
).map("".join)
PROPERTY_VALUES = {"c": {"x": 1, "n": None}, "d": {"s": "a"}}


@settings(max_examples=300, deadline=None)
@given(PRINTABLE)
def test_random_text_only_raises_syntax_errors(text: str) -> None:
    try:
        condition = parse_condition(text)
    except ConditionSyntaxError as exc:
        assert 0 <= exc.position <= len(text)
        assert f"at position {exc.position}" in str(exc)
        assert "\n" not in str(exc)
        return
    assert condition is None or isinstance(condition, Condition)


@settings(max_examples=300, deadline=None)
@given(GRAMMARISH)
def test_grammar_like_text_parses_or_fails_cleanly(text: str) -> None:
    try:
        condition = parse_condition(text)
    except ConditionSyntaxError as exc:
        assert 0 <= exc.position <= len(text)
        return
    try:
        result = evaluate(condition, PROPERTY_VALUES)
    except ConditionEvalError:
        return
    assert isinstance(result, bool)


ATOMS = st.sampled_from(
    ["true", "false", "null", "0", "1.5", "-2", '"a"', "'1'", "{c.x}", "{c.n}", "{d.s}", "{c.no}"]
)
OPERATORS = st.sampled_from(
    ["&&", "||", "==", "!=", "<", "<=", ">", ">=", "contains", "startsWith"]
)
EXPRESSIONS = st.recursive(
    ATOMS,
    lambda inner: st.one_of(
        st.builds(lambda a, op, b: f"({a}) {op} ({b})", inner, OPERATORS, inner),
        st.builds(lambda op, a: f"{op}({a})", st.sampled_from(["!", "-"]), inner),
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(EXPRESSIONS)
def test_generated_expressions_parse_and_evaluate_cleanly(text: str) -> None:
    try:
        condition = parse_condition(text)
    except ConditionSyntaxError as exc:
        assert "nested too deeply" in str(exc)  # the only way a well-formed one can fail
        return
    assert condition is not None
    assert condition.references() <= {("c", "x"), ("c", "n"), ("d", "s"), ("c", "no")}
    try:
        result = evaluate(condition, PROPERTY_VALUES)
    except ConditionEvalError:
        return
    assert isinstance(result, bool)


def test_parse_and_evaluate_is_fast() -> None:
    # Not a benchmark, a regression guard with a very generous bound (typically ~20 µs each).
    text = '{customers.email} != null && {customers.balance} > 0 && {params.region} == "EU"'
    start = time.perf_counter()
    for _ in range(1000):
        evaluate(parse_condition(text), VALUES)
    assert time.perf_counter() - start < 2.0


def test_nan_is_not_a_number_anyone_can_order() -> None:
    assert math.isnan(VALUES["customers"]["nan"])
    with pytest.raises(ConditionEvalError):
        run("{customers.nan} >= {customers.nan}")
