"""A template's CSS is parsed once per process and reused (app/rendering/pdf.py reusable_css),
without changing what a render gives: its warnings on every render, and CSS that loads an asset
seeing that asset as it is now."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Asset
from app.rendering.environment import TemplateRenderError
from app.rendering.pdf import html_to_pdf, reusable_css
from tests import factories as make
from tests.helpers import pdf_text


def test_css_warnings_are_reported_on_every_render_of_the_same_css(app):
    ws = make.workspace()
    css = "p { colour: red; color: navy }"
    first, second = (html_to_pdf(f"<p>{n}</p>", css, ws.id) for n in ("one", "two"))
    expected = ["CSS: Ignored `colour: red` at 1:5, unknown property."]
    assert first.render_warnings == second.render_warnings == expected
    assert "two" in pdf_text(second.data)
    assert reusable_css(css, ws.id) is not None  # parsed once, kept


def test_css_importing_an_asset_sees_the_asset_deleted_since_the_last_render(app):
    ws = make.workspace()
    asset = Asset(
        workspace_id=ws.id, name="extra.css", content_type="text/css", content=b"p{color:red}"
    )
    db.session.add(asset)
    db.session.commit()
    css = '@import url("herald-asset:extra.css"); p { margin: 0 }'
    assert html_to_pdf("<p>x</p>", css, ws.id).render_warnings == []
    assert reusable_css(css, ws.id) is None  # it fetched: never kept

    db.session.delete(asset)
    db.session.commit()
    with pytest.raises(TemplateRenderError, match="missing asset 'extra.css'"):
        html_to_pdf("<p>x</p>", css, ws.id)


def test_the_same_css_in_two_workspaces_is_parsed_for_each(app):
    one, two = make.workspace("one"), make.workspace("two")
    css = "p { color: navy }"
    assert reusable_css(css, one.id) is not reusable_css(css, two.id)
