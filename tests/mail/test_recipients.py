"""Recipient fields: the template's structure as typed, row values filled in as data.

Messages go through the real SMTP server (`mailbox`); envelope recipients and parsed headers
are read back with Python's email package.
"""

from __future__ import annotations

import re
from typing import Any

import idna
import pytest
from aiosmtpd.controller import Controller
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from app.delivery.email import send_email
from app.errors import ValidationFailed
from app.jobs.schema import EmailDelivery
from app.mail.recipients import (
    AddressTemplate,
    Ref,
    fill_recipients,
    parse_recipient_template,
    recipient_field_error,
)
from app.outbound.errors import DeliveryError
from app.runs.create import start_run
from tests import factories as make
from tests.helpers import Mailbox, entries_of, free_port

NAME_TO = "{c.name} <{c.email}>"


def values(**row: Any) -> dict[str, Any]:
    return {"c": row, "params": {}, "data": {}}


def deliver(ws, row: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """Send one message for `row` through the workspace's SMTP connection; return its detail."""
    config = EmailDelivery.model_validate({"subject": "s", "message": "m", **fields})
    return send_email(config, values(**row), [], ws.id)


def received(mailbox: Mailbox):
    ((message, envelope),) = zip(mailbox.messages, mailbox.envelopes, strict=True)
    return message, envelope


def names_and_addresses(header) -> list[tuple[str, str]]:
    return [(a.display_name, a.addr_spec) for a in header.addresses]


# --- the template as typed ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "items"),
    [
        (NAME_TO, [AddressTemplate((Ref("c", "name"),), (Ref("c", "email"),))]),
        ("{c.emails}", [AddressTemplate((), (Ref("c", "emails"),), expands=True)]),
        (
            '"Smith, J" <j@x.example>; help-{c.id}@x.example,',
            [
                AddressTemplate(("Smith, J",), ("j@x.example",)),
                AddressTemplate((), ("help-", Ref("c", "id"), "@x.example")),
            ],
        ),
        (
            "{c.first} {c.last} <{c.email}>",
            [AddressTemplate((Ref("c", "first"), " ", Ref("c", "last")), (Ref("c", "email"),))],
        ),
        ("", []),
        (" , ;", []),
    ],
)
def test_a_field_is_parsed_as_typed(text, items):
    assert parse_recipient_template(text) == items


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("not-an-email", "'not-an-email' is not an email address"),
        ("Bob <bob@x.example", "'<' without a closing '>'"),
        ("bob@x.example>", "'>' without '<'"),
        ('"Bob <bob@x.example>', "is not closed"),
        ("Bob <>", "an empty address <>"),
        ("Bob bob@x.example", "angle brackets"),
        ("{c.name} {c.email}", "angle brackets"),
        ("<a@x.example> Bob", "text after '>'"),
        ("Bob <a@x.example <b@x.example>>", "inside <…>"),
        ("Acme, Inc. <ap@acme.example>", "'Acme' is not an email address"),
    ],
)
def test_a_field_that_is_not_an_address_list_is_refused(text, problem):
    assert problem in recipient_field_error(text)


def test_from_takes_one_address():
    assert recipient_field_error("a@x.example, b@x.example", single=True) == "enter one address"
    assert recipient_field_error("{c.name} <{c.email}>", single=True) is None


def test_an_invalid_literal_address_is_refused_when_the_job_is_saved(app):
    ws = make.workspace()
    make.template(ws, "letter", "<p>x</p>")
    with pytest.raises(ValidationFailed) as caught:
        make.job(
            ws,
            reports=[{"template": "letter"}],
            deliveries=[
                {
                    "kind": "email",
                    "from": "Billing <billing@x.example",
                    "to": "not-an-email",
                    "cc": "ok@x.example",
                    "subject": "s",
                    "message": "m",
                }
            ],
        )
    assert caught.value.errors == {
        "deliveries.0.from": "'<' without a closing '>' in 'Billing <billing@x.example'",
        "deliveries.0.to": "'not-an-email' is not an email address: "
        "An email address must have an @-sign.",
    }


