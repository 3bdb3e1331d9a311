"""Runs with names in any script: drawn in full, or the entry warns of what was not drawn."""

from __future__ import annotations

from app import storage
from app.delivery.dryrun import dry_run
from app.rendering.glyphs import undrawn_characters
from app.runs.create import start_run
from tests import factories as make
from tests.helpers import SCRIPT_NAMES, entries_of, reload_run

HTML = "<h1>Dear {{ params.person }},</h1><p>your statement, {{ people.name }}.</p>"


def test_names_in_seven_scripts_are_generated_without_warnings(app, work, smtp_server, mailbox):
    ws = make.workspace(smtp=smtp_server.settings)
    rows = [
        {"name": name, "email": f"{script.lower()}@example.com"}
        for script, name in SCRIPT_NAMES.items()
    ]
    run_id = start_run(make.mailing_job(ws, rows, html=HTML), None).id
    work()

    entries = entries_of(run_id)
    assert [(e.status, e.warnings) for e in entries] == [("Completed", None)] * len(SCRIPT_NAMES)
    for entry in entries:
        (artifact,) = entry.artifacts
        assert undrawn_characters(storage.load(artifact.storage_key)) == []
    assert len(mailbox.messages) == len(SCRIPT_NAMES)


def test_a_character_no_font_has_puts_a_warning_on_its_entry_which_still_completes(
    app, work, smtp_server, mailbox
):
    ws = make.workspace(smtp=smtp_server.settings)
    rows = [
        {"name": "Ada Lovelace", "email": "ada@example.com"},
        {"name": "Bob \ue000\U0010fffd", "email": "bob@example.com"},
    ]
    run_id = start_run(make.mailing_job(ws, rows, html=HTML), None).id
    work()

    ada, bob = entries_of(run_id)
    assert (ada.status, ada.warnings) == ("Completed", None)
    assert bob.status == "Completed" and bob.error is None
    assert bob.warnings == [
        "letter: 2 characters could not be drawn: \ue000 (U+E000), \U0010fffd (U+10FFFD)"
    ]
    assert [d.status for d in bob.deliveries] == ["sent"]
    assert sorted(env[0] for env in mailbox.envelopes) == ["ada@example.com", "bob@example.com"]
    assert reload_run(run_id).status == "finished"


def test_each_report_of_an_entry_names_its_own_undrawn_characters(app, work):
    ws = make.workspace()
    make.json_source(ws, "people", [{"name": "Cy"}])
    make.template(ws, "plain", "<p>{{ people.name }}</p>")
    make.template(ws, "odd", "<p>{{ people.name }} \ue000</p>")
    job = make.job(
        ws,
        data_sources=[{"alias": "people", "source": "people", "repeating": True}],
        reports=[{"template": "plain"}, {"template": "odd"}],
    )
    run_id = start_run(job, None).id
    work()

    (entry,) = entries_of(run_id)
    assert entry.status == "Completed"
    assert entry.warnings == ["odd: 1 character could not be drawn: \ue000 (U+E000)"]


def test_the_dry_run_carries_the_warning_of_the_first_entry(app):
    ws = make.workspace()
    editor = make.user("ed@example.com", ws, "editor")
    make.json_source(ws, "people", [{"name": "Bob \ue000"}])
    make.template(ws, "letter", HTML, parameters=[{"name": "person", "type": "string"}])
    definition = {
        "code": "letters",
        "name": "Letters",
        "data_sources": [{"alias": "people", "source": "people", "repeating": True}],
        "reports": [{"template": "letter", "bindings": {"person": {"column": "name"}}}],
    }
    (report,) = dry_run(ws, editor, definition).reports
    assert report.pdf is not None and report.error is None
    assert report.warnings == ["letter: 1 character could not be drawn: \ue000 (U+E000)"]
