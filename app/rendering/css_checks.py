"""CSS a report's author writes that WeasyPrint drops without a warning of its own.

WeasyPrint logs unknown properties, invalid values and unknown at-rules as warnings (those
reach the render's warnings through the `weasyprint` logger), but it passes over these
silently or at debug level only, so a designer never learns that their CSS did nothing:
- properties that do not apply to print (`transition`, `cursor`, `animation`, …: WeasyPrint's
  own NOT_PRINT_MEDIA set) and vendor-prefixed properties (`-webkit-box-shadow`);
- `@media` blocks (and `<style media=…>` elements) for media types other than print;
- selectors with a pseudo-class that never matches a static document (`:hover`, `:focus`, …:
  the list cssselect2 compiles to "never");
- `font-family` names no installed font and no @font-face of the template has (Pango falls
  back to another font in silence).
Each warning names the property, rule or selector and its line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

import tinycss2
from tinycss2.ast import Node
from weasyprint.css.validation import NOT_PRINT_MEDIA
from weasyprint.css.validation.properties import PREFIX

from app.rendering.font_families import font_faces, missing_families

# Pseudo-classes cssselect2 (WeasyPrint's selector engine) compiles to "never matches".
NEVER_MATCHING = {
    "visited", "hover", "active", "focus", "focus-within", "focus-visible", "target",
    "target-within", "current", "past", "future", "playing", "paused", "seeking",
    "buffering", "stalled", "muted", "volume-locked", "user-valid", "user-invalid",
}  # fmt: skip
# Media types under which a rule still applies when WeasyPrint renders (it renders for print).
PRINTED_MEDIA = {"print", "all"}

_STYLE_ELEMENT = re.compile(r"<style\b([^>]*)>(.*?)</style\s*>", re.I | re.S)
_MEDIA_ATTRIBUTE = re.compile(r"""\bmedia\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)


def ignored_css(
    css: str, where: str = "CSS", first_line: int = 1, faces: frozenset[str] | None = None
) -> list[str]:
    """Warnings for the parts of stylesheet `css` that cannot take effect in a PDF, each as
    "<where> line <n>: …" with `n` counted from `first_line` (the line the stylesheet starts
    on in its file). `faces`: @font-face families defined elsewhere in the report (its own are
    read here). Syntax errors are left to WeasyPrint, which reports them itself."""
    return list(_ignored_css(css, where, first_line, faces or frozenset()))


@lru_cache(maxsize=256)
def _ignored_css(css: str, where: str, first_line: int, faces: frozenset[str]) -> tuple[str, ...]:
    # A burst renders one template's stylesheets once per entry: check each text once.
    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    faces = faces | font_faces(css)
    return tuple(f"{where} line {n + first_line - 1}: {text}" for n, text in _rules(rules, faces))


def ignored_css_in_html(html: str, faces: frozenset[str] | None = None) -> list[str]:
    """`ignored_css` for each `<style>` element of a rendered HTML page, with the line of the
    page it is on; a `<style media="screen">` is reported as a whole."""
    faces = (faces or frozenset()) | font_faces(html)
    warnings: list[str] = []
    for match in _STYLE_ELEMENT.finditer(html):
        line = html.count("\n", 0, match.start(2)) + 1
        media = _MEDIA_ATTRIBUTE.search(match[1])
        value = media and next(v for v in media.groups() if v is not None)
        if value is not None and _media_types(value) and not _printed(_media_types(value)):
            warnings.append(f'HTML line {line}: <style media="{value}"> never applies in print')
            continue
        warnings.extend(ignored_css(match[2], "HTML <style>", line, faces))
    return warnings


def _rules(rules: Iterable[Node], faces: frozenset[str]) -> Iterator[tuple[int, str]]:
    for rule in rules:
        if rule.type == "qualified-rule":
            yield from _selectors(rule)
            yield from _declarations(tinycss2.parse_blocks_contents(rule.content), faces)
        elif rule.type == "at-rule" and rule.lower_at_keyword == "media":
            query = tinycss2.serialize(rule.prelude).strip()
            types = _media_types(query)
            if types and not _printed(types):
                advice = "use `@media print`, or no @media"
                yield rule.source_line, f"`@media {query}` never applies in print ({advice})"
            elif types and rule.content is not None:
                yield from _rules(tinycss2.parse_rule_list(rule.content, True, True), faces)
            # A query WeasyPrint cannot read (`(max-width: 600px)`) it reports itself.
        elif rule.type == "at-rule" and rule.content is not None:
            if rule.lower_at_keyword == "page":
                yield from _declarations(tinycss2.parse_blocks_contents(rule.content), faces)
            elif rule.lower_at_keyword == "layer":
                yield from _rules(tinycss2.parse_rule_list(rule.content, True, True), faces)


def _declarations(contents: Iterable[Node], faces: frozenset[str]) -> Iterator[tuple[int, str]]:
    for item in contents:
        if item.type == "qualified-rule":  # nested rule (CSS nesting)
            yield from _selectors(item)
            yield from _declarations(tinycss2.parse_blocks_contents(item.content), faces)
            continue
        if item.type == "at-rule" and item.content is not None:  # margin boxes of @page
            yield from _declarations(tinycss2.parse_blocks_contents(item.content), faces)
            continue
        if item.type != "declaration" or item.name.startswith("--"):
            continue
        name = item.lower_name
        shown = f"`{item.name}: {tinycss2.serialize(item.value).strip()}`"
        if name == "font-family":
            if missing := missing_families(item.value, faces):
                listed = ", ".join(f"'{family}'" for family in missing)
                what = (
                    f"font {listed} is not installed"
                    if len(missing) == 1
                    else f"none of the fonts {listed} is installed"
                )
                yield (
                    item.source_line,
                    f"{what}: its text is set in another font "
                    "(install it, or add it with @font-face and an uploaded asset)",
                )
        elif name in NOT_PRINT_MEDIA:
            yield item.source_line, f"{shown} is ignored: the property does not apply in print"
        elif name.startswith("-") and not name.startswith(PREFIX):
            unprefixed = name.split("-", 2)[-1]
            reason = f"WeasyPrint ignores vendor-prefixed properties (write `{unprefixed}`)"
            yield item.source_line, f"{shown} is ignored: {reason}"


def _selectors(rule: Node) -> Iterator[tuple[int, str]]:
    """Selectors of a rule that can never match in a printed document, one warning each."""
    groups: list[list[Node]] = [[]]
    for token in rule.prelude:
        if token.type == "literal" and token.value == ",":
            groups.append([])
        else:
            groups[-1].append(token)
    for group in groups:
        for before, token in zip([None, *group], group, strict=False):
            colon = before is not None and before.type == "literal" and before.value == ":"
            name = getattr(token, "lower_value", None) if token.type == "ident" else None
            if colon and name in NEVER_MATCHING:
                selector = tinycss2.serialize(group).strip()
                yield rule.source_line, f"`{selector}` never matches in print (:{name})"
                break


def _media_types(query: str) -> list[str]:
    """The media types of a plain type list (`screen, print`), or [] for anything else."""
    parts = [part.strip().lower() for part in query.split(",")]
    if parts and parts[0].startswith("only "):
        parts[0] = parts[0].removeprefix("only ").strip()
    if not all(re.fullmatch(r"[a-z][a-z-]*", part) for part in parts):
        return []
    return parts


def _printed(types: list[str]) -> bool:
    return bool(PRINTED_MEDIA & set(types))
