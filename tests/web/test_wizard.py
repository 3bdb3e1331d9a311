"""The six-step wizard: per-step validation, drafts, live schedule preview, dry run, Save."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from app.extensions import db
from app.models import Connection, Job, JobDraft, Run
from app.outbound.secrets import set_secrets
from app.runs.create import start_run
from tests.helpers import job as job_of

STEP_DATA = {
    "configuration": {"name": "Quarterly Statements", "code": "", "scheduled": "on"},
    "parameters": {
        "p-0-name": "period",
        "p-0-type": "date",
        "p-0-label": "Period",
        "p-0-default": "start_of_month",
    },
    "data-sources": {"ds-0-alias": "customers", "ds-0-source": "customers", "ds-0-repeating": "on"},
    "reports": {
        "r-0-template": "customer-statement",
        "r-0-filename": "st-{customers.id}.pdf",
        "r-0-b-customerId-kind": "column",
        "r-0-b-customerId-value": "id",
        "r-0-b-period-kind": "param",
        "r-0-b-period-value": "period",
    },
    "schedule": {
        "start_date": "2026-01-01",
        "start_time": "07:00",
        "timezone": "Europe/Berlin",
        "trigger": "monthly",
        "every": "1",
        "day": "1",
        "misfire_grace_minutes": "60",
    },
    "deliveries": {
        "d-0-to": "{customers.email}",
        "d-0-subject": "Statement {params.period}",
        "d-0-message": "<p>Dear {customers.name}</p>",
    },
}


def new_draft(auth, client) -> str:
    auth.login()
    response = client.get("/w/demo/jobs/new")
    assert response.status_code == 302
    return response.headers["Location"].rsplit("/", 1)[0]


def post_step(auth, base: str, step: str, data: dict, action: str = "save"):
    return auth.post(f"{base}/{step}", {**data, "action": action}, page=f"{base}/configuration")


def test_opening_new_job_again_continues_the_untouched_draft(auth, client, demo):
    first = new_draft(auth, client)
    again = client.get("/w/demo/jobs/new").headers["Location"].rsplit("/", 1)[0]
    assert again == first  # a reload makes no second empty draft
    post_step(auth, first, "configuration", STEP_DATA["configuration"])
    # The first has content now: New job offers it (Continue editing) before a fresh one.
    offer = client.get("/w/demo/jobs/new")
    assert offer.status_code == 200 and "You have unfinished drafts" in offer.text
    assert f'href="{first}/review">Continue editing</a>' in offer.text
    fresh = auth.post("/w/demo/jobs/new", page="/w/demo/jobs/new")
    second = fresh.headers["Location"].rsplit("/", 1)[0]
    assert second != first
    assert db.session.scalar(db.select(db.func.count()).select_from(JobDraft)) == 2


def test_the_quickstart_job_through_all_six_steps(auth, client, demo, mailbox):
    base = new_draft(auth, client)
    steps = list(STEP_DATA)
    for step, following in zip(steps, [*steps[1:], None], strict=True):
        response = post_step(auth, base, step, STEP_DATA[step])
        assert response.status_code == 303, (step, response.text[:2000])
        expected = f"{base}/{following}" if following else f"{base}/review"
        assert response.headers["Location"] == expected
    assert db.session.scalar(db.select(db.func.count()).select_from(Job)) == 1  # not saved yet
    # The To field's example uses the job's own repeating alias.
    assert "{customers.name} &lt;{customers.email}&gt;" in client.get(f"{base}/deliveries").text

    review = client.get(f"{base}/review").text
    assert "cannot be saved" not in review
    dry = auth.post(f"{base}/dry-run", page=f"{base}/review")
    assert dry.status_code == 200
    assert "Nothing was sent." in dry.text
    assert "mason.moore@example.com" in dry.text
    berlin_today = datetime.now(ZoneInfo("Europe/Berlin")).date()  # the schedule's zone
    assert "Statement " + berlin_today.replace(day=1).isoformat() in dry.text
    pdf_url = re.search(r'src="([^"]+/dry-run/0\.pdf)"', dry.text)[1]
    assert client.get(pdf_url).data.startswith(b"%PDF")
    assert mailbox.messages == []

    saved = auth.post(f"{base}/save", page=f"{base}/review")
    assert saved.status_code == 303
    assert saved.headers["Location"] == "/w/demo/jobs/quarterly-statements"
    job = job_of(demo, "quarterly-statements")
    assert job.scheduled and job.next_fire_at is not None
    assert job.reports == [
        {
            "template": "customer-statement",
            "filename": "st-{customers.id}.pdf",
            "bindings": {"customerId": {"column": "id"}, "period": {"param": "period"}},
        }
    ]
    assert job.schedule == {
        "start": "2026-01-01T07:00",
        "timezone": "Europe/Berlin",
        "trigger": "monthly",
        "day": 1,
    }
    assert db.session.scalar(db.select(db.func.count()).select_from(JobDraft)) == 0


def test_a_step_error_is_shown_beside_its_field_and_changes_nothing(auth, client, demo):
    base = new_draft(auth, client)
    response = post_step(auth, base, "configuration", {"name": "", "code": "Bad Code"})
    assert response.status_code == 422
    assert 'id="err-name">Job name is required<' in response.text
    assert 'id="err-code">Code may use lowercase letters, digits and -' in response.text
    draft = db.session.scalars(db.select(JobDraft)).one()
    assert draft.data["name"] == "" and draft.valid_steps == []


def test_other_steps_open_only_after_configuration_is_valid(auth, client, demo):
    base = new_draft(auth, client)
    response = client.get(f"{base}/reports")
    assert response.headers["Location"] == f"{base}/configuration"
    post_step(auth, base, "configuration", STEP_DATA["configuration"])
    assert client.get(f"{base}/deliveries").status_code == 200  # any order from now on


def test_a_second_repeating_source_is_refused_with_the_reason(auth, client, demo):
    base = new_draft(auth, client)
    post_step(auth, base, "configuration", STEP_DATA["configuration"])
    response = post_step(
        auth,
        base,
        "data-sources",
        {
            "ds-0-alias": "customers",
            "ds-0-source": "customers",
            "ds-0-repeating": "on",
            "ds-1-alias": "tx",
            "ds-1-source": "transactions",
            "ds-1-repeating": "on",
        },
    )
    assert response.status_code == 422
    assert "at most one data source may be Repeating" in response.text


def test_unknown_placeholders_are_flagged_before_saving(auth, client, demo):
    base = new_draft(auth, client)
    for step in ("configuration", "parameters", "data-sources"):
        post_step(auth, base, step, STEP_DATA[step])
    response = post_step(
        auth,
        base,
        "deliveries",
        {**STEP_DATA["deliveries"], "d-0-subject": "Hi {customers.nickname} {params.nope}"},
    )
    assert response.status_code == 422
    assert "unknown placeholder {customers.nickname}, {params.nope}" in response.text
    page = client.get(f"{base}/deliveries").text
    assert 'data-insert="{customers.email}"' in page  # the picker lists real columns


def test_add_and_remove_rows_without_javascript(auth, client, demo):
    base = new_draft(auth, client)
    post_step(auth, base, "configuration", STEP_DATA["configuration"])
    added = post_step(auth, base, "parameters", STEP_DATA["parameters"], action="add")
    assert 'name="p-1-name"' in added.text
    removed = post_step(auth, base, "parameters", STEP_DATA["parameters"], action="remove-0")
    assert 'name="p-0-name"' not in removed.text
    assert db.session.scalars(db.select(JobDraft)).one().data["parameters"] == []


def test_the_schedule_preview_follows_the_fields(auth, client, demo):
    base = new_draft(auth, client)
    post_step(auth, base, "configuration", STEP_DATA["configuration"])
    response = auth.post(
        f"{base}/schedule/preview",
        STEP_DATA["schedule"],
        page=f"{base}/schedule",
        headers={"HX-Request": "true"},
    )
    assert "<html" not in response.text
    assert "Day 1 of every month at 07:00, Europe/Berlin" in response.text
    fires = re.findall(r'datetime="([^"]+)"', response.text)
    assert len(fires) == 10
    assert all(f[8:19] == "01T07:00:00" for f in fires)
    empty = auth.post(
        f"{base}/schedule/preview",
        {
            **STEP_DATA["schedule"],
            "day": "31",
            "trigger": "monthly",
            "day-sat": "on",
            "until": "2026-02-01",
        },
        page=f"{base}/schedule",
    )
    assert "No fire times:" in empty.text
    bad = auth.post(
        f"{base}/schedule/preview",
        {**STEP_DATA["schedule"], "timezone": "Mars/Base"},
        page=f"{base}/schedule",
    )
    assert "timezone" in bad.text


def test_editing_works_on_a_draft_and_runs_keep_their_definition(auth, client, demo):
    auth.login()
    response = auth.post(
        "/w/demo/jobs/monthly-statements/edit", page="/w/demo/jobs/monthly-statements"
    )
    base = response.headers["Location"].rsplit("/", 1)[0]
    post_step(auth, base, "configuration", {"name": "Renamed", "code": "monthly-statements"})
    assert job_of(demo).name == "Monthly Customer Statements"  # not saved yet
    detail = client.get("/w/demo/jobs/monthly-statements").text
    assert f'You have unsaved changes to this job in a <a href="{base}/review">draft</a>' in detail
    run = start_run(job_of(demo), None)
    auth.post(f"{base}/save", page=f"{base}/review")
    assert job_of(demo).name == "Renamed"
    assert db.session.get(Run, run.id).snapshot["job"]["name"] == "Monthly Customer Statements"


def test_a_viewer_cannot_open_the_wizard(auth, client, demo):
    auth.login("viewer@herald.local")
    assert client.get("/w/demo/jobs/new").status_code == 403


def channel_connection(ws, kind: str, code: str, secrets: dict) -> Connection:
    connection = Connection(workspace_id=ws.id, code=code, name=code.title(), kind=kind)
    connection.settings = {}
    set_secrets(connection, secrets)
    db.session.add(connection)
    db.session.commit()
    return connection


CHANNEL_DELIVERIES = {
    "d-0-kind": "webhook",
    "d-0-url": "https://receiver.example.com/herald?source=statements",
    "d-0-secret_connection": "hook-key",
    "d-0-timeout_seconds": "15",
    "d-0-condition": "",
    "d-1-kind": "slack",
    "d-1-webhook_connection": "sales-slack",
    "d-1-text": "Statement for *{customers.name}* ({params.period}) is ready",
    "d-1-condition": "{customers.email} != null",
}


def test_a_job_with_a_webhook_and_a_slack_delivery_through_the_wizard(auth, client, demo):
    channel_connection(demo, "webhook", "hook-key", {"secret": "0123456789abcdef0123"})
    channel_connection(demo, "slack", "sales-slack", {"url": "https://hooks.slack.com/x"})
    base = new_draft(auth, client)
    for step in ("configuration", "parameters", "data-sources", "reports", "schedule"):
        assert post_step(auth, base, step, STEP_DATA[step]).status_code == 303, step

    added = post_step(auth, base, "deliveries", {}, action="add-webhook")
    assert added.status_code == 200
    assert 'name="d-0-kind" value="webhook"' in added.text
    assert re.search(r'name="d-0-include_pdf" value="on" checked', added.text)
    for label in ("Add email", "Add webhook", "Add Slack", "Add Teams", "Add Google Drive"):
        assert f">{label}</button>" in added.text
    # The blank webhook panel stays when a Slack panel is added after it.
    both = post_step(
        auth,
        base,
        "deliveries",
        {"d-0-kind": "webhook", "d-0-include_pdf": "on", "d-0-timeout_seconds": "10"},
        action="add-slack",
    )
    assert 'name="d-0-kind" value="webhook"' in both.text
    assert 'name="d-1-kind" value="slack"' in both.text
    assert 'name="d-1-webhook_connection"' in both.text and 'name="d-1-text"' in both.text
    assert db.session.scalars(db.select(JobDraft)).one().data["deliveries"] == []

    saved_step = post_step(auth, base, "deliveries", CHANNEL_DELIVERIES)
    assert saved_step.status_code == 303, saved_step.text[:3000]
    page = client.get(f"{base}/deliveries").text
    assert 'value="https://receiver.example.com/herald?source=statements"' in page
    assert re.search(r'name="d-0-include_pdf" value="on"\s*>', page)  # left unchecked
    assert 'name="d-0-timeout_seconds" type="text" value="15"' in page

    response = auth.post(f"{base}/save", page=f"{base}/review")
    assert response.status_code == 303, response.text[:3000]
    job = job_of(demo, "quarterly-statements")
    assert job.deliveries == [
        {
            "kind": "webhook",
            "name": "",
            "url": "https://receiver.example.com/herald?source=statements",
            "secret_connection": "hook-key",
            "include_pdf": False,
            "timeout_seconds": 15.0,
            "condition": "",
        },
        {
            "kind": "slack",
            "name": "",
            "webhook_connection": "sales-slack",
            "text": "Statement for *{customers.name}* ({params.period}) is ready",
            "condition": "{customers.email} != null",
        },
    ]
    detail = client.get("/w/demo/jobs/quarterly-statements").text
    assert "Webhook to <code>https://receiver.example.com/…</code>" in detail
    assert "Slack via <code>sales-slack</code>" in detail
    assert "source=statements" not in detail


def test_an_unknown_placeholder_in_a_slack_text_is_flagged_beside_the_field(auth, client, demo):
    base = new_draft(auth, client)
    for step in ("configuration", "parameters", "data-sources"):
        post_step(auth, base, step, STEP_DATA[step])
    response = post_step(
        auth,
        base,
        "deliveries",
        {
            "d-0-kind": "slack",
            "d-0-webhook_connection": "sales-slack",
            "d-0-text": "Hi {customers.nickname}, {customers.name}",
        },
    )
    assert response.status_code == 422
    assert 'id="err-deliveries-0-text">unknown placeholder {customers.nickname}<' in response.text
    assert re.search(
        r'<textarea id="d-0-text" name="d-0-text" rows="\d+" aria-invalid="true"', response.text
    )
    assert ">Hi {customers.nickname}, {customers.name}</textarea>" in response.text
    assert db.session.scalars(db.select(JobDraft)).one().data["deliveries"] == []


def test_an_email_condition_typed_in_the_wizard_is_kept(auth, client, demo):
    base = new_draft(auth, client)
    for step in ("configuration", "parameters", "data-sources"):
        post_step(auth, base, step, STEP_DATA[step])
    condition = '{customers.email} != ""'
    response = post_step(
        auth, base, "deliveries", {**STEP_DATA["deliveries"], "d-0-condition": condition}
    )
    assert response.status_code == 303
    (delivery,) = db.session.scalars(db.select(JobDraft)).one().data["deliveries"]
    assert delivery["kind"] == "email" and delivery["condition"] == condition


def test_a_dry_run_shows_what_a_chat_delivery_would_say(app, demo):
    from app.delivery.dryrun import dry_run
    from app.jobs.service import export_job
    from app.models import User
    from tests.helpers import job as demo_job

    definition = export_job(demo_job(demo))
    definition["deliveries"] = [
        {
            "kind": "slack",
            "webhook_connection": "team-chat",
            "text": "Statement for {customers.name} is ready",
        }
    ]
    user = db.session.scalars(db.select(User).filter_by(email="demo@herald.local")).one()
    result = dry_run(demo, user, definition)
    (slack,) = result.emails
    assert (slack.kind, slack.error) == ("slack", None)
    assert slack.detail["text"] == f"Statement for {result.row['name']} is ready"
    assert slack.detail["attachments"] == [
        f"statement-{result.row['id']}-{result.params['period']}.pdf"
    ]


def test_a_recipient_field_that_is_not_an_address_list_is_refused_beside_the_field(
    auth, client, demo
):
    base = new_draft(auth, client)
    for step in ("configuration", "parameters", "data-sources"):
        post_step(auth, base, step, STEP_DATA[step])
    response = post_step(
        auth,
        base,
        "deliveries",
        {**STEP_DATA["deliveries"], "d-0-to": "not-an-email", "d-0-cc": "Ops <ops@x.example"},
    )
    assert response.status_code == 422
    assert (
        'id="err-deliveries-0-to">&#39;not-an-email&#39; is not an email address: '
        "An email address must have an @-sign.<" in response.text
    )
    assert 'id="err-deliveries-0-cc">&#39;&lt;&#39; without a closing &#39;&gt;&#39;' in (
        response.text
    )
    assert db.session.scalars(db.select(JobDraft)).one().data["deliveries"] == []


# ---- Nothing is saved that is known to fail (issue #11, kind 6) --------------------------


def draft_through(auth, client, last: str) -> str:
    """A new draft with the Quickstart's steps saved up to and including `last`."""
    base = new_draft(auth, client)
    for step in STEP_DATA:
        assert post_step(auth, base, step, STEP_DATA[step]).status_code == 303, step
        if step == last:
            return base
    return base


