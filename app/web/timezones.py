"""Timestamps on pages in the viewer's time zone, always with the zone named.

The zone is the browser's: herald.js stores `Intl.DateTimeFormat().resolvedOptions().timeZone`
in the `herald_tz` cookie, so every page after the first (the login page) is rendered in it
on the server, without JavaScript needed to read it. Without the cookie, or with a name that
is not an IANA zone, pages use UTC — and say "UTC", so no page mixes zones silently."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import has_request_context, request
from markupsafe import Markup, escape

COOKIE = "herald_tz"
FORMATS = {
    "minute": "%Y-%m-%d %H:%M",
    "second": "%Y-%m-%d %H:%M:%S",
    "date": "%Y-%m-%d",
    "fire": "%a %Y-%m-%d %H:%M",
}


def zone_named(name: str | None) -> ZoneInfo | None:
    """The IANA zone called `name` ("Europe/Berlin"), or None for anything else (no error)."""
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def viewer_zone() -> tzinfo:
    """The zone this request's pages show times in: the browser's (cookie) or UTC."""
    if not has_request_context():
        return UTC
    return zone_named(request.cookies.get(COOKIE)) or UTC  # ZoneInfo caches its zones


def zone_label(zone: tzinfo | None = None) -> str:
    """The zone's name as shown on pages ("Europe/Berlin", "UTC")."""
    zone = zone or viewer_zone()
    return "UTC" if zone is UTC else str(getattr(zone, "key", zone))


def local_time(value: datetime | None, style: str = "minute", zone: tzinfo | None = None) -> str:
    """`value` in the viewer's zone (or `zone`) as text with the zone's abbreviation, e.g.
    "2026-10-01 14:05 CEST"; "" for None. Naive values are UTC (the database's convention).
    `style` is a key of FORMATS; "date" prints no zone."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    shown = value.astimezone(zone or viewer_zone())
    text = shown.strftime(FORMATS[style])
    return text if style == "date" else f"{text} {shown.tzname()}"


def when(value: datetime | None, style: str = "minute", zone: tzinfo | None = None) -> Markup:
    """The Jinja filter for every timestamp on a page: a `<time>` element with the instant in
    ISO form, its text in the viewer's zone (`local_time`), the zone's full name as title."""
    if value is None:
        return Markup("")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    shown_zone = zone or viewer_zone()
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        value.isoformat(),
        zone_label(shown_zone),
        escape(local_time(value, style, shown_zone)),
    )


def fire_time(value: datetime) -> Markup:
    """A schedule fire time in the viewer's zone, with the schedule's own wall-clock time
    beside it when the schedule is in another zone ("… (09:00 EST in America/New_York)")."""
    shown = when(value, "fire")
    own = value.tzinfo
    if own is None or zone_label(own) == zone_label(viewer_zone()):
        return shown
    beside = Markup(' <span class="muted schedule-zone">({} in {})</span>').format(
        value.strftime("%a %H:%M %Z"), zone_label(own)
    )
    return shown + beside


def mail_date(header: str | None) -> Markup | str:
    """An email's Date header (RFC 5322, in the sender's zone) shown like every other time on
    a page; the header as it stands when it cannot be read."""
    if not header:
        return ""
    try:
        return when(parsedate_to_datetime(str(header)), "second")
    except (TypeError, ValueError):
        return str(header)
