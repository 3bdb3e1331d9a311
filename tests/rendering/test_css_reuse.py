"""A template's CSS is parsed once per process and reused (app/rendering/pdf.py reusable_css),
without changing what a render gives: its warnings on every render, and CSS that loads an asset
seeing that asset as it is now."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Asset
from app.rendering.environment import TemplateRenderError
from app.rendering.pdf import KEPT_CSS_CHARS, html_to_pdf, kept_css_chars, reusable_css
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


def css_of(length: int, colour: str = "navy") -> str:
    """CSS of exactly `length` characters (a long comment: cheap to parse, as long as any)."""
    rule = f"p {{ color: {colour} }}"
    return rule + "/*" + "x" * (length - len(rule) - 4) + "*/"


def test_css_longer_than_all_that_is_kept_is_parsed_for_each_render(app):
    # Parsed CSS takes ~100 times its text in memory: the largest a template may have, kept by
    # the dozen, was gigabytes in a process.
    ws = make.workspace()
    css = css_of(KEPT_CSS_CHARS + 1)
    first, second = reusable_css(css, ws.id), reusable_css(css, ws.id)

    assert first is not None and second is not None and first is not second
    assert "x" in pdf_text(html_to_pdf("<p>x</p>", css, ws.id).data)


def test_the_css_kept_adds_up_to_no_more_than_its_budget_least_recently_used_first_out(app):
    ws = make.workspace()
    third = KEPT_CSS_CHARS // 3
    texts = [css_of(third, colour) for colour in ("red", "navy", "teal", "olive")]
    kept = [reusable_css(css, ws.id) for css in texts]

    assert kept_css_chars() <= KEPT_CSS_CHARS
    assert reusable_css(texts[-1], ws.id) is kept[-1]  # the latest still kept
    assert reusable_css(texts[0], ws.id) is not kept[0]  # the oldest went to make room


COUNTED = "<ol><li>aa</li><li>bb</li></ol>"


def test_a_counter_style_of_the_css_field_numbers_the_list_on_every_render(app):
    ws = make.workspace()
    asset = Asset(workspace_id=ws.id, name="x.css", content_type="text/css", content=b"p{}")
    db.session.add(asset)
    db.session.commit()
    thumbs = "@counter-style thumbs { system: cyclic; symbols: 'Z'; suffix: ' ' }"
    kept = f"{thumbs} ol {{ list-style: thumbs }}"
    fetching = f'@import url("herald-asset:x.css"); {kept}'

    for css in (kept, kept, fetching, fetching):
        text = pdf_text(html_to_pdf(COUNTED, css, ws.id).data)
        assert "Z" in text and "1." not in text  # before: plain "1." and "2.", no warning
    assert reusable_css(kept, ws.id) is not None and reusable_css(fetching, ws.id) is None


def test_a_counter_style_of_one_documents_html_is_not_kept_for_the_next(app):
    ws = make.workspace()
    css = "ol { margin: 0 }"  # kept; the HTML's rule joins a copy of its counter styles
    stars = "<style>@counter-style stars { system: cyclic; symbols: 'Q' }</style>"
    use = "<style>ol { list-style: stars }</style>"

    assert "Q" in pdf_text(html_to_pdf(stars + use + COUNTED, css, ws.id).data)
    assert "Q" not in pdf_text(html_to_pdf(use + COUNTED, css, ws.id).data)
