"""A report whose rows do not fit an XLSX sheet fails with the reason naming the place, and
the entry's other reports go on (docs/OUTPUTS.md, "Limits and odd text")."""

from __future__ import annotations

from app.extensions import db
from app.models import Artifact
from app.runs.create import start_run
from tests import factories as make
from tests.helpers import entries_of

PEOPLE = [{"id": 1, "name": "Zoë", "email": "zoe@example.com"}]
LINES = [{"day": "2026-10-01", "item": "ok"}, {"day": "2026-10-02", "item": "x" * 40_000}]


def test_a_cell_too_long_for_xlsx_fails_that_report_naming_row_and_column(app, work):
    ws = make.workspace()
    make.json_source(ws, "people", PEOPLE)
    make.json_source(ws, "lines", LINES)
    make.template(
        ws,
        "statement",
        "<p>{% for l in lines %}{{ l.day }}{% endfor %}</p>",
        data_sources=[{"alias": "lines", "source": "lines"}],
    )
    make.template(ws, "letter", "<p>Dear {{ people.name }}</p>")
    tables = {"template": "statement", "formats": ["xlsx"], "table_sections": ["lines"]}
    job = make.job(
        ws,
        data_sources=[{"alias": "people", "source": "people", "repeating": True}],
        reports=[tables, {"template": "letter"}],
        deliveries=[],
    )
    run_id = start_run(job, None).id
    work()

    [entry] = entries_of(run_id)
    artifacts = db.session.scalars(
        db.select(Artifact).filter_by(entry_id=entry.id).order_by(Artifact.position)
    ).all()
    assert [a.status for a in artifacts] == ["failed", "generated"]
    assert artifacts[0].error == (
        "section 'lines', row 2, column 'item': 40,000 characters; "
        "an XLSX cell holds at most 32,767"
    )
    assert artifacts[1].filename.endswith(".pdf") and artifacts[1].size > 0
