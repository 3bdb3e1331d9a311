"""Saving and previewing report templates: checked in the sandbox, rendered as a run would."""

from __future__ import annotations

import pytest

from app.errors import Forbidden, ValidationFailed
from app.extensions import db
from app.models import ReportTemplate
from app.rendering.environment import TemplateRenderError
from app.rendering.report import BindingError
from app.rendering.service import preview_template, save_template
from tests import factories as make
from tests.helpers import pdf_text


@pytest.fixture
def ws(app):
    workspace = make.workspace("acme")
    make.json_source(workspace, "people", [{"name": "Ada"}, {"name": "Grace"}])
    return workspace


def save(ws, user=None, **fields):
    values = {
        "code": "letter",
        "name": "Letter",
        "html": "<p>{{ params.who }}</p>",
        "css": "",
        "parameters": [{"name": "who", "type": "string", "required": True}],
        "data_sources": [],
    }
    return save_template(ws, user, **{**values, **fields})


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("<p>ok</p>\n{% if params.who %}\n<p>{{ params.who }}</p>", "line 3: Unexpected end"),
        ("<p>ok</p>\n<p>{{ params.who | nosuchfilter }}</p>", "line 2: No filter named"),
        ("<p>{{ params.who }</p>", "line 1: unexpected '}'"),
    ],
)
def test_a_template_that_does_not_compile_is_not_saved(ws, html, error):
    with pytest.raises(ValidationFailed) as caught:
        save(ws, html=html)
    assert caught.value.errors["html"].startswith(error)
    assert db.session.scalars(db.select(ReportTemplate)).all() == []


def test_every_declaration_problem_is_reported_at_once(ws):
    with pytest.raises(ValidationFailed) as caught:
        save(
            ws,
            code="Bad Code",
            name=" ",
            parameters=[{"name": "a", "type": "money"}, {"name": "a", "type": "string"}],
            data_sources=[{"alias": "run", "source": "people"}, {"alias": "x", "source": "nope"}],
        )
    assert set(caught.value.errors) == {
        "code",
        "name",
        "parameters.0.type",
        "parameters.1.name",
        "data_sources.0.alias",
        "data_sources.1.source",
    }


def test_codes_are_unique_and_an_edit_may_keep_its_own(ws):
    letter = save(ws)
    save(ws, code="memo", name="Memo")
    with pytest.raises(ValidationFailed, match="another template already has the code"):
        save(ws, code="memo", template=letter)
    assert save(ws, name="Letter v2", template=letter).name == "Letter v2"
    with pytest.raises(ValidationFailed, match="'new' is reserved"):
        save(ws, code="new")


def test_a_viewer_may_preview_but_not_save(ws):
    viewer = make.user("v@example.com", ws, "viewer")
    with pytest.raises(Forbidden):
        save(ws, viewer)
    pdf = preview_template(
        ws,
        viewer,
        html="<p>Dear {{ params.who }}, {% for p in people %}{{ p.name }} {% endfor %}</p>",
        css="p { font-size: 20pt }",
        parameters=[{"name": "who", "type": "string"}],
        data_sources=[{"alias": "people", "source": "people"}],
        sample={"who": "team"},
    )
    assert "Dear team, Ada Grace" in pdf_text(pdf.data)


def test_preview_failures_say_what_is_wrong(ws):
    def preview(html="<p>{{ params.n }}</p>", sample=None, **kw):
        params = [{"name": "n", "type": "number", "required": True}]
        return preview_template(
            ws,
            None,
            html=html,
            css="",
            parameters=params,
            data_sources=[],
            sample=sample or {"n": "1"},
            **kw,
        )

    with pytest.raises(BindingError, match="enter a sample value for parameter 'n'"):
        preview(sample={"n": ""})
    with pytest.raises(BindingError, match="'x' is not a number"):
        preview(sample={"n": "x"})
    with pytest.raises(TemplateRenderError, match="unsafe"):
        preview(html="{{ params.__class__.__mro__ }}")
    with pytest.raises(TemplateRenderError, match=r"line 2"):
        preview(html="<p>\n{{ params.n + }}</p>")
    assert (
        pdf_text(preview(html="<p>{{ params.n * 2 }}</p>", sample={"n": "21"}).data).strip() == "42"
    )


def test_a_preview_loads_no_file_or_network_url(ws, tmp_path):
    secret = tmp_path / "secret.css"
    secret.write_text("p::after { content: 'LEAKED' }")
    html = (
        f'<link rel="stylesheet" href="file://{secret}">'
        '<img src="http://127.0.0.1:9/x.png"><p>safe</p>'
    )
    pdf = preview_template(ws, None, html=html, css="", parameters=[], data_sources=[], sample={})
    assert "safe" in pdf_text(pdf.data) and "LEAKED" not in pdf_text(pdf.data)
