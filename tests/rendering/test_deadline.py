"""Template previews stop at the render deadline, in the main thread and in any other thread."""

from __future__ import annotations

import threading

import pytest

from app.rendering.environment import TemplateRenderError
from app.rendering.service import preview_template
from tests import factories as make
from tests.faults.test_worker_kills import ENDLESS


@pytest.fixture
def one_second(app):
    saved = app.config["RENDER_TIMEOUT_SECONDS"]
    app.config["RENDER_TIMEOUT_SECONDS"] = 1
    yield
    app.config["RENDER_TIMEOUT_SECONDS"] = saved


def preview(ws, html):
    return preview_template(ws, None, html=html, css="", parameters=[], data_sources=[], sample={})


def test_a_preview_in_the_main_thread_stops_at_the_deadline(app, one_second):
    ws = make.workspace()
    with pytest.raises(TemplateRenderError, match=r"^the preview took longer than 1 s$"):
        preview(ws, ENDLESS)
    assert preview(ws, "<p>quick</p>").data.startswith(b"%PDF")  # the timer is gone


def test_a_preview_in_a_request_thread_stops_at_the_deadline(app, one_second):
    ws = make.workspace()
    outcome: list[BaseException | bytes] = []

    def request() -> None:  # as the threaded development server runs a request
        with app.app_context():
            try:
                outcome.append(preview(ws, ENDLESS).data)
            except BaseException as exc:
                outcome.append(exc)

    thread = threading.Thread(target=request)
    thread.start()
    thread.join(120)
    assert not thread.is_alive()
    (error,) = outcome
    assert isinstance(error, TemplateRenderError)
    assert str(error) == "the preview took longer than 1 s"
