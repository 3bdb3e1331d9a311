"""Recipient fields parsed and filled without sending anything (app/mail/recipients.py).

These are the fast tests `mutmut` runs against recipient building (see README "Development");
tests/delivery/test_recipients.py sends the same fields through a real SMTP server.
"""

from __future__ import annotations

from typing import Any

import email_validator
import pytest

from app.mail.recipients import (
    AddressTemplate,
    AddressTemplateError,
    Mailbox,
    Ref,
    _parsed,
    addr_spec,
    fill_recipients,
    parse_recipient_template,
    recipient_field_error,
    shown,
)
from app.outbound.errors import DeliveryError


@pytest.fixture(autouse=True)
def _fresh_parse_cache():
    # Parsed fields are cached per process; each test parses for itself.
    _parsed.cache_clear()


def values(**row: Any) -> dict[str, Any]:
    return {"c": row, "params": {}, "data": {}}


# --- the field as typed -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "items"),
    [
        # Quoted names keep "," "<" and escaped characters; the quotes themselves go.
        (
            '"Acme, Inc. <AP>" <ap@acme.example>',
            [AddressTemplate(("Acme, Inc. <AP>",), ("ap@acme.example",))],
        ),
        (
            r'"Say \"hi\" \\ bye" <a@x.example>',
            [AddressTemplate(('Say "hi" \\ bye',), ("a@x.example",))],
        ),
        # Whitespace around a name or inside <…> is not part of it; inside a name it is.
        (
            "  Ann  Lee   <  a@x.example  >  ;b@x.example",
            [
                AddressTemplate(("Ann  Lee",), ("a@x.example",)),
                AddressTemplate((), ("b@x.example",)),
            ],
        ),
        ("   <a@x.example>", [AddressTemplate((), ("a@x.example",))]),
        (
            " {c.first} {c.last} <{c.user}@{c.domain}> ",
            [
                AddressTemplate(
                    (Ref("c", "first"), " ", Ref("c", "last")),
                    (Ref("c", "user"), "@", Ref("c", "domain")),
                )
            ],
        ),
        # Only a placeholder standing alone may hold several addresses.
        ("{c.a}{c.b}", [AddressTemplate((), (Ref("c", "a"), Ref("c", "b")))]),
        ("{c.a}@x.example", [AddressTemplate((), (Ref("c", "a"), "@x.example"))]),
        (
            "{c.a} ; x-{c.b}",
            [
                AddressTemplate((), (Ref("c", "a"),), expands=True),
                AddressTemplate((), ("x-", Ref("c", "b"))),
            ],
        ),
    ],
)
def test_a_field_is_parsed_as_typed(text, items):
    assert parse_recipient_template(text) == items


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "a@x.example, not-an-email",
            "'not-an-email' is not an email address: An email address must have an @-sign.",
        ),
        ("Bob <bob@x.example", "'<' without a closing '>' in 'Bob <bob@x.example'"),
        ("a@x.example, bob@x.example>", "'>' without '<' in 'bob@x.example>'"),
        ('"Bob <bob@x.example>', "a '\"' is not closed in '\"Bob <bob@x.example>'"),
        ('"a\\', "a '\"' is not closed in '\"a\\'"),  # a backslash with nothing to escape
        ("Bob <>, a@x.example", "an empty address <> in 'Bob <>'"),
        (
            "c@x.example; Bob <a b@x.example>, c@x.example",
            "an address cannot contain spaces in 'Bob <a b@x.example>'",
        ),
        (
            'a@x.example; "" , b@x.example',
            "a name needs its address in angle brackets: Name <address> in '\"\"'",
        ),
        (
            '"Bob"',
            "'\"Bob\"': write a name with its address in angle brackets, "
            "e.g. Name <name@example.com>",
        ),
        (
            "Ann Lee",
            "'Ann Lee': write a name with its address in angle brackets, "
            "e.g. Name <name@example.com>",
        ),
        ("Bob <a@x.example>{c.x}", "text after '>' in 'Bob <a@x.example>{'"),
        ("a@x.example;<a@x.example> Bob", "text after '>' in '<a@x.example> B'"),
        ("Bob <a@x.example <b@x.example>>", "'<' inside <…> in 'Bob <a@x.example <'"),
        ('Bob <a"b@x.example>', "'\"' inside <…> in 'Bob <a\"'"),
        (
            "a@[127.0.0.1]",
            "'a@[127.0.0.1]' is not an email address: "
            "A bracketed IP address after the @-sign is not allowed here.",
        ),
    ],
)
def test_a_field_that_is_not_an_address_list_is_refused_saying_where(text, message):
    with pytest.raises(AddressTemplateError) as refused:
        parse_recipient_template(text)
    assert str(refused.value) == message
    assert recipient_field_error(text) == message


