"""chart(...) in report templates: vector SVG in the PDF, clear errors, rows kept as data."""

from __future__ import annotations

import collections
import re
import socket

import pypdfium2
import pypdfium2.raw as pdfium
import pytest

from app.rendering.charts import MAX_POINTS, MAX_SLICES, chart
from app.rendering.environment import TemplateRenderError, render_html
from app.rendering.service import preview_template
from tests import factories as make
from tests.helpers import pdf_text

SALES = [
    {"month": "Jan", "amount": 1200.5, "cost": 700},
    {"month": "Feb", "amount": 980, "cost": 650},
    {"month": "Mar", "amount": "1530.25", "cost": None},  # a CSV source's text; a gap
]


@pytest.fixture
def ws(app):
    workspace = make.workspace("acme")
    make.json_source(workspace, "sales", SALES)
    return workspace


def preview(ws, html: str):
    return preview_template(
        ws,
        None,
        html=html,
        css="",
        parameters=[],
        data_sources=[{"alias": "sales", "source": "sales"}],
        sample={},
    )


def page_objects(data: bytes) -> collections.Counter:
    """How many text, path, image and form objects page 1 draws (inside forms too)."""
    page = pypdfium2.PdfDocument(data)[0]
    return collections.Counter(obj.type for obj in page.get_objects(max_depth=15))


@pytest.mark.parametrize("kind", ["bar", "line", "pie"])
def test_a_chart_is_drawn_in_the_pdf_as_vector_paths_with_its_texts(ws, kind):
    call = (
        f"chart({kind!r}, sales, x='month', y='amount', title='Sales by month', "
        "x_label='Month', y_label='Amount', number_format='decimal')"
    )
    html = "<h1>Sales</h1>\n{{ " + call + " }}"
    with_chart = preview(ws, html)
    without = preview(ws, "<h1>Sales</h1>")
    drawn, plain = page_objects(with_chart.data), page_objects(without.data)
    assert drawn[pdfium.FPDF_PAGEOBJ_IMAGE] == 0  # not a picture of a chart
    assert drawn[pdfium.FPDF_PAGEOBJ_PATH] >= plain[pdfium.FPDF_PAGEOBJ_PATH] + len(SALES)
    text = pdf_text(with_chart.data)
    assert "Sales by month" in text
    assert "Jan" in text and "Mar" in text
    if kind != "pie":
        assert "Month" in text and "Amount" in text
        assert "1,200.00" in text  # the y axis in the named format
    assert with_chart.warnings == []


def test_several_columns_are_series_with_a_legend():
    svg = str(chart("bar", SALES, x="month", y=["amount", "cost"], number_format="$ {:,.0f}"))
    assert svg.startswith("<svg") and 'class="herald-chart herald-chart-bar"' in svg
    assert ">amount<" in svg and ">cost<" in svg  # the legend names the columns
    assert re.search(r">\$ \d{1,3},\d{3}<", svg)  # the y axis in the pattern


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("chart('donut', sales, x='month', y='amount')", "unknown kind 'donut'; use one of bar"),
        ("chart('bar', sales, x='month', y='total')", "no column 'total' (columns: month, amount"),
        ("chart('bar', sales, x='when', y='amount')", "no column 'when'"),
        ("chart('line', bad, x='month', y='amount')", "'amount' of row 2 is 'n/a', not a number"),
        ("chart('bar', sales, x='month', y='amount', number_format='{0.__class__}')", "neither"),
        ("chart('bar', sales, x='month', y='amount', number_format='{:>99999}')", "neither"),
        ("chart('pie', sales, x='month', y=['amount', 'cost'])", "a pie draws one column"),
        ("chart('pie', bad, x='month', y='cost')", "'cost' of row 1 is -5; a pie's slices cannot"),
        ("chart('bar', 'sales', x='month', y='amount')", "rows must be a data section"),
        ("chart('bar', sales, x='month', y='amount', width=99999)", "width must be"),
        ("chart('bar', many, x='month', y='amount')", f"more than the {MAX_POINTS} a bar"),
        ("chart('pie', slices, x='month', y='amount')", f"more than the {MAX_SLICES} a pie"),
    ],
)
def test_a_bad_chart_call_is_a_template_error_naming_its_line(call, message):
    context = {
        "sales": SALES,
        "bad": [{"month": "Jan", "amount": 1, "cost": -5}, {"month": "Feb", "amount": "n/a"}],
        "many": [{"month": str(i), "amount": i} for i in range(MAX_POINTS + 1)],
        "slices": [{"month": str(i), "amount": i} for i in range(MAX_SLICES + 1)],
    }
    with pytest.raises(TemplateRenderError) as failed:
        render_html("<h1>Report</h1>\n<p>intro</p>\n{{ " + call + " }}", context)
    assert str(failed.value).startswith("template error (line 3): chart: ")
    assert message in str(failed.value)


def test_a_chart_error_in_the_preview_is_reported_not_raised_as_a_crash(ws):
    with pytest.raises(TemplateRenderError, match=r"line 2\): chart: the rows have no column"):
        preview(ws, "<h1>Sales</h1>\n{{ chart('bar', sales, x='month', y='price') }}")


def test_row_values_stay_text_in_the_svg_and_the_pdf(ws):
    rows = [{"month": "<script>alert(1)</script>", "amount": 5}, {"month": "A & B", "amount": 7}]
    svg = str(chart("bar", rows, x="month", y="amount", title="<b>T</b> & {{ 7*7 }}"))
    assert "<script" not in svg and "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert "&lt;b&gt;T&lt;/b&gt; &amp; {{ 7*7 }}" in svg
    make.json_source(ws, "odd", rows)
    rendered = preview_template(
        ws,
        None,
        html="{{ chart('bar', odd, x='month', y='amount', title='{{ 7*7 }}') }}",
        css="",
        parameters=[],
        data_sources=[{"alias": "odd", "source": "odd"}],
        sample={},
    )
    text = pdf_text(rendered.data)
    assert "<script>alert(1)</script>" in text and "A & B" in text and "{{ 7*7 }}" in text


def test_a_chart_loads_nothing_from_files_or_the_network(ws, tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/x.css"
    secret = tmp_path / "secret.svg"
    secret.write_text('<svg xmlns="http://www.w3.org/2000/svg"><text>LEAKED</text></svg>')
    lures = [
        f'<image href="file://{secret}"/>',
        f"url({url})",
        f'<?xml-stylesheet href="{url}"?>',
    ]
    rows = [{"month": lure, "amount": i + 1} for i, lure in enumerate(lures)]
    make.json_source(ws, "lures", rows)
    try:
        svg = str(chart("line", rows, x="month", y="amount", title=f"@import '{url}';"))
        rendered = preview_template(
            ws,
            None,
            html=f"{{{{ chart('line', lures, x='month', y='amount', title={url!r}) }}}}",
            css="",
            parameters=[],
            data_sources=[{"alias": "lures", "source": "lures"}],
            sample={},
        )
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected
    finally:
        listener.close()
    assert "<script" not in svg and "xml-stylesheet" not in svg.replace("&lt;?xml-", "")
    assert "<?xml" not in svg and "<image" not in svg
    assert "googleapis" not in svg and "kozea.github.io" not in svg
    text = pdf_text(rendered.data)
    assert "LEAKED" not in text and url in text
    assert page_objects(rendered.data)[pdfium.FPDF_PAGEOBJ_IMAGE] == 0
    assert rendered.warnings == []


def test_a_chart_of_no_rows_says_so():
    assert "No data" in str(chart("bar", [], x="month", y="amount"))