def stored(step_key: str):
    db.session.expire_all()
    return db.session.scalars(db.select(JobDraft)).one().data[step_key]


def test_an_email_panel_left_blank_is_an_error_beside_it_until_removed(auth, client, demo):
    base = draft_through(auth, client, "schedule")
    added = post_step(auth, base, "deliveries", {}, action="add-email")
    assert 'name="d-0-to"' in added.text
    response = post_step(auth, base, "deliveries", {"d-0-kind": "email"})
    assert response.status_code == 422
    assert 'id="err-deliveries-0-to">Enter at least one recipient in To, CC or BCC<' in (
        response.text
    )
    assert 'id="err-deliveries-0-subject">Subject is required<' in response.text
    assert 'id="err-deliveries-0-message">Message is required<' in response.text
    assert stored("deliveries") == []
    removed = post_step(auth, base, "deliveries", {"d-0-kind": "email"}, action="remove-0")
    assert 'name="d-0-to"' not in removed.text
    assert post_step(auth, base, "deliveries", {}).status_code == 303
    assert stored("deliveries") == []


def test_a_schedule_that_never_fires_is_refused_while_scheduling_is_on(auth, client, demo):
    base = draft_through(auth, client, "reports")
    past = {**STEP_DATA["schedule"], "trigger": "once", "start_date": "2020-01-01"}
    response = post_step(auth, base, "schedule", past)
    assert response.status_code == 422
    assert re.search(
        r'id="err-schedule">This one-time schedule already fired at 2020-01-01T07:00:00\+01:00\. '
        r"A scheduled job must fire",
        response.text,
    )
    assert stored("schedule") is None