def test_intranet_domains_are_refused_unless_the_setting_allows_them(app):
    assert recipient_field_error("ops@mailhub") is not None  # no dot: not deliverable
    assert recipient_field_error("ops@printer.local") is not None
    app.config["INTRANET_ADDRESSES"] = True
    try:
        assert recipient_field_error("ops@mailhub") is None
        assert recipient_field_error("Ops <ops@mailhub>, a@x.example") is None
        # special-use names (RFC 6761) stay refused: mail to them cannot be routed
        assert recipient_field_error("ops@localhost") is not None
    finally:
        app.config["INTRANET_ADDRESSES"] = False
    # Parsed fields are cached: one parsed while the setting was on is not accepted now.
    assert recipient_field_error("Ops <ops@mailhub>, a@x.example") is not None


# --- row values are data ------------------------------------------------------------------


def test_the_issue_example_acme_inc_is_one_recipient_in_a_real_run(app, work, smtp_server, mailbox):
    ws = make.workspace(smtp=smtp_server.settings)
    rows = [{"name": "Acme, Inc.", "email": "ap@acme.example"}]
    job = make.people_job(
        ws,
        rows,
        "<p>{{ people.name }}</p>",
        deliveries=[
            {
                "kind": "email",
                "to": "{people.name} <{people.email}>",
                "subject": "s",
                "message": "m",
            }
        ],
    )
    run_id = start_run(job, None).id
    work()

    message, envelope = received(mailbox)
    assert envelope == ["ap@acme.example"]
    assert names_and_addresses(message["To"]) == [("Acme, Inc.", "ap@acme.example")]
    assert str(message["To"]) == '"Acme, Inc." <ap@acme.example>'
    assert [e.status for e in entries_of(run_id)] == ["Completed"]


@pytest.mark.parametrize(
    "name",
    [
        "Acme; Ltd",
        "Mallory <x@evil.example>",
        'The "Best" Customer',
        "ap@acme.example",
        "Bob\r\nBcc: victim@evil.example",
        "back\\slash, (comment) [x]: y.",
        "=?utf-8?q?Admin?=",
    ],
)
def test_a_name_with_address_syntax_stays_a_name(app, smtp_server, mailbox, name):
    ws = make.workspace(smtp=smtp_server.settings)
    detail = deliver(ws, {"name": name, "email": "ann@x.example"}, to=NAME_TO)

    message, envelope = received(mailbox)
    assert envelope == ["ann@x.example"]
    shown = " ".join(name.split())  # a header is one line: line breaks become spaces
    assert names_and_addresses(message["To"]) == [(shown, "ann@x.example")]
    assert message["Bcc"] is None
    assert len(detail["to"]) == 1


def test_an_address_value_must_be_exactly_one_address(app, smtp_server, mailbox):
    ws = make.workspace(smtp=smtp_server.settings)
    for email in ["a@x.example, b@x.example", "Eve <eve@x.example>", "a@x.example\r\nb@x"]:
        with pytest.raises(DeliveryError) as caught:
            deliver(ws, {"name": "Ann", "email": email}, to=NAME_TO)
        assert str(caught.value).startswith("invalid To address '")
        assert "\n" not in str(caught.value)  # the value is named safely, on one line
    assert mailbox.messages == []


def test_a_column_alone_in_the_field_may_hold_several_bare_addresses(app, smtp_server, mailbox):
    ws = make.workspace(smtp=smtp_server.settings)
    deliver(
        ws,
        {"emails": "a@x.example; b@x.example ,c@x.example,", "boss": "d@x.example"},
        to="{c.emails}",
        cc="{c.boss}, audit@x.example",
    )
    message, envelope = received(mailbox)
    assert envelope == [
        "a@x.example",
        "b@x.example",
        "c@x.example",
        "d@x.example",
        "audit@x.example",
    ]
    assert names_and_addresses(message["To"]) == [
        ("", "a@x.example"),
        ("", "b@x.example"),
        ("", "c@x.example"),
    ]

    # ...bare addresses only: a name in such a column is refused, naming the value.
    with pytest.raises(DeliveryError) as caught:
        deliver(ws, {"emails": "Ann <a@x.example>, b@x.example"}, to="{c.emails}")
    assert str(caught.value).startswith("invalid To address 'Ann <a@x.example>'")
    assert "bare addresses only" in str(caught.value)


