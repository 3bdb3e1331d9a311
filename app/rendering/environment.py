"""The sandboxed, autoescaping Jinja environment user templates run in."""

from __future__ import annotations

import urllib.parse
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from typing import Any

from jinja2 import ChainableUndefined, StrictUndefined, TemplateError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from app.rendering.charts import ChartError, chart
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


def _with_helpers(env: ImmutableSandboxedEnvironment) -> ImmutableSandboxedEnvironment:
    env.filters.update(money=money, date=format_date, month_end=month_end)
    env.globals.update(asset_url=asset_url, chart=chart)
    return env


@cache
def sandbox() -> ImmutableSandboxedEnvironment:
    """One shared environment: no access to Python internals, autoescaped, strict undefined."""
    return _with_helpers(ImmutableSandboxedEnvironment(autoescape=True, undefined=StrictUndefined))


class _CheckingSandbox(ImmutableSandboxedEnvironment):
    """The sandbox of a check render: an unsafe attribute fails where it is read (the run's
    sandbox fails only when its value is used), and names the check does not know stay
    lenient stand-ins (they are a job's data sources, known only to the job)."""

    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        raise SecurityError(
            f"access to attribute {attribute!r} of a {type(obj).__name__} is unsafe"
        )


@cache
def _checking_sandbox() -> ImmutableSandboxedEnvironment:
    return _with_helpers(_CheckingSandbox(autoescape=True, undefined=ChainableUndefined))


def sandbox_refusal(source: str, context: dict[str, Any]) -> str | None:
    """Why the sandbox refuses `source` rendered with `context` — an unsafe attribute or
    call, as "line N: …" — or None. Failures that depend on the data (a filter given an
    odd value, a missing row) are no refusal and not reported; `source` must compile."""
    try:
        _checking_sandbox().from_string(source).render(context)
    except SecurityError as exc:
        line = _template_line(exc)
        return f"line {line}: {exc}" if line else str(exc)
    except Exception:  # data-dependent: the preview shows those, with real values
        return None
    return None


def _template_line(exc: BaseException) -> int | None:
    """The template line an exception was raised on (Jinja maps its frames to lines)."""
    tb, line = exc.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


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
        lineno = _template_line(exc)
        line = f" (line {lineno})" if lineno else ""
        said = str(exc) if isinstance(exc, ChartError) else f"{type(exc).__name__}: {exc}"
        raise TemplateRenderError(f"template error{line}: {said}") from None