def test_a_draft_that_would_fail_keeps_its_work_but_cannot_become_a_job(auth, client, demo):
    """Scheduling switched on after a schedule that has run out: the draft keeps every step,
    the review says why it cannot be saved, and Save creates nothing to run or schedule."""
    base = new_draft(auth, client)
    off = {**STEP_DATA["configuration"], "scheduled": ""}
    assert post_step(auth, base, "configuration", off).status_code == 303
    for step in ("parameters", "data-sources", "reports", "deliveries"):
        assert post_step(auth, base, step, STEP_DATA[step]).status_code == 303, step
    past = {**STEP_DATA["schedule"], "trigger": "once", "start_date": "2020-01-01"}
    assert post_step(auth, base, "schedule", past).status_code == 303  # not scheduled: fine
    assert post_step(auth, base, "configuration", STEP_DATA["configuration"]).status_code == 303

    review = client.get(f"{base}/review").text
    assert "This definition cannot be saved yet" in review
    assert f'href="{base}/schedule">Schedule</a>: This one-time' in review
    saved = auth.post(f"{base}/save", page=f"{base}/review")
    assert saved.status_code == 422
    assert "This one-time schedule already fired" in saved.text
    assert db.session.scalar(db.select(db.func.count()).select_from(Job)) == 1  # the demo's
    assert stored("scheduled") is True
    jobs = client.get("/w/demo/jobs").text
    assert "Your unsaved drafts" in jobs and "never runs or fires until it is saved" in jobs
    assert "<strong>Quarterly Statements</strong>" in jobs and "(new job <code>" in jobs
    assert f'href="{base}/review">Continue editing</a>' in jobs


