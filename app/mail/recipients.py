"""Recipient fields (From, Reply-To, To, CC, BCC): templates parsed first, row values filled in
as data.

A field is an RFC 5322 §3.4 address list as the job's author typed it: items separated by
``,`` or ``;``, each ``address`` or ``display name <address>``, where the name and the address
may hold placeholders (``{alias.column}``, ``{params.name}``, ``{data.key}``…). The structure
comes only from the typed text. A placeholder's value fills one display name or one address
and is never parsed as address syntax again, so a row name ``Acme, Inc.`` or
``Bob <x@evil.example>`` stays a name (quoted on the wire by `app.mail.headers`).

The one way a value holds several addresses: a placeholder standing alone as a whole item
(the field ``{customers.emails}``, or ``{customers.emails}, audit@example.com``). Its value is
split on ``,`` and ``;`` into bare addresses; each must be a plain addr-spec (no names, no
angle brackets). Everywhere else a value is exactly one address or one name.

Rules applied to filled values:

- an address must be one RFC 5322 §3.4.1 addr-spec with a dot-atom local part, checked by
  `email_validator` (syntax only, no DNS); a non-ASCII domain is sent as IDNA A-labels
  (RFC 5891), a non-ASCII local part needs SMTPUTF8 (RFC 6531) — `Mailbox.needs_smtputf8`;
  the local part is kept as written;
- an address that fills to nothing (``{c.name} <{c.email}>`` with an empty email) is left out;
- a display name is made one line (`app.mail.headers.single_line`).

Errors: a template that is not an address list raises `AddressTemplateError` (job
validation shows it beside the field, see `recipient_field_error`); a filled value that is not
an address raises `DeliveryError` ("invalid To address '…': …"); an unknown placeholder raises
`PlaceholderError`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import current_app, has_app_context

from app.mail.headers import readable_mailbox, single_line
from app.outbound.errors import DeliveryError
from app.placeholders import PLACEHOLDER, placeholder_text

# A list item's value is split on these (RFC 5322 uses ",", Outlook users type ";").
LIST_SEPARATORS = re.compile(r"[,;]")
SHOWN_CHARS = 80


class AddressTemplateError(ValueError):
    """A recipient field whose typed text is not an address list."""


@dataclass(frozen=True)
class Ref:
    """A placeholder inside a recipient template."""

    namespace: str
    key: str


Part = str | Ref


@dataclass(frozen=True)
class AddressTemplate:
    """One item of a recipient field: a display name and an address, as literal text and refs.

    `expands` marks a placeholder standing alone as the item: its value may hold several bare
    addresses separated by ``,`` or ``;``.
    """

    name: tuple[Part, ...]
    address: tuple[Part, ...]
    expands: bool = False


@dataclass(frozen=True)
class Mailbox:
    """One recipient as sent: `addr_spec` has an ASCII (IDNA) domain."""

    display_name: str
    addr_spec: str

    @property
    def needs_smtputf8(self) -> bool:
        return not self.addr_spec.isascii()

    def __str__(self) -> str:
        return readable_mailbox(self.display_name, self.addr_spec)


def shown(value: str) -> str:
    """A value for an error message: one line, control characters escaped, at most 80 chars."""
    escaped = "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in value)
    return escaped if len(escaped) <= SHOWN_CHARS else escaped[: SHOWN_CHARS - 1] + "…"


def parse_recipient_template(text: str) -> list[AddressTemplate]:
    """The items of a recipient field as typed (RFC 5322 §3.4 address-list, with placeholders).

    Quoted strings (``"Smith, J" <j@x.example>``) group a name holding ``,`` or ``<``; empty
    items are skipped. Raises AddressTemplateError for unbalanced ``"`` ``<`` ``>``, text after
    ``>``, a name without ``<address>``, or a literal address that is not an addr-spec.
    """
    return list(_parsed(text or "", _intranet()))


@lru_cache(maxsize=512)
def _parsed(text: str, intranet: bool) -> tuple[AddressTemplate, ...]:
    # A burst fills the same few fields once per entry: parse each text once per process.
    # `intranet` is part of the key: it decides whether a literal address is accepted, and
    # one process may serve apps configured differently (the test suite does).
    return tuple(_TemplateParser(text).parse())


def _intranet() -> bool:
    return has_app_context() and bool(current_app.config.get("INTRANET_ADDRESSES"))


def recipient_field_error(text: str, *, single: bool = False) -> str | None:
    """Why a recipient field's typed text cannot work, or None; `single` for From (one address).

    Used by job validation (app.jobs.schema) and the SMTP connection form.
    """
    try:
        items = parse_recipient_template(text)
    except AddressTemplateError as exc:
        return str(exc)
    if single and len(items) > 1:
        return "enter one address"
    return None


def fill_recipients(
    field: str, text: str, values: Mapping[str, Mapping[str, Any]]
) -> list[Mailbox]:
    """The mailboxes of a recipient field for one entry; `field` names it in errors ("To")."""
    try:
        items = parse_recipient_template(text)
    except AddressTemplateError as exc:
        raise DeliveryError(f"{field}: {exc}") from None
    mailboxes: list[Mailbox] = []
    for item in items:
        if item.expands:
            value = _filled(item.address, values)
            for part in LIST_SEPARATORS.split(value):
                if part.strip():
                    mailboxes.append(Mailbox("", checked_addr_spec(field, part.strip(), bare=True)))
            continue
        address = _filled(item.address, values).strip()
        if not address:
            continue  # e.g. "{c.name} <{c.email}>" with an empty email column
        name = single_line(_filled(item.name, values))
        mailboxes.append(Mailbox(name, checked_addr_spec(field, address)))
    return mailboxes


def checked_addr_spec(field: str, value: str, *, bare: bool = False) -> str:
    """`value` as one addr-spec with an IDNA domain; DeliveryError naming the value otherwise.

    `bare`: the value came from a column placed alone in the field, where names are not allowed.
    """
    try:
        return addr_spec(value)
    except ValueError as exc:
        hint = ""
        if bare and ("<" in value or " " in value.strip()):
            hint = " (a column placed alone in the field holds bare addresses only)"
        raise DeliveryError(f"invalid {field} address '{shown(value)}': {exc}{hint}") from None


def addr_spec(value: str) -> str:
    """`value` as one RFC 5322 addr-spec, domain in IDNA A-labels; ValueError saying why not.

    Domains must be deliverable on the internet (a dot, no special-use name such as
    `.local` or `localhost`, RFC 6761) unless `HERALD_INTRANET_ADDRESSES` is on, which lets
    dotless intranet names like `ops@mailhub` through.
    """
    intranet = _intranet()
    try:
        checked = validate_email(
            value,
            allow_smtputf8=True,
            allow_quoted_local=False,
            allow_domain_literal=False,
            check_deliverability=False,
            globally_deliverable=not intranet,
        )
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    except UnicodeError:  # e.g. a lone surrogate, which no codec can write
        raise ValueError("it holds a character that cannot be encoded") from None
    return f"{checked.local_part}@{checked.ascii_domain}"


def _filled(parts: tuple[Part, ...], values: Mapping[str, Mapping[str, Any]]) -> str:
    return "".join(
        part if isinstance(part, str) else placeholder_text(part.namespace, part.key, values)
        for part in parts
    )


class _TemplateParser:
    """A single pass over the typed text; `parse` returns the items or raises."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.items: list[AddressTemplate] = []
        self._start_item()

    def _start_item(self) -> None:
        self.name: list[Part] = []
        self.address: list[Part] | None = None  # set once "<" is seen
        self.closed = False  # ">" seen: only whitespace may follow
        self.quoted = False  # a quoted string was part of the name
        self.item_start = 0

    def parse(self) -> list[AddressTemplate]:
        text, pos, in_quote = self.text, 0, False
        while pos < len(text):
            match = PLACEHOLDER.match(text, pos)
            if match:
                if self.closed:
                    self._fail("text after '>'", pos)
                self._target().append(Ref(*match.groups()))
                pos = match.end()
                continue
            char = text[pos]
            if in_quote:
                if char == "\\" and pos + 1 < len(text):
                    self.name.append(text[pos + 1])
                    pos += 2
                    continue
                if char == '"':
                    in_quote = False
                else:
                    self.name.append(char)
            elif self.address is not None and not self.closed:
                if char == ">":
                    self.closed = True
                elif char in '<"':
                    self._fail(f"'{char}' inside <…>", pos)
                else:
                    self.address.append(char)
            elif char in ",;":
                self._end_item(pos)
                self.item_start = pos + 1
            elif self.closed:
                if not char.isspace():
                    self._fail("text after '>'", pos)
            elif char == '"':
                in_quote, self.quoted = True, True
            elif char == "<":
                self.address = []
            elif char == ">":
                self._fail("'>' without '<'", pos)
            else:
                self.name.append(char)
            pos += 1
        if in_quote:
            self._fail("a '\"' is not closed", len(text))
        if self.address is not None and not self.closed:
            self._fail("'<' without a closing '>'", len(text))
        self._end_item(len(text))
        return self.items

    def _target(self) -> list[Part]:
        return self.address if self.address is not None and not self.closed else self.name

    def _fail(self, problem: str, pos: int) -> None:
        # The item always reaches the character at fault (or the `"`/`<` left open): never empty.
        item = self.text[self.item_start : pos + 1].strip()
        raise AddressTemplateError(f"{problem} in '{shown(item)}'")

    def _end_item(self, pos: int) -> None:
        item_text = self.text[self.item_start : pos].strip()
        name, address = _merge(self.name), _merge(self.address or [])
        if self.address is None:
            self._bare_item(name, item_text)
        else:
            if not address:
                self._fail("an empty address <>", pos - 1)
            if any(isinstance(p, str) and re.search(r"\s", p) for p in address):
                self._fail("an address cannot contain spaces", pos - 1)
            self._add(AddressTemplate(tuple(name), tuple(address)))
        self._start_item()

    def _bare_item(self, parts: list[Part], item_text: str) -> None:
        if not parts:
            if self.quoted:  # `""` alone: an empty name
                raise AddressTemplateError(
                    "a name needs its address in angle brackets: Name <address> "
                    f"in '{shown(item_text)}'"
                )
            return  # an empty item, e.g. a trailing comma
        if self.quoted or any(isinstance(p, str) and re.search(r"\s", p) for p in parts):
            raise AddressTemplateError(
                f"'{shown(item_text)}': write a name with its address in angle brackets, "
                "e.g. Name <name@example.com>"
            )
        expands = len(parts) == 1 and isinstance(parts[0], Ref)
        self._add(AddressTemplate((), tuple(parts), expands))

    def _add(self, item: AddressTemplate) -> None:
        if all(isinstance(p, str) for p in item.address):
            literal = "".join(item.address)  # type: ignore[arg-type]
            try:
                addr_spec(literal)
            except ValueError as exc:
                raise AddressTemplateError(
                    f"'{shown(literal)}' is not an email address: {exc}"
                ) from None
        self.items.append(item)


def _merge(parts: list[Part]) -> list[Part]:
    """Adjacent literal characters joined into strings; surrounding whitespace kept as typed."""
    merged: list[Part] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    # Leading/trailing whitespace around a bare address or inside <…> is not part of it.
    if merged and isinstance(merged[0], str):
        merged[0] = merged[0].lstrip()
    if merged and isinstance(merged[-1], str):
        merged[-1] = merged[-1].rstrip()
    return [p for p in merged if p != ""]
