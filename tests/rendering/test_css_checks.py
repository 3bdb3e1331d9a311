"""CSS that cannot take effect in a PDF is reported, naming the property, rule or selector and
its line, whether WeasyPrint warns of it itself or passes over it in silence."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from app.rendering.css_checks import ignored_css, ignored_css_in_html
from app.rendering.font_families import font_faces
from app.rendering.pdf import MAX_RENDER_WARNINGS, html_to_pdf
from tests import factories as make

DESIGNER_CSS = """\
.card { box-shadow: 0 0 4px grey; -webkit-box-shadow: 0 0 4px grey; }
a { transition: color 1s; cursor: pointer; }
@media screen { .card { color: red; } }
@media print { a:hover { color: red; } }
@keyframes spin { from { color: red; } }
p { colour: red; }
"""


def test_css_that_does_nothing_in_print_is_reported_with_its_line(app):
    ws = make.workspace()
    pdf = html_to_pdf('<p class="card">x</p>', DESIGNER_CSS, ws.id)
    assert pdf.render_warnings == [
        # WeasyPrint's own warnings, said while reading the CSS field
        "CSS: Ignored `@keyframes` at 5:1, WeasyPrint does not support the rule.",
        "CSS: Ignored `colour: red` at 6:5, unknown property.",
        # and what it drops without a word
        "CSS line 1: `-webkit-box-shadow: 0 0 4px grey` is ignored: WeasyPrint ignores "
        "vendor-prefixed properties (write `box-shadow`)",
        "CSS line 2: `transition: color 1s` is ignored: the property does not apply in print",
        "CSS line 2: `cursor: pointer` is ignored: the property does not apply in print",
        "CSS line 3: `@media screen` never applies in print (use `@media print`, or no @media)",
        "CSS line 4: `a:hover` never matches in print (:hover)",
    ]
    assert pdf.warnings == pdf.render_warnings  # one problem a line, nothing undrawn


def test_box_shadow_is_drawn_and_so_not_reported(app):
    """WeasyPrint 70 draws box-shadow (draw_box_shadows): warning of it would be false."""
    ws = make.workspace()
    plain = html_to_pdf('<p class="card">x</p>', "", ws.id)
    shadowed = html_to_pdf('<p class="card">x</p>', ".card { box-shadow: 0 0 4px grey; }", ws.id)
    assert shadowed.render_warnings == []
    page = PdfReader(io.BytesIO(shadowed.data)).pages[0].get_contents().get_data()
    bare = PdfReader(io.BytesIO(plain.data)).pages[0].get_contents().get_data()
    assert len(page) > len(bare)  # the shadow's drawing operators


def test_style_elements_of_the_html_are_checked_with_the_page_line(app):
    ws = make.workspace()
    html = (
        "<html><head>\n"
        '<style media="screen">p { color: red; }</style>\n'
        "<style>\n"
        "p { color: navy; }\n"
        "@media screen, tv { p { color: red; } }\n"
        "</style></head><body><p>x</p></body></html>"
    )
    pdf = html_to_pdf(html, "", ws.id)
    assert pdf.render_warnings == [
        'HTML line 2: <style media="screen"> never applies in print',
        "HTML <style> line 5: `@media screen, tv` never applies in print "
        "(use `@media print`, or no @media)",
    ]


def test_rules_for_print_are_read_inside_and_not_reported():
    css = "@media print, screen { p { color: red; -moz-tab-size: 4; } }\n@media all { p {} }"
    assert ignored_css(css) == [
        "CSS line 1: `-moz-tab-size: 4` is ignored: WeasyPrint ignores vendor-prefixed "
        "properties (write `tab-size`)"
    ]
    assert ignored_css("p { --brand: navy; color: var(--brand); -weasy-hyphens: auto }") == []
    assert ignored_css_in_html('<style media="print">p:hover{}</style>') == [
        "HTML <style> line 1: `p:hover` never matches in print (:hover)"
    ]


@pytest.mark.parametrize(
    ("css", "named"),
    [
        ("@page { @top-center { content: 'x'; transition: none; } }", "`transition: none`"),
        ("@layer base { a, b:focus { color: red } }", "`b:focus` never matches"),
        (".card { & .title { cursor: pointer } }", "`cursor: pointer`"),
        ("@media only screen { p { color: red } }", "`@media only screen`"),
    ],
)
def test_rules_nested_in_other_rules_are_checked(css, named):
    (warning,) = ignored_css(css)
    assert warning.startswith("CSS line 1: ") and named in warning


def test_a_long_list_of_warnings_is_cut_short_saying_how_many_more(app):
    ws = make.workspace()
    css = "\n".join(f"p{i} {{ cursor: pointer; }}" for i in range(MAX_RENDER_WARNINGS + 3))
    pdf = html_to_pdf("<p>x</p>", css, ws.id)
    assert len(pdf.render_warnings) == MAX_RENDER_WARNINGS + 3
    assert len(pdf.warnings) == MAX_RENDER_WARNINGS + 1
    assert pdf.warnings[-1] == "… and 3 more render warnings"


def test_a_font_family_list_none_of_whose_fonts_is_installed_is_named(app):
    ws = make.workspace()
    css = (
        'h1 { font-family: "Comic Neue", "Noto Sans", sans-serif; }\n'
        "p { font-family: Noto Serif Display Fancy, serif; }\n"
        "td { font-family: DejaVu Sans Mono, monospace; }\n"
        'th { font-family: "Brand One", "Brand Two", sans-serif; }'
    )
    pdf = html_to_pdf("<h1>x</h1><p>y</p>", css, ws.id)
    advice = "its text is set in another font (install it, or add it with @font-face"
    # Line 1 falls back to Noto Sans, installed and listed by its author: nothing to say.
    assert pdf.render_warnings == [
        f"CSS line 2: font 'Noto Serif Display Fancy' is not installed: {advice} and an "
        "uploaded asset)",
        f"CSS line 4: none of the fonts 'Brand One', 'Brand Two' is installed: {advice} and "
        "an uploaded asset)",
    ]


def test_a_family_the_template_defines_with_font_face_is_not_reported():
    css = "@font-face { font-family: 'Brand Sans'; src: url(herald-asset:brand.woff2) }\n"
    assert ignored_css(css + "h1 { font-family: 'Brand Sans' }") == []
    html = "<style>@font-face { font-family: Brand; src: url(x) }</style>"
    assert ignored_css("h1 { font-family: Brand, serif }", faces=font_faces(html)) == []