@pytest.mark.parametrize(
    ("step", "change", "error"),
    [
        pytest.param(
            "reports",
            {"r-0-b-customerId-value": "customer_no"},
            'id="err-reports-0-bindings-customerId">the Repeating data source &#39;customers&#39; '
            "returns no column &#39;customer_no&#39;",
            id="a binding to a column the repeating source lacks",
        ),
        pytest.param(
            "data-sources",
            {"ds-1-alias": "tx", "ds-1-source": "transactions"},
            'id="err-data_sources-1-source">data source &#39;transactions&#39; needs :customerId, '
            "which no job parameter provides",
            id="a data source whose bind no parameter provides",
        ),
        pytest.param(
            "reports",
            {"r-0-filename": "{customers.nr}.pdf"},
            'id="err-reports-0-filename">unknown placeholder {customers.nr}<',
            id="a file name placeholder that names nothing",
        ),
        pytest.param(
            "deliveries",
            {"d-0-to": "not-an-email"},
            'id="err-deliveries-0-to">&#39;not-an-email&#39; is not an email address',
            id="an invalid literal To address",
        ),
    ],
)
def test_a_step_that_cannot_work_is_refused_beside_the_field(
    auth, client, demo, step, change, error
):
    steps = list(STEP_DATA)
    base = draft_through(auth, client, steps[steps.index(step) - 1])
    response = post_step(auth, base, step, {**STEP_DATA[step], **change})
    assert response.status_code == 422
    assert error in response.text
    assert stored(step.replace("-", "_")) == []


