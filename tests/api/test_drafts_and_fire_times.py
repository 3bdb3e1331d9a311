"""#18 points 2, 3 and 6: drafts over HTTP (seed 002) with the wizard's checks and a 409 for a
stale draft; fire times of any rule, the same instants `schedule preview` prints."""

from __future__ import annotations

import json

from app.extensions import db
from app.models import Run
from tests.api.test_contract import JOBS, RUNS, assert_envelope

JOB = JOBS + "/monthly-statements"


def test_a_draft_is_opened_changed_and_committed(api, work):
    saved = api.get(JOB).get_json()
    opened = api.post(JOB + "/_edit")
    assert opened.status_code == 200
    draft = opened.get_json()
    assert draft["definition"] == saved["definition"] and draft["errors"] == []
    assert api.post(JOB + "/_edit").get_json()["id"] == draft["id"]  # returns the open one

    changed = api.put(JOB + "/_edit", {"name": "Statements v2", "description": "new"})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["definition"]["name"] == "Statements v2"
    assert api.get(JOB).get_json()["name"] == saved["name"]  # the job waits for the commit

    run_id = api.post(RUNS, {}).get_json()["jobRunId"]  # started before the commit
    committed = api.post(JOB + "/_commit")
    assert committed.status_code == 200
    assert (committed.get_json()["name"], committed.get_json()["description"]) == (
        "Statements v2",
        "new",
    )
    assert db.session.get(Run, run_id).snapshot["job"]["name"] == saved["name"]
    assert_envelope(api.post(JOB + "/_commit"), 404, "not_found")  # the draft is gone


def test_a_draft_change_is_checked_as_the_wizard_checks_it(api):
    api.post(JOB + "/_edit")
    before = api.post(JOB + "/_edit").get_json()
    bad = api.put(JOB + "/_edit", {"code": "Bad!", "reports": [{"template": "nope"}]})
    body = assert_envelope(bad, 422, "body_validation_error")
    assert {e["field"] for e in body["error"]["details"]["errors"]} == {
        "code",
        "reports.0.template",
    }
    unknown = assert_envelope(
        api.put(JOB + "/_edit", {"colour": "red"}), 422, "body_validation_error"
    )
    assert unknown["error"]["details"]["errors"] == [
        {"field": "colour", "message": "unknown field"}
    ]
    assert api.post(JOB + "/_edit").get_json()["definition"] == before["definition"]


def test_a_stale_draft_is_a_409_and_discarding_works(api):
    api.post(JOB + "/_edit")
    api.put(JOB + "/_edit", {"name": "From the draft"})
    definition = api.get(JOB).get_json()["definition"]
    assert api.put(JOB, {**definition, "description": "changed meanwhile"}).status_code == 200
    body = assert_envelope(api.post(JOB + "/_commit"), 409, "conflict")
    assert "changed since this draft was opened" in body["error"]["details"]["reason"]
    assert api.get(JOB).get_json()["name"] != "From the draft"
    assert api.delete(JOB + "/_edit").status_code == 204
    assert_envelope(api.delete(JOB + "/_edit"), 404, "not_found")


def test_drafts_need_write(reader):
    assert_envelope(reader.post(JOB + "/_edit"), 403, "forbidden")


def preview(app, rule: dict, after: str, count: int) -> list[str]:
    result = app.test_cli_runner().invoke(
        args=[
            "schedule",
            "preview",
            "--rule",
            json.dumps(rule),
            "--after",
            after,
            "--count",
            str(count),
        ]
    )
    assert result.exit_code == 0, result.output
    return result.output.split()


def test_fire_times_of_any_rule_match_schedule_preview(api, app):
    rule = {"trigger": "monthly", "start": "2026-01-01T07:00", "timezone": "America/Los_Angeles"}
    after = "2026-01-15T00:00:00Z"
    response = api.post("/api/v1/ws/demo/fire-times", {"rule": rule, "count": 3, "after": after})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["fireTimes"] == preview(app, rule, after, 3)
    assert body["description"] == "Day 1 of every month at 07:00, America/Los_Angeles"
    assert body["emptyReason"] is None

    cron = {"cron": "30 9 * * 1-5", "timezone": "Europe/Berlin", "start": "2026-03-01T00:00"}
    body = api.post("/api/v1/ws/demo/fire-times", {**cron, "count": 4, "after": after}).get_json()
    as_rule = {"trigger": "cron", **cron}
    assert body["fireTimes"] == preview(app, as_rule, after, 4)
    assert body["fireTimes"][0] == "2026-03-02T09:30:00+01:00"


def test_an_empty_preview_says_why(api):
    rule = {"trigger": "once", "start": "2025-01-01T09:00"}
    body = api.post("/api/v1/ws/demo/fire-times", {"rule": rule}).get_json()
    assert body["fireTimes"] == []
    assert "already fired" in body["emptyReason"]


