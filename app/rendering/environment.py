"""The sandboxed, autoescaping Jinja environment user templates run in."""

from __future__ import annotations

import urllib.parse
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from app.rendering.deadline import checked


class TemplateRenderError(Exception):
    """A user template that failed to compile or render; the message says where."""


def money(cents: Any) -> str:
    """Integer cents as "1,234.56" (negative with a leading minus)."""
    value = int(cents or 0)
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), 100)
    return f"{sign}{whole:,}.{frac:02d}"


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def format_date(value: Any, fmt: str = "%-d %b %Y") -> str:
    """An ISO date (or date) formatted with strftime codes; "1 Mar 2026" by default."""
    if value in (None, ""):
        return ""
    return _as_date(value).strftime(fmt)


def month_end(value: Any) -> str:
    """The last day of the month of an ISO date, as an ISO date."""
    d = _as_date(value)
    first_of_next = (d.replace(day=28) + timedelta(days=4)).replace(day=1)
    return (first_of_next - timedelta(days=1)).isoformat()


def asset_url(name: str) -> str:
    """The URL of a workspace asset inside a PDF; the only kind of URL the renderer fetches."""
    # Encoded so any name (spaces, accents, "#", "%") survives as one URL; the fetcher decodes.
    return f"herald-asset:{urllib.parse.quote(name, safe='')}"


@cache
def sandbox() -> ImmutableSandboxedEnvironment:
    """One shared environment: no access to Python internals, autoescaped, strict undefined."""
    env = ImmutableSandboxedEnvironment(autoescape=True, undefined=StrictUndefined)
    env.filters.update(money=money, date=format_date, month_end=month_end)
    env.globals.update(asset_url=asset_url)
    return env


@lru_cache(maxsize=256)  # bounded: template previews compile a new source per keystroke
def _compiled(source: str) -> Any:
    return sandbox().from_string(source)


def render_html(source: str, context: dict[str, Any]) -> str:
    """Render a user template in the sandbox, turning every failure into TemplateRenderError.

    Under a `render_deadline` it raises RenderDeadlineExceeded when the time is up."""
    try:
        template = _compiled(source)
        return checked(lambda: template.render(context))
    except TemplateError as exc:
        line = f" (line {exc.lineno})" if getattr(exc, "lineno", None) else ""
        raise TemplateRenderError(f"template error{line}: {exc.message or exc}") from None
    except (ArithmeticError, TypeError, ValueError, KeyError, AttributeError) as exc:
        raise TemplateRenderError(f"template error: {type(exc).__name__}: {exc}") from None