def test_whitespace_may_follow_the_closing_bracket():
    assert parse_recipient_template("Bob <a@x.example>   , b@x.example") == [
        AddressTemplate(("Bob",), ("a@x.example",)),
        AddressTemplate((), ("b@x.example",)),
    ]


def test_a_parsed_field_is_not_shared_between_callers():
    first = parse_recipient_template("a@x.example")
    first.clear()
    assert parse_recipient_template("a@x.example") == [AddressTemplate((), ("a@x.example",))]


# --- row values filled in ---------------------------------------------------------------------


def test_a_lone_placeholder_splits_into_bare_addresses():
    filled = fill_recipients("To", "{c.emails}", values(emails=" a@x.example; b@x.example,, "))
    assert filled == [Mailbox("", "a@x.example"), Mailbox("", "b@x.example")]


def test_an_empty_address_drops_only_that_item():
    filled = fill_recipients(
        "To", "{c.name} <{c.email}>, audit@x.example", values(name="Ann", email=" ")
    )
    assert filled == [Mailbox("", "audit@x.example")]


def test_names_and_addresses_are_filled_as_data():
    filled = fill_recipients(
        "CC",
        "{c.first} {c.last} <{c.user}@{c.domain}>",
        values(first="Ann\nB.", last="Lee, Jr.", user="ann", domain="bü.example"),
    )
    assert filled == [Mailbox("Ann B. Lee, Jr.", "ann@xn--b-eha.example")]
    assert str(filled[0]) == '"Ann B. Lee, Jr." <ann@xn--b-eha.example>'


@pytest.mark.parametrize(
    ("text", "value", "message"),
    [
        (
            "{c.e}",
            "Bob <b@x.example>",
            "invalid To address 'Bob <b@x.example>': A display name and angle brackets around "
            "the email address are not permitted here. "
            "(a column placed alone in the field holds bare addresses only)",
        ),
        (
            "{c.e}",
            "a@x.example b@x.example",
            "invalid To address 'a@x.example b@x.example': The part after the @-sign contains "
            "invalid characters: '@', SPACE. "
            "(a column placed alone in the field holds bare addresses only)",
        ),
        ("{c.e}", "x@", "invalid To address 'x@': There must be something after the @-sign."),
        (
            "B <{c.e}>",
            "a <b@x.example>",
            "invalid To address 'a <b@x.example>': A display name and angle brackets around "
            "the email address are not permitted here.",
        ),
        (
            "B <{c.e}>",
            '"a b"@x.example',
            "invalid To address '\"a b\"@x.example': Quoting the part before the @-sign is "
            "not allowed here.",
        ),
        ("Bob <a@x.example", "", "To: '<' without a closing '>' in 'Bob <a@x.example'"),
    ],
)
def test_a_filled_value_that_is_not_one_address_is_refused_clearly(text, value, message):
    with pytest.raises(DeliveryError) as refused:
        fill_recipients("To", text, values(e=value))
    assert str(refused.value) == message


# --- addresses --------------------------------------------------------------------------------


def test_an_address_keeps_its_local_part_and_gets_an_idna_domain():
    assert addr_spec("Ünal@Bü.example") == "Ünal@xn--b-eha.example"
    assert Mailbox("", "Ünal@xn--b-eha.example").needs_smtputf8
    assert not Mailbox("", "unal@xn--b-eha.example").needs_smtputf8


