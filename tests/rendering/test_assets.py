"""Workspace assets load by any name, and a template naming a missing asset fails saying so."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from pypdf import PdfReader

from app.extensions import db
from app.models import Asset
from app.rendering.environment import TemplateRenderError, render_html
from app.rendering.pdf import html_to_pdf
from app.runs.create import start_run
from tests import factories as make
from tests.helpers import entries_of


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "navy").save(out, "PNG")
    return out.getvalue()


def add_asset(ws, name: str) -> None:
    db.session.add(Asset(workspace_id=ws.id, name=name, content_type="image/png", content=png()))
    db.session.commit()


NAMES = ["Company Logo.png", "logo-é.png", "ロゴ.png", "100% #1.png"]


@pytest.mark.parametrize("name", NAMES)
def test_an_asset_loads_by_any_name(app, name):
    ws = make.workspace()
    add_asset(ws, name)
    html = render_html('<img src="{{ asset_url(n) }}" width=50>', {"n": name})
    pdf = html_to_pdf(html, "", ws.id)
    assert len(PdfReader(io.BytesIO(pdf.data)).pages[0].images) == 1


def test_an_asset_written_as_a_plain_url_with_a_space_loads(app):
    ws = make.workspace()
    add_asset(ws, "Company Logo.png")
    pdf = html_to_pdf('<img src="herald-asset:Company Logo.png" width=50>', "", ws.id)
    assert len(PdfReader(io.BytesIO(pdf.data)).pages[0].images) == 1


def test_a_missing_asset_fails_the_render_naming_it(app):
    ws = make.workspace()
    with pytest.raises(TemplateRenderError, match="missing asset 'Logo 2.png'"):
        html_to_pdf('<img src="herald-asset:Logo%202.png">', "", ws.id)


def test_a_missing_asset_fails_the_entry_naming_it(app, work):
    ws = make.workspace()
    job = make.people_job(ws, [{"name": "Ada"}], "<img src=\"{{ asset_url('nope.png') }}\">")
    run_id = start_run(job, None).id
    work()
    (entry,) = entries_of(run_id)
    assert entry.status == "GenerationFailed"
    assert "missing asset 'nope.png'" in entry.error


def test_weasyprint_warnings_of_a_render_are_collected(app):
    ws = make.workspace()
    pdf = html_to_pdf(
        '<p class="card">x</p><img src="data:image/png;base64,bm90LWEtcG5n">'
        f'<img src="data:image/png;base64,{"A" * 200}"><img src="https://example.com/a.png">',
        ".card { box-shadow: 0 0 4px grey; colour: red; }",
        ws.id,
    )
    assert (
        pdf.warnings
        == pdf.render_warnings
        == [
            "CSS: Ignored `colour: red` at 1:35, unknown property.",
            "Failed to load image at 'data:image/png;base64,bm90LWEtcG5n': "
            "not an image file that can be read",
            f"Failed to load image at 'data:image/png;base64,{'A' * 58}…': "
            "not an image file that can be read",
            "Failed to load image at 'https://example.com/a.png': "
            "URL not allowed in reports: https://example.com/a.png",
        ]
    )
    assert pdf.warning == "; ".join(pdf.warnings)


def test_a_clean_render_has_no_warning(app):
    ws = make.workspace()
    assert html_to_pdf("<p>x</p>", "p { color: red; }", ws.id).warning is None
