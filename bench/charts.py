"""Chart benchmark: pygal vs matplotlib's SVG backend, as inline SVG in a WeasyPrint page.

    .venv/bin/python bench/charts.py [--repeat 15] [--points 12]

For each library and chart kind (bar, line, pie) of `--points` monthly values with a title
and axis labels, prints the median time to make the SVG, the median time WeasyPrint takes
for a one-page report holding it, and that page's extra cost over the same page without a
chart (all warm, one shared FontConfiguration, as Herald renders). Times are the process's
CPU time (`time.process_time`), so that other work on a shared machine does not inflate them;
on an idle machine a render's CPU time is its wall time (WeasyPrint uses one thread).
Herald's own helper (`app.rendering.charts.chart`, pygal) is measured too, as template
authors call it, and last the demo statement with its six-month chart and without it.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import sqlite3  # noqa: E402
import tempfile  # noqa: E402
from datetime import date  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("svg")
import pygal  # noqa: E402
import weasyprint  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from weasyprint.text.fonts import FontConfiguration  # noqa: E402

from app.demo.data import build_demo_database  # noqa: E402
from app.rendering.charts import chart  # noqa: E402
from app.rendering.environment import render_html  # noqa: E402
from app.rendering.pdf import BASE_CSS  # noqa: E402

matplotlib.rcParams["svg.fonttype"] = "none"  # text as <text>, like pygal (not glyph paths)
matplotlib.rcParams["text.parse_math"] = False  # a "$" in a label is a character
KINDS = ("bar", "line", "pie")
PAGE = """<html><body><h1>Statement</h1><p>{text}</p>{chart}
<table>{rows}</table></body></html>"""


def series(points: int) -> tuple[list[str], list[float]]:
    """`points` month labels and amounts (deterministic)."""
    labels = [f"{2025 + i // 12}-{i % 12 + 1:02d}" for i in range(points)]
    return labels, [round(800 + (i * 379) % 900 + 0.25 * i, 2) for i in range(points)]


def pygal_svg(kind: str, labels: list[str], values: list[float]) -> str:
    """The chart drawn by pygal, configured as Herald's helper does (no JS, no XML prolog)."""
    config = pygal.Config(
        js=[], disable_xml_declaration=True, width=600, height=300, show_legend=kind == "pie"
    )
    config.title, config.x_title, config.y_title = "Charges by month", "Month", "USD"
    graph = {"bar": pygal.Bar, "line": pygal.Line, "pie": pygal.Pie}[kind](config)
    if kind == "pie":
        for label, value in zip(labels, values, strict=True):
            graph.add(label, value)
    else:
        graph.x_labels = labels
        graph.add("Charges", values)
    return graph.render(is_unicode=True)


def matplotlib_svg(kind: str, labels: list[str], values: list[float]) -> str:
    """The same chart drawn by matplotlib's SVG backend (text kept as text)."""
    figure = Figure(figsize=(6.25, 3.125))
    axes = figure.add_subplot()
    if kind == "bar":
        axes.bar(labels, values)
    elif kind == "line":
        axes.plot(labels, values, marker="o")
    else:
        axes.pie(values, labels=labels)
    axes.set_title("Charges by month")
    if kind != "pie":
        axes.set_xlabel("Month")
        axes.set_ylabel("USD")
        axes.tick_params(axis="x", labelrotation=45)
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # inline: without the XML prolog and DOCTYPE


def herald_svg(kind: str, labels: list[str], values: list[float]) -> str:
    """Herald's template helper, from rows as a template passes them."""
    rows = [{"month": m, "amount": v} for m, v in zip(labels, values, strict=True)]
    return str(
        chart(
            kind,
            rows,
            x="month",
            y="amount",
            title="Charges by month",
            x_label="Month",
            y_label="USD",
        )
    )


