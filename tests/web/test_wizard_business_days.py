"""The wizard's Schedule step: "If the date is not a business day" and "Public holidays"
(SCHEDULE.md, "Business days"), their errors beside the fields and the preview's marks."""

from __future__ import annotations

from app.extensions import db
from app.models import JobDraft
from tests.web.test_wizard import STEP_DATA, new_draft, post_step

SHIFTED = {
    **STEP_DATA["schedule"],
    "start_date": "2030-06-01",
    "start_time": "18:00",
    "day": "15",
    **{f"day-{d}": "on" for d in ("mon", "tue", "wed", "thu", "fri")},
    "shift": "preceding",
    "holiday_country": "Germany",  # typed by name: becomes DE
    "holiday_subdivision": "SL",  # Saarland: Assumption Day (15 Aug) is a holiday
}


def schedule_of_draft() -> dict:
    db.session.expire_all()
    return db.session.scalars(db.select(JobDraft)).one().data["schedule"]


def test_the_step_offers_the_shift_and_the_holiday_pickers(auth, client, demo):
    base = new_draft(auth, client)
    post_step(auth, base, "configuration", STEP_DATA["configuration"])
    page = client.get(f"{base}/schedule").text
    assert "If the date is not a business day" in page
    for label in ("Skip it", "Next business day", "Previous business day"):
        assert f">{label}</option>" in page
    assert "Next, but stay in the month" in page and "Previous, but stay in the month" in page
    assert '<option value="DE">Germany</option>' in page
    assert (
        'id="holiday_subdivision"' in page
        and "disabled" in page.split('id="holiday_subdivision"')[1].split(">")[0]
    )
    assert "<script>" not in page  # CSP: no inline scripts

    saved = post_step(auth, base, "schedule", SHIFTED, action="refresh")
    assert '<option value="BY">' in saved.text  # the region list of the chosen country
    post_step(auth, base, "schedule", SHIFTED)
    rule = schedule_of_draft()
    assert rule["shift"] == "preceding"
    assert rule["holidays"] == {"country": "DE", "subdivision": "SL"}


def test_once_and_occurrences_leave_the_fields_out(auth, client, demo):
    base = new_draft(auth, client)
    post_step(auth, base, "configuration", STEP_DATA["configuration"])
    post_step(auth, base, "schedule", {**SHIFTED, "occurrence": "1"})
    rule = schedule_of_draft()
    assert "shift" not in rule and rule["holidays"]["country"] == "DE"
    post_step(auth, base, "schedule", {**SHIFTED, "trigger": "once"})
    page = client.get(f"{base}/schedule").text
    assert "Public holidays" not in page
    assert "holidays" not in schedule_of_draft()


def test_an_unknown_country_or_region_is_an_error_beside_the_pickers(auth, client, demo):
    base = new_draft(auth, client)
    post_step(auth, base, "configuration", STEP_DATA["configuration"])
    post_step(auth, base, "schedule", STEP_DATA["schedule"])
    before = schedule_of_draft()
    for change, words in (
        ({"holiday_country": "Atlantis"}, "unknown country &#39;Atlantis&#39;"),
        ({"holiday_subdivision": "ZZ"}, "unknown subdivision &#39;ZZ&#39; of DE"),
    ):
        response = post_step(auth, base, "schedule", {**SHIFTED, **change})
        assert 'id="err-schedule-holidays"' in response.text
        assert words in response.text
        assert schedule_of_draft() == before  # nothing changed


def test_the_preview_marks_moved_fires_and_skipped_holidays(auth, client, demo):
    base = new_draft(auth, client)
    post_step(auth, base, "configuration", STEP_DATA["configuration"])
    moved = auth.post(f"{base}/schedule/preview", SHIFTED, page=f"{base}/schedule").text
    assert "On the 15th of every month at 18:00, or the business day before" in moved
    assert "Fri 14 Jun — moved from Sat 15 Jun" in moved  # 2030-06-15 is a Saturday
    assert "Fri 15 Aug" not in moved  # Assumption Day in Saarland, a Thursday in 2030
    assert "Wed 14 Aug — moved from Thu 15 Aug (Assumption Day)" in moved

    daily = {**SHIFTED, "trigger": "daily", "start_date": "2030-12-20", "holiday_subdivision": ""}
    skipped = auth.post(f"{base}/schedule/preview", daily, page=f"{base}/schedule").text
    assert "Wed 25 Dec — skipped: Christmas Day" in skipped
    assert "Thu 26 Dec — skipped: Second Day of Christmas" in skipped
    assert 'datetime="2030-12-24T18:00:00+01:00"' in skipped
    assert 'datetime="2030-12-25T18:00:00+01:00"' not in skipped


def test_shift_with_an_occurrence_is_ignored_so_its_picker_is_off(auth, client, demo):
    """#19 vs SCHEDULE.md: the contract says `shift` outside fixed dates is ignored (not an
    error), so the wizard turns the picker off once an occurrence is chosen and stores none."""
    base = new_draft(auth, client)
    post_step(auth, base, "configuration", STEP_DATA["configuration"])
    fixed = post_step(auth, base, "schedule", SHIFTED, action="refresh").text
    assert "disabled" not in fixed.split('id="shift"')[1].split(">")[0]
    with_occurrence = {**SHIFTED, "occurrence": "2"}
    refreshed = post_step(auth, base, "schedule", with_occurrence, action="refresh").text
    assert "disabled" in refreshed.split('id="shift"')[1].split(">")[0]
    assert "Not used with an occurrence" in refreshed
    post_step(auth, base, "schedule", with_occurrence)
    rule = schedule_of_draft()
    assert rule["occurrence"] == 2 and rule.get("shift") in (None, "none")


def test_a_shift_without_ticked_days_says_weekends_count(auth, client, demo):
    base = new_draft(auth, client)
    post_step(auth, base, "configuration", STEP_DATA["configuration"])
    no_days = {k: v for k, v in SHIFTED.items() if not k.startswith("day-")}
    hinted = auth.post(f"{base}/schedule/preview", no_days, page=f"{base}/schedule").text
    hint = hinted.split('id="weekend-hint"')[1].split("</span>")[0]
    assert 'hx-swap-oob="true"' in hint and "Saturday and Sunday count as business days" in hint
    # The rule itself is unchanged: 2030-06-15 is a Saturday, an allowed day, so it fires.
    assert 'datetime="2030-06-15T18:00:00+02:00"' in hinted
    ticked = auth.post(f"{base}/schedule/preview", SHIFTED, page=f"{base}/schedule").text
    assert "count as business days" not in ticked
    page = post_step(auth, base, "schedule", no_days, action="refresh").text
    assert "Saturday and Sunday count as business days" in page  # beside the field, too


def test_the_review_step_shows_the_schedule_with_its_notes(auth, client, demo):
    base = new_draft(auth, client)
    post_step(auth, base, "configuration", STEP_DATA["configuration"])
    post_step(auth, base, "schedule", SHIFTED)
    review = client.get(f"{base}/review").text
    section = review.split('id="review-schedule"')[1].split("</dd>")[0]
    assert "On the 15th of every month at 18:00, or the business day before" in section
    assert "Fri 14 Jun — moved from Sat 15 Jun" in section
    assert "Wed 14 Aug — moved from Thu 15 Aug (Assumption Day)" in section
    assert 'datetime="2030-06-14T18:00:00+02:00"' in section