def test_an_empty_email_column_drops_that_address_and_no_address_means_no_recipient(
    app, smtp_server, mailbox
):
    ws = make.workspace(smtp=smtp_server.settings)
    deliver(ws, {"name": "Ann", "email": ""}, to=NAME_TO, cc="Ops <ops@x.example>")
    message, envelope = received(mailbox)
    assert envelope == ["ops@x.example"]
    assert message["To"] is None

    with pytest.raises(DeliveryError, match="^no recipient$"):
        deliver(ws, {"name": "Ann", "email": "  "}, to=NAME_TO)


# --- non-ASCII, encoded once ----------------------------------------------------------------


def test_non_ascii_names_are_encoded_once_in_every_header(app, smtp_server, mailbox):
    ws = make.workspace(smtp=smtp_server.settings)
    zoe = {"name": "Zoë Ångström", "email": "zoe@example.com"}
    deliver(
        ws,
        zoe,
        **{"from": "Zoë Ångström <billing@example.com>"},
        to=NAME_TO,
        cc="Zoë Ångström <cc@example.com>",
        bcc="Zoë Ångström <bcc@example.com>",
        reply_to=NAME_TO,
        subject="Relevé für {c.name}\nnächste Zeile",
    )
    message, envelope = received(mailbox)
    assert envelope == ["zoe@example.com", "cc@example.com", "bcc@example.com"]
    for header, address in [
        ("From", "billing@example.com"),
        ("To", "zoe@example.com"),
        ("Cc", "cc@example.com"),
        ("Reply-To", "zoe@example.com"),
    ]:
        assert names_and_addresses(message[header]) == [("Zoë Ångström", address)]
    assert message["Subject"] == "Relevé für Zoë Ångström nächste Zeile"
    head = mailbox.raw[0].split(b"\r\n\r\n")[0]
    assert head.isascii()
    # One encoding: no encoded word inside another, none left after decoding.
    assert b"=?utf-8?b?PT9" not in head.lower() and "=?" not in str(message["To"])


def test_a_long_non_ascii_name_is_encoded_in_words_of_at_most_75_characters(
    app, smtp_server, mailbox
):
    ws = make.workspace(smtp=smtp_server.settings)
    name = "株式会社ノースウィンド・トレーダーズ 経理部 御中, Zoë Ångström"
    deliver(ws, {"name": name, "email": "ap@example.com"}, to=NAME_TO + ", audit@example.com")
    message, envelope = received(mailbox)
    assert envelope == ["ap@example.com", "audit@example.com"]
    assert names_and_addresses(message["To"]) == [
        (name, "ap@example.com"),
        ("", "audit@example.com"),
    ]
    head = mailbox.raw[0].split(b"\r\n\r\n")[0].decode("ascii")
    assert all(len(w) <= 75 for w in re.findall(r"=\?[^?]+\?[bq]\?[^?]*\?=", head))
    assert all(len(line) <= 78 for line in head.split("\r\n"))


def test_a_non_ascii_domain_is_sent_as_idna(app, smtp_server, mailbox):
    ws = make.workspace(smtp=smtp_server.settings)
    detail = deliver(ws, {"name": "Ann", "email": "ann@bücher.example"}, to=NAME_TO)
    message, envelope = received(mailbox)
    assert envelope == ["ann@xn--bcher-kva.example"]
    assert names_and_addresses(message["To"]) == [("Ann", "ann@xn--bcher-kva.example")]
    assert detail["to"] == ["Ann <ann@xn--bcher-kva.example>"]


@pytest.fixture
def plain_smtp():
    """An SMTP server that does not offer SMTPUTF8 (the shared one does, as aiosmtpd's default)."""
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, enable_SMTPUTF8=False)
    controller.start()
    yield mailbox, {"host": "127.0.0.1", "port": port, "from": "billing@example.com"}
    controller.stop()