def median_ms(action: Callable[[], object], repeat: int) -> float:
    """The median CPU time of `action` over `repeat` warm calls, in milliseconds."""
    action()
    times = []
    for _ in range(repeat):
        started = time.process_time()
        action()
        times.append((time.process_time() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    """Print one line per library and kind: SVG ms, PDF ms, PDF ms over a chartless page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="rounds (and SVG repeats)")
    parser.add_argument("--points", type=int, default=12)
    parser.add_argument("--statement-only", action="store_true", help="only the demo statement")
    args = parser.parse_args()
    fonts = FontConfiguration()
    if args.statement_only:
        statement(fonts, args.repeat)
        return
    base = [weasyprint.CSS(string=BASE_CSS, font_config=fonts)]
    labels, values = series(args.points)
    rows = "".join(
        f"<tr><td>{m}</td><td>{v:,.2f}</td></tr>" for m, v in zip(labels, values, strict=True)
    )

    def pdf(svg: str) -> bytes:
        html = PAGE.format(text="Your account this year.", chart=svg, rows=rows)
        return weasyprint.HTML(string=html).write_pdf(stylesheets=base, font_config=fonts)

    svgs = {("none", ""): ""}
    made = {}
    for name, draw in (
        ("pygal", pygal_svg),
        ("matplotlib", matplotlib_svg),
        ("herald", herald_svg),
    ):
        for kind in KINDS:
            svgs[name, kind] = draw(kind, labels, values)
            made[name, kind] = median_ms(lambda d=draw, k=kind: d(k, labels, values), args.repeat)
    # Interleaved (every page once per round): the machine is shared, so load hits all alike.
    times: dict[tuple[str, str], list[float]] = {key: [] for key in svgs}
    for svg in svgs.values():
        pdf(svg)  # warm
    for _ in range(args.repeat):
        for key, svg in svgs.items():
            started = time.process_time()
            pdf(svg)
            times[key].append((time.process_time() - started) * 1000)
    plain = statistics.median(times["none", ""])
    print(f"page without a chart: {plain:.1f} ms per PDF ({args.repeat} rounds, medians)")
    print(f"{'library':<11} {'kind':<5} {'SVG ms':>7} {'SVG KB':>7} {'PDF ms':>7} {'+chart':>7}")
    for (name, kind), svg in svgs.items():
        if name == "none":
            continue
        page = statistics.median(times[name, kind])
        print(
            f"{name:<11} {kind:<5} {made[name, kind]:7.1f} {len(svg) / 1024:7.1f} "
            f"{page:7.1f} {page - plain:7.1f}"
        )
    statement(fonts, args.repeat)


def statement(fonts: FontConfiguration, repeat: int) -> None:
    """The demo statement of customer 1, with its chart and with `monthly` empty (no chart)."""
    import burst

    burst.PERIOD = date.today().replace(day=1).isoformat()
    source = (ROOT / "app/demo/customer-statement.html").read_text()
    css = (ROOT / "app/demo/customer-statement.css").read_text()
    sheets = [
        weasyprint.CSS(string=BASE_CSS, font_config=fonts),
        weasyprint.CSS(string=css, font_config=fonts),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "demo.db"
        build_demo_database(db_path, customers=3)
        context = burst.naive_context(sqlite3.connect(db_path), 1)
    pages = {
        "with chart": render_html(source, context),
        "without": render_html(source, {**context, "monthly": []}),
    }
    times: dict[str, list[float]] = {name: [] for name in pages}
    for html in pages.values():
        weasyprint.HTML(string=html).write_pdf(stylesheets=sheets, font_config=fonts)
    for _ in range(repeat):
        for name, html in pages.items():
            started = time.process_time()
            weasyprint.HTML(string=html).write_pdf(stylesheets=sheets, font_config=fonts)
            times[name].append((time.process_time() - started) * 1000)
    for name, measured in times.items():
        print(
            f"demo statement {name}: {statistics.median(measured):.1f} ms per PDF "
            f"(median; fastest {min(measured):.1f} ms)"
        )
    with_chart, without = (statistics.median(times[name]) for name in pages)
    print(f"the chart adds {with_chart - without:+.1f} ms ({with_chart / without - 1:+.0%})")


if __name__ == "__main__":
    main()
