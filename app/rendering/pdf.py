"""HTML to PDF with WeasyPrint, loading nothing but the workspace's own assets."""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache

from cachetools import LRUCache
from weasyprint import CSS, HTML
from weasyprint.css.counters import CounterStyle
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from app.datasources.text import clean_text
from app.extensions import db
from app.models import Asset
from app.rendering.css_checks import ignored_css, ignored_css_in_html
from app.rendering.environment import TemplateRenderError
from app.rendering.font_families import font_faces
from app.rendering.glyphs import NotdefFinder, undrawn_warning
from app.rendering.narrative import Narrative

ASSET_SCHEME = "herald-asset:"

# Every report starts from this family stack; the template's own CSS overrides it. The Noto
# families are installed by ./dev (fonts-noto-core, fonts-noto-cjk); naming them makes each
# script's font a choice rather than whatever fontconfig's fallback order picks, and a
# template that names a font lacking a script still falls back through fontconfig. The order
# matters, as a character takes the first listed font that has it: DejaVu Sans comes before
# Devanagari and CJK so that symbols Noto Sans lacks (U+2212 minus, arrows, check marks) are
# not drawn from those (embedding a subset of the 20 MB CJK font for a minus sign), and after
# the Arabic, Hebrew and Thai fonts, whose letters it would otherwise take.
FONT_STACK = (
    '"Noto Sans", "Noto Sans Arabic", "Noto Sans Hebrew", "Noto Sans Thai", "DejaVu Sans", '
    '"Noto Sans Devanagari", "Noto Sans CJK JP", sans-serif'
)
BASE_CSS = f"html {{ font-family: {FONT_STACK}; }}"


class BlockedURL(ValueError):
    pass


class WorkspaceFetcher(URLFetcher):
    """Serves `herald-asset:` and `data:` URLs; file://, http(s):// and the rest are refused."""

    def __init__(self, workspace_id: int):
        super().__init__(allowed_protocols={"data"}, timeout=1)
        self.workspace_id = workspace_id
        self.blocked: list[str] = []
        self.missing: list[str] = []  # asset names the template uses that do not exist
        self.calls = 0

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        self.calls += 1
        if url.startswith(ASSET_SCHEME):
            # WeasyPrint %-encodes a URL's spaces and non-ASCII characters (and asset_url
            # encodes the rest) before fetching: the asset is looked up by its decoded name.
            name = urllib.parse.unquote(url.removeprefix(ASSET_SCHEME))
            asset = db.session.execute(
                db.select(Asset).filter_by(workspace_id=self.workspace_id, name=name)
            ).scalar_one_or_none()
            if asset is None:
                if name not in self.missing:
                    self.missing.append(name)
                raise BlockedURL(f"no asset named '{name}'")
            return URLFetcherResponse(url, asset.content, {"Content-Type": asset.content_type})
        if url.startswith("data:"):
            return super().fetch(url, headers)
        self.blocked.append(url)
        raise BlockedURL(f"URL not allowed in reports: {url}")


@dataclass(frozen=True)
class RenderedPdf:
    """A rendered PDF, the characters it had to draw as .notdef boxes, and what went wrong
    while rendering it (CSS that was ignored, images that did not load, fonts), one message
    each."""

    data: bytes
    undrawn: list[str]
    render_warnings: list[str] = field(default_factory=list)
    # The written summary attempted for this report (docs/SUMMARY.md); None when not asked.
    narrative: Narrative | None = None

    @property
    def warnings(self) -> list[str]:
        """The warnings an entry and a preview show, one problem each: undrawn characters
        first, then at most MAX_RENDER_WARNINGS render warnings and "… and N more"."""
        undrawn = undrawn_warning(self.undrawn)
        shown = self.render_warnings[:MAX_RENDER_WARNINGS]
        more = len(self.render_warnings) - len(shown)
        tail = [f"… and {more} more render warning{'s' if more > 1 else ''}"] if more else []
        return ([undrawn] if undrawn else []) + shown + tail

    @property
    def warning(self) -> str | None:
        """`warnings` joined with "; ", or None when there is none."""
        return "; ".join(self.warnings) or None


MAX_RENDER_WARNINGS = 20

# WeasyPrint names an at-rule it does not know by its repr: say it as a person would.
_UNKNOWN_RULE = re.compile(r"^Unknown (?:empty )?rule <AtRule @([\w-]+) …(?: \{ … \})?> at (\S+)$")
# An image's URL may be a data: URL of many kilobytes; an undecodable image has no reason.
_FAILED_IMAGE = re.compile(r"^Failed to load image at '(.*)': ?(.*)$", re.S)
URL_SHOWN = 80


def _readable(message: str) -> str:
    """A WeasyPrint log message as a template's author can read it."""
    if failed := _FAILED_IMAGE.match(message):
        url, reason = failed[1], failed[2].removeprefix(f"{BlockedURL.__name__}: ")
        reason = reason or "not an image file that can be read"
        url = url if len(url) <= URL_SHOWN else url[:URL_SHOWN] + "…"
        return f"Failed to load image at '{url}': {reason}"
    return _UNKNOWN_RULE.sub(r"Ignored `@\1` at \2, WeasyPrint does not support the rule.", message)


