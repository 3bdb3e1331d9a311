"""CPU cost of a statement's CSV and XLSX files against its PDF, in one process.

    .venv/bin/python bench/outputs.py [--customers 40]

For the demo's customers, renders the one-page statement PDF (WeasyPrint, one shared
FontConfiguration as the workers use) and makes the CSV and XLSX of its transactions
(app.rendering.tables), timing each with process CPU time, which a busy machine disturbs
less than wall time. Prints ms per entry and the extra files' share of the PDF's cost
(target of issue 17: CSV+XLSX add at most 10%). bench/burst.py --formats measures the same
end to end.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import bench.burst as burst  # noqa: E402
from app.demo.data import build_demo_database  # noqa: E402
from app.demo.seed import QUERIES  # noqa: E402
from app.rendering.tables import rows_to_csv, rows_to_xlsx  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=40)
    args = parser.parse_args()
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    burst.PERIOD = date.today().replace(day=1).isoformat()
    with tempfile.TemporaryDirectory(prefix="herald-bench-") as tmp:
        db_path = Path(tmp) / "northwind.db"
        build_demo_database(db_path, customers=args.customers)
        conn = sqlite3.connect(db_path)
        customers = burst._rows(conn, QUERIES["customers"][1], {})[: args.customers]
        contexts = [burst.naive_context(conn, c["id"]) for c in customers]
    template = burst.jinja_env().from_string(
        (ROOT / "app/demo/customer-statement.html").read_text()
    )
    css = weasyprint.CSS(string=(ROOT / "app/demo/customer-statement.css").read_text())
    fonts = FontConfiguration()
    pdf_s = csv_s = xlsx_s = 0.0
    rows = 0
    for number, context in enumerate(contexts):
        started = time.process_time()
        html = template.render(context)
        weasyprint.HTML(string=html).write_pdf(stylesheets=[css], font_config=fonts)
        middle = time.process_time()
        rows_to_csv(context["transactions"], delimiter=";", bom=True)
        after_csv = time.process_time()
        rows_to_xlsx([("transactions", context["transactions"])])
        done = time.process_time()
        if number:  # the first render warms fonts and caches
            pdf_s += middle - started
            csv_s += after_csv - middle
            xlsx_s += done - after_csv
            rows += len(context["transactions"])
    n = len(contexts) - 1
    print(f"entries: {n} (after one warm-up), transactions per entry: {rows / n:.1f}")
    print(f"pdf   {1000 * pdf_s / n:7.2f} ms CPU per entry")
    print(f"csv   {1000 * csv_s / n:7.2f} ms CPU per entry")
    print(f"xlsx  {1000 * xlsx_s / n:7.2f} ms CPU per entry")
    share = 100 * (csv_s + xlsx_s) / pdf_s
    print(f"csv+xlsx = {share:.1f}% of the PDF's cost (target <= 10%)")


if __name__ == "__main__":
    main()
