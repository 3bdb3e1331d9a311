"""`chart(...)`: bar, line and pie charts drawn on the server as inline SVG (pygal).

Template authors call it from a report template; docs/CHARTS.md is their reference and says
why pygal (bench/charts.py: it costs WeasyPrint less per PDF than matplotlib's SVG backend).
Row values are data: labels become SVG text nodes (escaped by the XML serializer), numbers are
checked to be numbers, and a number format is a format *spec* checked against a pattern, never
a `str.format` template that could reach attributes. The SVG loads nothing: no script, no XML
prolog, no external stylesheet or font; its stylesheet is Herald's own (`_CSS`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import pygal
from markupsafe import Markup
from pygal.style import Style

KINDS = ("bar", "line", "pie")
# Beyond these a chart is unreadable on a page and slows every PDF of a burst: aggregate first.
MAX_POINTS = 500  # x values of a bar or line chart
MAX_SLICES = 50  # slices of a pie
MAX_SERIES = 8  # y columns of a bar or line chart
MAX_AFFIX = 20  # characters around the number in a number format
MIN_SIZE, MAX_SIZE = 100, 2000  # width and height of the drawing, in SVG user units (px)

NAMED_FORMATS = {
    "integer": ",.0f",  # 1,235
    "decimal": ",.2f",  # 1,234.50
    "percent": ".0%",  # 0.25 → 25%
    "percent1": ".1%",  # 0.256 → 25.6%
    "compact": ",.3g",  # 1,230 / 1.23e+06
}
# The number part of Python's format-spec mini-language, without fill, width or alignment.
_SPEC = re.compile(r"[+\- ]?#?,?(?:\.\d{1,2})?[eEfFgG%]?")
_PATTERN = re.compile(r"([^{}]*)\{:([^{}]*)\}([^{}]*)")

_FONT = '"Noto Sans", "DejaVu Sans", sans-serif'
_COLORS = ("#2f6db3", "#e07b39", "#1d6b3a", "#a61b1b", "#6f4e9c", "#8c6d1f", "#3a8f9c", "#777777")
_STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#1d2633",
    foreground_strong="#17365d",
    foreground_subtle="#9aa5b4",
    colors=_COLORS,
    font_family=_FONT,
)
# The chart's stylesheet, in place of pygal's: pygal's is written for a browser (hover
# effects, transitions, tooltips, vendor prefixes), which the render checks would report on
# every entry as CSS doing nothing in print, and which costs WeasyPrint time to match.
# WeasyPrint applies an inline SVG's <style> to the whole page: every selector starts at the
# chart's own id.
_CSS = """
#{id} {{ font-family: {font}; }}
#{id} .graph {{ fill: #1d2633; }}
#{id} .background {{ fill: transparent; }}
#{id} text, #{id} tspan {{ stroke: none !important; }}
#{id} .title {{ font-size: 15px; fill: #17365d; text-anchor: middle; }}
#{id} .legends .legend text {{ font-size: 12px; fill: #1d2633; }}
#{id} .axis text {{ font-size: 11px; fill: #1d2633; }}
#{id} .axis.x text {{ text-anchor: middle; }}
#{id} .axis.x text[transform] {{ text-anchor: start; }}
#{id} .axis.y text {{ text-anchor: end; }}
#{id} .axis .line {{ stroke: #17365d; }}
#{id} .axis .guide.line {{ stroke: #c9d1db; stroke-dasharray: 4, 4; fill: none; }}
#{id} .axis .major.guide.line {{ stroke: #9aa5b4; }}
#{id} .vertical .axis.x .guide.line {{ opacity: 0; }}
#{id} .vertical .axis.always_show .guide.line {{ opacity: 1; }}
#{id} .centered {{ text-anchor: middle; }}
#{id} .reactive {{ fill-opacity: 0.85; stroke-opacity: 1; stroke-width: 1; }}
#{id} .nofill {{ fill: none; }}
#{id} .line.reactive {{ stroke-width: 2; }}
#{id} .dot {{ fill-opacity: 1; }}
#{id} .slice {{ stroke: #ffffff; stroke-width: 1; fill-opacity: 1; }}
#{id} text.no_data {{ font-size: 40px; fill: #9aa5b4; text-anchor: middle; }}
"""
# An arc of radius 0 (pygal closes each pie slice with one) is a straight line in SVG, but
# WeasyPrint draws it as a sweep across the chart: written as the line it is.
_ZERO_ARC = re.compile(r"A0(?:\.0*)? 0(?:\.0*)? \S+ \S+ \S+ (\S+ \S+)")
# Comments (tag ""), the tooltip script and the values it shows on hover.
_NOT_PRINTED = {"", "script", "desc"}
# Groups pygal wraps around one bar, dot or slice; no rule of `_CSS` names them.
_WRAPPERS = {"bar", "dots", "slice", "slices"}
_SERIES_CSS = "#{id} .color-{i} {{ stroke: {color}; fill: {color}; }}\n"


def _printable(root: Any) -> Any:
    """pygal's SVG tree made for print (its `xml_filters` hook): see `_prune`; the stylesheet
    replaced by `_CSS` and the series colours."""
    _prune(root, top=True)
    chart_id = root.get("id")
    for style in root.iter("style"):
        series = (
            _SERIES_CSS.format(id=chart_id, i=i, color=color) for i, color in enumerate(_COLORS)
        )
        style.text = _CSS.format(id=chart_id, font=_FONT) + "".join(series)
    return root


def _prune(parent: Any, top: bool = False) -> None:
    """Remove what a printed chart does not show (comments, the tooltip script, hover tooltips,
    their values and titles), empty groups, and the group around each bar, dot or slice; write
    zero-radius arcs as lines. WeasyPrint styles every element of an inline SVG as it does
    HTML: each element left out is time saved on every PDF."""
    for child in list(parent):
        tag = child.tag if isinstance(child.tag, str) else ""  # a comment's tag is callable
        classes = child.get("class") or ""
        if tag in _NOT_PRINTED or (tag == "title" and not top) or "tooltip-overlay" in classes:
            parent.remove(child)
            continue
        if tag == "path" and child.get("d"):
            child.set("d", _ZERO_ARC.sub(r"L\1", child.get("d")))
        _prune(child)
        if tag == "g" and len(child) == 0:
            parent.remove(child)
        elif tag == "g" and classes in _WRAPPERS and len(child) == 1 and len(child.attrib) == 1:
            parent.insert(list(parent).index(child), child[0])
            parent.remove(child)


_GRAPHS: dict[str, Callable[..., Any]] = {"bar": pygal.Bar, "line": pygal.Line, "pie": pygal.Pie}


class ChartError(ValueError):
    """A `chart(...)` call that cannot be drawn; the message says which argument and why."""


def chart(
    kind: str,
    rows: Iterable[Mapping[str, Any]],
    x: str,
    y: str | Sequence[str],
    *,
    title: str = "",
    x_label: str = "",
    y_label: str = "",
    number_format: str | None = None,
    width: int = 600,
    height: int = 300,
) -> Markup:
    """An inline `<svg>` chart of `rows` (a data section: a list of mappings).

    `kind` is "bar", "line" or "pie". `x` names the column of the labels (the x axis, or the
    slices of a pie); `y` the column of the numbers, or a list of up to MAX_SERIES columns
    drawn as series (bar and line). Empty (None) numbers leave a gap; numeric strings (CSV
    sources) count as numbers. `number_format` is a name of NAMED_FORMATS or a pattern such
    as "{:,.2f}" or "$ {:,.0f} k"; it formats the axis and values. `width` and `height` (px)
    set the drawing's proportions; the SVG scales to the width of its box.

    Raises ChartError for an unknown kind, a missing column, a non-numeric value (or a
    negative one in a pie), more than
    MAX_POINTS rows (MAX_SLICES for a pie) or a bad format; the template error names the line.
    """
    if kind not in KINDS:
        raise ChartError(f"chart: unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    table = _rows(rows)
    columns = _columns(kind, x, y)
    cap = MAX_SLICES if kind == "pie" else MAX_POINTS
    if len(table) > cap:
        raise ChartError(
            f"chart: {len(table)} rows are more than the {cap} a {kind} chart draws; "
            "aggregate them in the data source (for example GROUP BY month)"
        )
    for column in (x, *columns):
        if table and column not in table[0]:
            known = ", ".join(map(str, table[0])) or "none"
            raise ChartError(f"chart: the rows have no column {column!r} (columns: {known})")
    config = _config(kind, len(columns), len(table), _size("width", width), _size("height", height))
    formatter = _formatter(number_format)
    if formatter is not None:
        config.value_formatter = formatter
    config.title, config.x_title, config.y_title = _text(title), _text(x_label), _text(y_label)
    graph = _GRAPHS[kind](config).add_xml_filter(_printable)
    labels = [_label(row.get(x)) for row in table]
    if kind == "pie":
        for i, (label, row) in enumerate(zip(labels, table, strict=True), start=1):
            value = _number(row.get(columns[0]), columns[0], i)
            if value is not None and value < 0:
                raise ChartError(
                    f"chart: column {columns[0]!r} of row {i} is {value:g}; "
                    "a pie's slices cannot be negative"
                )
            graph.add(label, value)
    else:
        graph.x_labels = labels
        for column in columns:
            graph.add(
                column, [_number(row.get(column), column, i) for i, row in enumerate(table, 1)]
            )
    return Markup(graph.render(is_unicode=True))


def _config(kind: str, series: int, points: int, width: int, height: int) -> pygal.Config:
    """pygal's settings for a printed chart of `series` columns and `points` rows."""
    return pygal.Config(
        js=[],  # pygal's default is a tooltip script from a CDN
        css=[],  # pygal's own stylesheets: replaced by _printable's
        disable_xml_declaration=True,
        classes=["herald-chart", f"herald-chart-{kind}"],
        style=_STYLE,
        width=width,
        height=height,
        show_legend=kind == "pie" or series > 1,
        legend_at_bottom=True,
        legend_at_bottom_columns=series if kind != "pie" else None,
        truncate_label=-1,  # a label is data: shown whole, never cut to "2026-…"
        truncate_legend=-1,
        max_scale=6,  # at most ~6 y labels: a report's chart is small
        margin=6,
        x_label_rotation=30 if points > 8 else 0,
        no_data_text="No data",
    )