class _ThisThread(logging.Handler):
    """Collects the `weasyprint` logger's warnings emitted by the rendering thread only."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            message = " ".join(record.getMessage().split())
            if message.startswith(".notdef glyph"):
                return  # undrawn characters are reported by NotdefFinder, once per character
            message = _readable(message)
            if message not in self.messages:
                self.messages.append(message)


@contextmanager
def _weasyprint_warnings() -> Iterator[list[str]]:
    handler = _ThisThread()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


@cache
def font_config() -> FontConfiguration:
    # One per process: a fresh one per render leaks ~0.24 MB each (DESIGN.md measurements).
    return FontConfiguration()


@cache
def base_stylesheet() -> CSS:
    return CSS(string=BASE_CSS, font_config=font_config())


@dataclass(frozen=True)
class ParsedCss:
    """A template's CSS parsed once, the warnings parsing it gave ("CSS: …"), and the
    @counter-style rules it defines (WeasyPrint gathers them at parse time, apart from the
    sheet; each render starts from a copy, to which the HTML's own rules are added)."""

    sheet: CSS
    warnings: tuple[str, ...]
    counter_styles: CounterStyle


# A parsed stylesheet takes ~100 times its text in memory (450 KB of CSS: ~43 MB), so what is
# kept is bounded by the length of the CSS texts: 64 of the largest a template may have, kept
# by count, were gigabytes in every worker and web process. 256 K characters keep dozens of
# ordinary templates' CSS (1-10 KB each) in ~25 MB; a larger text is parsed for each render.
KEPT_CSS_CHARS = 256 * 1024
# Weighed by the key's CSS text: cachetools passes the value to getsizeof, so the text is
# stored beside the parsed sheet. A text longer than the budget is never kept.
_kept_css: LRUCache[tuple[str, int], tuple[str, ParsedCss | None]] = LRUCache(
    KEPT_CSS_CHARS, getsizeof=lambda kept: len(kept[0])
)
_kept_css_lock = threading.Lock()  # a web process renders previews on several threads


def reusable_css(css: str, workspace_id: int) -> ParsedCss | None:
    """The CSS field `css` of a template in workspace `workspace_id`, parsed once per process:
    every entry of a run shares its template's CSS, and parsing it was ~6% of a one-page
    statement's render. None when parsing fetched anything (an @import or @font-face naming an
    asset, which can be replaced or deleted): such CSS is parsed afresh for each render. Kept
    while the CSS texts kept add up to KEPT_CSS_CHARS characters, least recently used first out.

    A parsed stylesheet is reused across documents as the base stylesheet is: WeasyPrint only
    reads it while rendering."""
    key = (css, workspace_id)
    with _kept_css_lock:
        kept = _kept_css.get(key)
    if kept is not None:
        return kept[1]
    parsed = _parsed_css(css, workspace_id)  # outside the lock: parsing takes milliseconds
    with _kept_css_lock, contextlib.suppress(ValueError):  # ValueError: larger than the budget
        _kept_css[key] = (css, parsed)
    return parsed


def _parsed_css(css: str, workspace_id: int) -> ParsedCss | None:
    fetcher = WorkspaceFetcher(workspace_id)
    counter_styles = CounterStyle()
    with _weasyprint_warnings() as warnings:
        sheet = CSS(
            string=css,
            font_config=font_config(),
            counter_style=counter_styles,
            url_fetcher=fetcher,
        )
    if fetcher.calls:
        return None
    return ParsedCss(sheet, tuple(f"CSS: {m}" for m in warnings), counter_styles)


def kept_css_chars() -> int:
    """The characters of CSS text whose parsed form this process keeps now."""
    with _kept_css_lock:
        return int(_kept_css.currsize)


def html_to_pdf(html: str, css: str, workspace_id: int) -> RenderedPdf:
    """Render HTML (and optional CSS) to a PDF, noting the characters no font could draw.
    A lone surrogate (from a request's JSON, say) is drawn as U+FFFD: WeasyPrint cannot
    encode one and would fail the whole report."""
    html, css = clean_text(html), clean_text(css or "")
    fetcher = WorkspaceFetcher(workspace_id)
    config = font_config()
    stylesheets = [base_stylesheet()]
    parsed = reusable_css(css, workspace_id) if css else None  # its warnings are its own
    # The CSS field's @counter-style rules reach the document only through the same
    # CounterStyle passed to the render: a sheet parsed with its own was silently plain.
    counter_styles = CounterStyle(parsed.counter_styles if parsed else {})
    with _weasyprint_warnings() as render_warnings:
        if parsed is not None:
            stylesheets.append(parsed.sheet)
            render_warnings.extend(parsed.warnings)
        elif css:
            stylesheets.append(
                CSS(
                    string=css,
                    font_config=config,
                    counter_style=counter_styles,
                    url_fetcher=fetcher,
                )
            )
            # Said while reading the template's CSS field: its lines are that field's lines.
            render_warnings[:] = [f"CSS: {m}" for m in render_warnings]
        document = HTML(string=html, url_fetcher=fetcher)
        finder = NotdefFinder()
        data = document.write_pdf(
            stylesheets=stylesheets,
            font_config=config,
            counter_style=counter_styles,
            finisher=finder,
        )
    if fetcher.missing:  # a report without its logo or chart is wrong, not merely plain
        names = ", ".join(f"'{n}'" for n in fetcher.missing)
        raise TemplateRenderError(
            f"missing asset{'s' if len(fetcher.missing) > 1 else ''} {names}: upload "
            "it under Assets or correct the name in the template"
        )
    faces = font_faces(html)  # a face defined in the HTML serves the CSS field, and back
    ignored = ignored_css(css or "", faces=faces) + ignored_css_in_html(html, font_faces(css))
    return RenderedPdf(data, finder.undrawn_or_read(data), [*render_warnings, *ignored])
