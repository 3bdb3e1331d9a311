"""Lone UTF-16 surrogates: JSON may hold one ("\\udcff", often half an emoji cut short), UTF-8
cannot. Where they enter (a JSON source) and where text leaves for WeasyPrint they become
U+FFFD, so the PDF, the table files and the mail all work (app.datasources.text)."""

from __future__ import annotations

import io

from pypdf import PdfReader

from app.datasources.fetch import parse_json_rows
from app.rendering.pdf import html_to_pdf
from tests import factories as make


def test_a_json_source_s_lone_surrogates_become_replacement_characters():
    rows = parse_json_rows('[{"name\\udcff": "cut \\ud83d", "whole": "\\ud83d\\ude00"}]')
    assert rows == [{"name\ufffd": "cut \ufffd", "whole": "😀"}]
    assert parse_json_rows('[{"plain": "\\u00e9"}]') == [{"plain": "é"}]


def test_html_holding_a_lone_surrogate_still_renders(app):
    ws = make.workspace()
    pdf = html_to_pdf("<p>Bad \udcff name</p>", "p { color: #000 } /* \udcff */", ws.id)
    assert pdf.data.startswith(b"%PDF")
    text = PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    assert "Bad" in text and "name" in text