@pytest.mark.parametrize("value", ['"a b"@x.example', "a@[127.0.0.1]", "a@mailhub", "a@x.local"])
def test_quoted_local_parts_ip_literals_and_undeliverable_domains_are_refused(value):
    with pytest.raises(ValueError, match="."):
        addr_spec(value)


def test_intranet_addresses_are_accepted_only_when_the_setting_is_on(app):
    app.config["INTRANET_ADDRESSES"] = True
    try:
        assert addr_spec("ops@mailhub") == "ops@mailhub"
        assert parse_recipient_template("ops@mailhub") == [AddressTemplate((), ("ops@mailhub",))]
        with pytest.raises(ValueError):
            addr_spec("ops@localhost")  # special-use (RFC 6761) stays refused
    finally:
        app.config["INTRANET_ADDRESSES"] = False
    with pytest.raises(ValueError):
        addr_spec("ops@mailhub")
    assert recipient_field_error("ops@mailhub") is not None


@pytest.mark.parametrize(
    ("value", "seen"),
    [
        ("a\tb\x07c\u2028", "a\\tb\\x07c\\u2028"),
        ("x" * 80, "x" * 80),
        ("x" * 81, "x" * 79 + "…"),
        ("é" * 100, "é" * 79 + "…"),
    ],
)
def test_values_in_messages_are_one_escaped_line_of_at_most_80_characters(value, seen):
    assert shown(value) == seen


# --- cases that pin what mutation testing found unpinned (README "Mutation testing") --------


def test_only_from_is_limited_to_one_address():
    two = "a@x.example, Bob <b@x.example>"
    assert recipient_field_error(two) is None  # To, CC, BCC take lists
    assert recipient_field_error("a@x.example", single=True) is None
    assert recipient_field_error("", single=True) is None  # "required" is the form's check
    assert recipient_field_error(two, single=True) == "enter one address"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # An escaped quote at the very end does not close the quoted name.
        ('"a\\"', "a '\"' is not closed in '\"a\\\"'"),
        ("a@x.example, Ann <>", "an empty address <> in 'Ann <>'"),
    ],
)
def test_the_last_item_is_checked_like_the_others(text, message):
    assert recipient_field_error(text) == message


def test_capital_letters_are_ordinary_characters_in_names_and_addresses():
    assert parse_recipient_template("MAX X <MAX@X.example>; XO@x.example") == [
        AddressTemplate(("MAX X",), ("MAX@X.example",)),
        AddressTemplate((), ("XO@x.example",)),
    ]


def test_items_after_a_lone_placeholder_are_kept():
    filled = fill_recipients(
        "To", "{c.emails}, audit@x.example", values(emails="a@x.example; b@x.example")
    )
    assert [m.addr_spec for m in filled] == ["a@x.example", "b@x.example", "audit@x.example"]


def test_an_angle_bracket_in_a_lone_placeholder_value_gets_the_bare_address_hint():
    with pytest.raises(DeliveryError) as refused:
        fill_recipients("To", "{c.emails}", values(emails="<a@x.example>"))
    assert str(refused.value).endswith(
        "(a column placed alone in the field holds bare addresses only)"
    )


def test_the_address_rules_do_not_follow_the_validator_library_defaults(monkeypatch):
    # email_validator reads module-wide defaults for options left unset; another caller in
    # the process may change them. Herald's rules are its own (see addr_spec's docstring).
    monkeypatch.setattr(email_validator, "ALLOW_SMTPUTF8", False)
    monkeypatch.setattr(email_validator, "ALLOW_QUOTED_LOCAL", True)
    monkeypatch.setattr(email_validator, "ALLOW_DOMAIN_LITERAL", True)
    assert addr_spec("zoë@x.example") == "zoë@x.example"
    for value in ('"a b"@x.example', "a@[127.0.0.1]"):
        with pytest.raises(ValueError):
            addr_spec(value)