def test_a_step_reached_by_htmx_names_its_url_for_the_address_bar(auth, client, demo):
    """htmx pushes a boosted request's URL only while the form that sent it is still in the
    page; the server names the step's URL (HX-Push-Url) so the bar never lags a step."""
    base = new_draft(auth, client)
    boosted = {"HX-Request": "true", "HX-Boosted": "true"}
    saved = auth.post(
        f"{base}/configuration",
        {**STEP_DATA["configuration"], "action": "save"},
        headers=boosted,
        follow_redirects=True,
    )
    assert saved.request.path == f"{base}/parameters"
    assert saved.headers["HX-Push-Url"] == f"{base}/parameters"
    assert client.get(f"{base}/review", headers=boosted).headers["HX-Push-Url"] == f"{base}/review"
    refused = auth.post(f"{base}/configuration", {"name": "", "action": "save"}, headers=boosted)
    assert refused.status_code == 422 and "HX-Push-Url" not in refused.headers
    assert "HX-Push-Url" not in client.get(f"{base}/parameters").headers  # no htmx, no header


def test_a_discarded_drafts_id_and_dry_run_never_go_to_the_next_draft(auth, client, demo):
    """SQLite gives a new row the largest id in use plus one: without AUTOINCREMENT the next
    draft took a discarded draft's id, its stale links and its dry-run PDF (drafts/<id>/)."""
    base = new_draft(auth, client)
    for step, data in STEP_DATA.items():
        assert post_step(auth, base, step, data).status_code == 303, step
    dry = auth.post(f"{base}/dry-run", page=f"{base}/review")
    old_pdf = re.search(r'src="([^"]+/dry-run/0\.pdf)"', dry.text)[1]
    assert client.get(old_pdf).data.startswith(b"%PDF")
    assert auth.post(f"{base}/discard", page=f"{base}/review").status_code == 303

    opened = client.get("/w/demo/jobs/new")  # no unfinished draft left: a new one
    fresh = opened.headers["Location"].rsplit("/", 1)[0]
    assert fresh != base
    assert client.get(old_pdf).status_code == 404  # the old draft's link opens nothing
    assert client.get(f"{fresh}/dry-run/0.pdf").status_code == 404  # not run for this one