def test_bad_rules_name_the_field(api):
    url = "/api/v1/ws/demo/fire-times"
    for request, field in (
        ({"rule": {"trigger": "weekly"}}, "rule.start"),
        ({"rule": {"trigger": "daily", "start": "2026-01-01T00:00", "colour": 1}}, "rule.colour"),
        ({"cron": "61 * * * *"}, "cron"),
        ({"cron": "0 9 * * *", "timezone": "Mars/Olympus"}, "timezone"),
        ({}, "rule"),
        ({"rule": {}, "cron": "0 9 * * *"}, "rule"),
        ({"cron": "0 9 * * *", "count": 0}, "count"),
        ({"cron": "0 9 * * *", "after": "tomorrow"}, "after"),
    ):
        body = assert_envelope(api.post(url, request), 422, "body_validation_error")
        assert body["error"]["details"]["errors"][0]["field"] == field, request


# SCHEDULE.md's first business-day example, with Saarland's Assumption Day on top.
SHIFTED = {
    "trigger": "monthly",
    "start": "2030-06-01T18:00",
    "timezone": "Europe/Berlin",
    "day": 15,
    "days": ["mon", "tue", "wed", "thu", "fri"],
    "shift": "preceding",
    "holidays": {"country": "DE", "subdivision": "SL"},
}


def test_fire_times_say_which_fires_moved_and_why(api, app):
    after = "2030-06-01T00:00:00Z"
    url = "/api/v1/ws/demo/fire-times"
    body = api.post(url, {"rule": SHIFTED, "count": 3, "after": after}).get_json()
    assert body["fireTimes"] == preview(app, SHIFTED, after, 3)  # unchanged, as before
    assert [fire["at"] for fire in body["fires"]] == body["fireTimes"]
    june, july, august = body["fires"]
    assert june == {
        "at": "2030-06-14T18:00:00+02:00",
        "date": "2030-06-14",
        "movedFrom": "2030-06-15",
        "holiday": None,  # a Saturday
        "note": "moved from Sat 15 Jun",
    }
    assert july["movedFrom"] is None and july["note"] is None  # Mon 15 Jul fires as is
    assert august["movedFrom"] == "2030-08-15" and august["holiday"] == "Assumption Day"
    assert august["note"] == "moved from Thu 15 Aug (Assumption Day)"
    assert body["skipped"] == []

    daily = {**SHIFTED, "trigger": "daily", "start": "2030-12-23T18:00", "shift": "none"}
    body = api.post(url, {"rule": daily, "count": 2, "after": after}).get_json()
    assert body["fireTimes"] == ["2030-12-23T18:00:00+01:00", "2030-12-24T18:00:00+01:00"]
    body = api.post(url, {"rule": daily, "count": 3, "after": after}).get_json()
    assert body["fireTimes"][2] == "2030-12-27T18:00:00+01:00"
    assert body["skipped"] == [
        {"date": "2030-12-25", "holiday": "Christmas Day", "note": "skipped: Christmas Day"},
        {
            "date": "2030-12-26",
            "holiday": "Second Day of Christmas",
            "note": "skipped: Second Day of Christmas",
        },
    ]


def test_a_jobs_fire_times_carry_the_same_notes(api):
    definition = api.get(JOB).get_json()["definition"]
    assert api.put(JOB, {**definition, "schedule": SHIFTED}).status_code == 200
    body = api.get(JOB + "/fire-times?count=3&after=2030-06-01T00:00:00Z").get_json()
    assert [fire["note"] for fire in body["fires"]] == [
        "moved from Sat 15 Jun",
        None,
        "moved from Thu 15 Aug (Assumption Day)",
    ]


def test_shift_with_an_occurrence_is_ignored_not_refused(api):
    """#19 lists "`shift` with `occurrence`" among the validation errors, but SCHEDULE.md (the
    contract to match exactly) says `shift` outside fixed dates is ignored. Herald follows the
    contract: the job is accepted and fires as if `shift` were not there."""
    last_business_day = {**SHIFTED, "occurrence": 1, "from_end": True}
    definition = api.get(JOB).get_json()["definition"]
    saved = api.put(JOB, {**definition, "schedule": last_business_day})
    assert saved.status_code == 200, saved.get_json()
    url = "/api/v1/ws/demo/fire-times"
    asked = {"count": 12, "after": "2030-06-01T00:00:00Z"}
    with_shift = api.post(url, {"rule": last_business_day, **asked}).get_json()
    without = {k: v for k, v in last_business_day.items() if k != "shift"}
    assert (
        with_shift["fireTimes"] == api.post(url, {"rule": without, **asked}).get_json()["fireTimes"]
    )
    assert with_shift["fireTimes"][0] == "2030-06-28T18:00:00+02:00"  # Fri, last weekday
    assert all(fire["movedFrom"] is None for fire in with_shift["fires"])