def test_a_non_ascii_local_part_is_refused_without_smtputf8_and_the_run_says_why(
    app, work, plain_smtp
):
    mailbox, smtp = plain_smtp
    ws = make.workspace(smtp=smtp)
    rows = [
        {"name": "Zoë", "email": "zoë@example.com"},
        {"name": "Ann", "email": "ann@example.com"},
    ]
    job = make.people_job(
        ws,
        rows,
        "<p>{{ people.name }}</p>",
        deliveries=[{"kind": "email", "to": "{people.email}", "subject": "s", "message": "m"}],
    )
    run_id = start_run(job, None).id
    work()

    zoe, ann = entries_of(run_id)
    assert (zoe.status, ann.status) == ("DeliveryFailed", "Completed")
    (delivery,) = zoe.deliveries
    assert delivery.last_error == (
        "invalid address 'zoë@example.com': the part before @ is not ASCII and the SMTP server "
        "does not offer SMTPUTF8"
    )
    assert mailbox.envelopes == [["ann@example.com"]]


def test_a_server_offering_smtputf8_gets_the_address_as_written(app, smtp_server, mailbox):
    ws = make.workspace(smtp=smtp_server.settings)
    deliver(ws, {"name": "Zoë Ångström", "email": "zoë@example.com"}, to=NAME_TO)
    message, envelope = received(mailbox)
    assert envelope == ["zoë@example.com"]
    assert names_and_addresses(message["To"]) == [("Zoë Ångström", "zoë@example.com")]


# --- any name, any address: the property ----------------------------------------------------

ATEXT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~"
SYNTAX = list(',;<>"@\\()[]:.=? \t\r\n') + ["=?utf-8?q?x?=", "\u2028", "\x00", "\x85"]
names = st.lists(
    st.one_of(st.characters(exclude_categories=("Cs",)), st.sampled_from(SYNTAX)), max_size=40
).map("".join)
dot_atom = st.lists(st.text(ATEXT, min_size=1, max_size=8), min_size=1, max_size=3).map(".".join)
label = st.one_of(
    st.from_regex(r"[a-z0-9]{1,8}(-[a-z0-9]{1,8})?", fullmatch=True),
    st.sampled_from(["bücher", "ÅNGSTRÖM", "münchen", "例え", "Acme"]),
)
valid_addresses = st.builds(
    lambda local, labels, tld: f"{local}@{'.'.join([*labels, tld])}",
    dot_atom,
    st.lists(label, min_size=1, max_size=2),
    st.sampled_from(["example", "com", "org", "de"]),
)
junk_addresses = st.one_of(
    st.lists(st.sampled_from(SYNTAX + list(ATEXT)), max_size=30).map("".join),
    st.builds(lambda a, b: f"{a}@{b}", names, names),
    st.just("zoë@example.com"),
)


def expected_envelope(address: str) -> str:
    local, _, domain = address.rpartition("@")
    return f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}"


def one_line(name: str) -> str:
    return " ".join(re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", " ", name).split())


@pytest.fixture
def smtp_workspace(app, smtp_server):
    return make.workspace(smtp=smtp_server.settings)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=names,
    address=st.one_of(
        valid_addresses.map(lambda a: (a, True)), junk_addresses.map(lambda a: (a, False))
    ),
)
def test_any_row_name_and_address_reach_exactly_that_recipient_or_fail_clearly(
    smtp_workspace, mailbox, name, address
):
    address, must_work = address
    note(f"name={name!r} address={address!r}")
    mailbox.clear()
    try:
        deliver(smtp_workspace, {"name": name, "email": address}, to=NAME_TO + ", audit@x.org")
    except DeliveryError as exc:
        assert not must_work, f"a valid address was refused: {exc}"
        assert str(exc).startswith(("invalid To address '", "invalid address '"))
        assert mailbox.messages == []
        return
    message, envelope = received(mailbox)
    if not address.strip():  # an empty address is left out, the rest of the list stays
        assert envelope == ["audit@x.org"]
        assert names_and_addresses(message["To"]) == [("", "audit@x.org")]
        return
    recipient = expected_envelope(address.strip())
    assert envelope == [recipient, "audit@x.org"]
    assert names_and_addresses(message["To"]) == [(one_line(name), recipient), ("", "audit@x.org")]


def test_fill_recipients_without_a_server_names_the_field(app):
    with pytest.raises(DeliveryError, match=r"^invalid CC address 'x@'"):
        fill_recipients("CC", "{c.email}", values(email="x@"))
