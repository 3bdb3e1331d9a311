"""Size limits: their settings, how sizes read, the command line, and cutting values short."""

from __future__ import annotations

import pytest

from app.config import settings_from_env
from app.extensions import db
from app.limits import KB, MB, PARAMETER, format_size, parse_size, too_large
from app.models import DataSource, Run
from app.web.helpers import clip
from tests import factories as make


def test_each_limit_has_a_default_and_a_herald_max_setting(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "x")
    defaults = settings_from_env(tmp_path)
    assert defaults["MAX_CONTENT_LENGTH"] == 16 * MB
    assert defaults["MAX_PARAMETER_BYTES"] == 4 * KB
    assert defaults["MAX_DATA_BYTES"] == 64 * KB
    assert defaults["MAX_SOURCE_BYTES"] == 10 * MB
    assert defaults["MAX_TEMPLATE_BYTES"] == 512 * KB
    assert defaults["MAX_FORM_MEMORY_SIZE"] is None  # fields are bounded by the body limit

    monkeypatch.setenv("HERALD_MAX_REQUEST_BYTES", "32MB")
    monkeypatch.setenv("HERALD_MAX_PARAMETER_BYTES", "8k")
    monkeypatch.setenv("HERALD_MAX_DATA_BYTES", "1000")
    changed = settings_from_env(tmp_path)
    assert changed["MAX_CONTENT_LENGTH"] == 32 * MB
    assert changed["MAX_PARAMETER_BYTES"] == 8 * KB
    assert changed["MAX_DATA_BYTES"] == 1000


@pytest.mark.parametrize("text", ["", "lots", "-1", "0", "1.5M", "16GB"])
def test_a_size_setting_that_is_no_size_is_refused(text):
    with pytest.raises(ValueError):
        parse_size(text)


def test_sizes_read_as_people_say_them(app):
    assert [format_size(n) for n in (900, 4 * KB, 1536 * KB, 2 * MB)] == [
        "900 bytes",
        "4 KB",
        "1.5 MB",
        "2 MB",
    ]
    assert too_large(PARAMETER, 4097) == (
        "4,097 bytes is too large: a parameter value may be at most 4 KB "
        "(HERALD_MAX_PARAMETER_BYTES)"
    )


def test_clip_keeps_short_values_and_cuts_long_ones_saying_their_size():
    assert clip("Ada") == "Ada"
    assert clip(42) == "42"
    assert clip("x" * 200) == "x" * 200
    assert clip("é" * 300) == "é" * 200 + "… (600 bytes)"
    assert clip("N" * 2 * MB, 80) == "N" * 80 + "… (2 MB)"
    assert clip({"ids": list(range(100))}, 20) == '{"ids": [0, 1, 2, 3,… (399 bytes)'


def test_sources_import_refuses_a_file_over_10_mb_before_reading_it(app, tmp_path):
    ws = make.workspace()
    path = tmp_path / "big.csv"
    path.write_bytes(b"name\n" + b"x" * (10 * MB - 4))  # one byte over
    result = app.test_cli_runner().invoke(
        args=["sources", "import", str(path), "--workspace", ws.code, "--code", "big"]
    )
    assert result.exit_code == 1
    assert (
        "content: 10,485,761 bytes is too large: a data source's content may be at most 10 MB "
        "(HERALD_MAX_SOURCE_BYTES)"
    ) in result.output
    assert db.session.scalar(db.select(db.func.count()).select_from(DataSource)) == 0


def test_sources_import_checks_the_text_in_save_source_too(app, tmp_path, monkeypatch):
    """The file check is a shortcut; the rule lives in save_source, shared with the screens."""
    monkeypatch.setitem(app.config, "MAX_SOURCE_BYTES", 16)
    ws = make.workspace()
    path = tmp_path / "people.csv"
    path.write_text("name\nAda Lovelace\n")  # 18 bytes
    result = app.test_cli_runner().invoke(
        args=["sources", "import", str(path), "--workspace", ws.code, "--code", "people"]
    )
    assert result.exit_code == 1
    assert "content: 18 bytes is too large" in result.output
    assert db.session.scalar(db.select(db.func.count()).select_from(DataSource)) == 0


def test_jobs_run_refuses_data_over_64_kb(app, tmp_path):
    ws = make.workspace()
    make.template(ws, "letter", "<p>hi</p>")
    make.job(ws, reports=[{"template": "letter"}])
    data = '{"memo": "' + "m" * (64 * KB) + '"}'
    result = app.test_cli_runner().invoke(
        args=["jobs", "run", "test-job", "--workspace", ws.code, "--data", data]
    )
    assert result.exit_code == 1
    assert "data: 65,547 bytes is too large: a run's data may be at most 64 KB" in result.output
    assert db.session.scalar(db.select(db.func.count()).select_from(Run)) == 0
