"""Glyph check benchmark: what finding undrawn (.notdef) characters costs per report.

    .venv/bin/python bench/glyph_check.py [--repeat 15]

Renders the demo statement as Herald does (shared FontConfiguration, the base font stack),
once for a Latin customer name and once for a name mixing the seven scripts of issue #11
plus one character no installed font has. Prints the median render time without the
check, with the in-render check (the `NotdefFinder` finisher Herald uses), and the cost of
reading the finished PDF with pypdf instead (`undrawn_characters`).
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import weasyprint  # noqa: E402

from app.demo.data import build_demo_database  # noqa: E402
from app.rendering.glyphs import NotdefFinder, undrawn_characters  # noqa: E402
from app.rendering.pdf import BASE_CSS  # noqa: E402

SCRIPTS = "张伟 山田太郎 김민준 राहुल शर्मा สมชาย ใจดี محمد علي שרה כהן \ue000"


def median_ms(action, repeat: int) -> float:
    action()  # warm: fonts loaded, caches filled
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def statement_html(db_path: Path, name: str | None) -> str:
    import burst

    burst.PERIOD = date.today().replace(day=1).isoformat()
    source = (ROOT / "app/demo/customer-statement.html").read_text()
    context = burst.naive_context(sqlite3.connect(db_path), 1)
    if name:
        context["customer"][0]["name"] = name
    return burst.jinja_env().from_string(source).render(context)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    from weasyprint.text.fonts import FontConfiguration

    config = FontConfiguration()
    css = (ROOT / "app/demo/customer-statement.css").read_text()
    sheets = [
        weasyprint.CSS(string=BASE_CSS, font_config=config),
        weasyprint.CSS(string=css, font_config=config),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "demo.db"
        build_demo_database(db_path, customers=3)
        print(f"{'statement':<14}{'render':>10}{'+finisher':>12}{'pypdf read':>12}  undrawn")
        for label, name in (("latin name", None), ("7 scripts", SCRIPTS)):
            html = statement_html(db_path, name)

            def render(finisher=None, html=html) -> bytes:
                document = weasyprint.HTML(string=html)
                return document.write_pdf(stylesheets=sheets, font_config=config, finisher=finisher)

            finder = NotdefFinder()
            pdf = render(finder)
            plain = median_ms(render, args.repeat)
            checked = median_ms(lambda: render(NotdefFinder()), args.repeat)
            read = median_ms(lambda pdf=pdf: undrawn_characters(pdf), args.repeat)
            in_memory = _pydyf_document(render)
            finisher_only = median_ms(lambda f=finder, d=in_memory: f(None, d), args.repeat)
            print(
                f"{label:<14}{plain:>8.1f}ms{checked:>10.1f}ms{read:>10.2f}ms  "
                f"{[f'U+{ord(c):04X}' for c in finder.characters]}"
            )
            print(f"{'':<14}finisher alone on the in-memory PDF: {finisher_only:.3f} ms")


def _pydyf_document(render) -> object:
    """The pydyf document of one render, to time the finisher without the render around it."""
    captured = []
    render(lambda document, pdf: captured.append(pdf))
    return captured[0]


if __name__ == "__main__":
    main()