def _rows(rows: Any) -> list[Mapping[str, Any]]:
    if isinstance(rows, (str, bytes, Mapping)) or not isinstance(rows, Iterable):
        raise ChartError(
            f"chart: rows must be a data section (a list of rows), not a {type(rows).__name__}"
        )
    table = list(rows)
    for i, row in enumerate(table, start=1):
        if not isinstance(row, Mapping):
            raise ChartError(f"chart: row {i} is a {type(row).__name__}, not a row of columns")
    return table


def _columns(kind: str, x: Any, y: Any) -> list[str]:
    columns = [y] if isinstance(y, str) else list(y) if isinstance(y, (list, tuple)) else []
    if not isinstance(x, str) or not x:
        raise ChartError('chart: x must name the column of the labels, e.g. x="month"')
    if not columns or not all(isinstance(c, str) and c for c in columns):
        raise ChartError("chart: y must name a column of numbers, or a list of such columns")
    if kind == "pie" and len(columns) > 1:
        raise ChartError("chart: a pie draws one column of numbers; give y one column")
    if len(columns) > MAX_SERIES:
        raise ChartError(f"chart: {len(columns)} y columns are more than {MAX_SERIES}")
    return columns


def _number(value: Any, column: str, row: int) -> float | None:
    """A row's value as a float; None stays None (a gap)."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = math.nan
    else:
        number = math.nan
    if not math.isfinite(number):
        shown = str(value) if len(str(value)) <= 40 else str(value)[:40] + "…"
        raise ChartError(f"chart: column {column!r} of row {row} is {shown!r}, not a number")
    return number


def _formatter(number_format: str | None) -> Callable[[float | None], str] | None:
    """A value formatter for `number_format`, checked before any value is formatted."""
    if number_format is None or number_format == "":
        return None
    if not isinstance(number_format, str):
        raise ChartError('chart: number_format must be text, e.g. "decimal" or "{:,.2f}"')
    if number_format in NAMED_FORMATS:
        prefix, spec, suffix = "", NAMED_FORMATS[number_format], ""
    else:
        match = _PATTERN.fullmatch(number_format)
        if (
            not match
            or not _SPEC.fullmatch(match[2])
            or max(len(match[1]), len(match[3])) > MAX_AFFIX
        ):
            names = ", ".join(NAMED_FORMATS)
            raise ChartError(
                f"chart: number_format {number_format[:40]!r} is neither a named format "
                f'({names}) nor a pattern such as "{{:,.2f}}" or "$ {{:,.0f}}"'
            )
        prefix, spec, suffix = match[1], match[2], match[3]

    def format_value(value: float | None) -> str:
        return "" if value is None else f"{prefix}{format(value, spec)}{suffix}"

    return format_value


def _size(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_SIZE <= value <= MAX_SIZE:
        raise ChartError(f"chart: {name} must be a whole number from {MIN_SIZE} to {MAX_SIZE}")
    return value


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _label(value: Any) -> str:
    return "" if value is None else str(value.isoformat() if hasattr(value, "isoformat") else value)
