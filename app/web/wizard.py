"""The six-step job wizard, working on a draft that Save commits."""

from __future__ import annotations

import copy
from typing import Any
from zoneinfo import available_timezones

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app import storage
from app.access import get_job
from app.database import utcnow
from app.delivery.dryrun import dry_run, send_test_to_me
from app.errors import NotFound, ValidationFailed
from app.jobs.checks import known_placeholders
from app.jobs.draft_files import dry_run_key, save_dry_run_files
from app.jobs.drafts import (
    STEPS,
    commit_draft,
    discard_draft,
    draft_errors,
    get_draft,
    new_job_drafts,
    start_draft,
    step_of,
    suggest_code,
    update_step,
)
from app.jobs.samples import samples
from app.jobs.schedule import draft_schedule_summary
from app.models import Connection, DataSource, JobDraft, ReportTemplate, Role, Workspace
from app.outbound.errors import DeliveryError
from app.scheduling import (
    ScheduleRuleError,
    country_names,
    describe,
    empty_preview_reason,
    explain_preview,
    line_note,
    parse_rule,
    short_date,
    subdivision_names,
)
from app.web import wizard_forms as forms
from app.web.helpers import is_fragment_request, page_or_fragment, workspace_for
from app.workspace_items import items_of

bp = Blueprint("wizard", __name__, url_prefix="/w/<ws>/jobs")
ZONES = sorted(available_timezones() - {"localtime"})
# "If the date is not a business day" (SCHEDULE.md `shift`), in the wizard's words.
SHIFT_CHOICES = (
    ("none", "Skip it"),
    ("following", "Next business day"),
    ("preceding", "Previous business day"),
    ("modified_following", "Next, but stay in the month"),
    ("modified_preceding", "Previous, but stay in the month"),
)
RELATIVE_DATES = (
    "today",
    "yesterday",
    "start_of_month",
    "start_of_previous_month",
    "end_of_previous_month",
    "start_of_year",
)


def _draft(ws: str, draft_id: int) -> tuple[Workspace, JobDraft]:
    workspace = workspace_for(ws, Role.editor)
    return workspace, get_draft(workspace, current_user, draft_id)


def _codes(model: Any, workspace: Workspace, **filters: Any) -> list[Any]:
    return items_of(model, workspace.id, order_by="code", **filters)


def _step_context(workspace: Workspace, draft: JobDraft, step: str, data: dict) -> dict:
    if step == "data-sources":
        return {"sources": _codes(DataSource, workspace), "samples": samples(workspace.id, data)}
    if step == "reports":
        repeating = next((s for s in samples(workspace.id, data, 1) if s.repeating), None)
        return {
            "templates": {t.code: t for t in _codes(ReportTemplate, workspace)},
            "columns": repeating.columns if repeating else [],
        }
    if step == "schedule":
        holidays = (data.get("schedule") or {}).get("holidays") or {}
        countries = sorted(country_names().items(), key=lambda item: item[1])
        regions = subdivision_names(holidays.get("country") or "")
        return {
            "zones": ZONES,
            "weekdays": forms.WEEKDAYS,
            "countries": countries,
            "regions": sorted(regions.items(), key=lambda item: item[1]),
            "shifts": SHIFT_CHOICES,
        }
    if step == "deliveries":
        known = known_placeholders(workspace.id, data)
        return {
            "connections": _codes(Connection, workspace, kind="smtp"),
            "channel_connections": {
                k: _codes(Connection, workspace, kind=k)
                for k in ("webhook", "slack", "teams", "google")
            },
            "placeholders": sorted(
                f"{{{ns}.{key}}}" for ns, keys in known.items() if keys for key in keys
            ),
        }
    return {}


def _render_step(
    workspace: Workspace, draft: JobDraft, step: str, data: dict, errors: dict, status: int = 200
) -> Response:
    # A step shown by a GET (a link, or the redirect after a saved step) is where the
    # address bar must point; a POST re-shows the step at its own URL.
    here = request.script_root + request.path if request.method == "GET" else None
    return page_or_fragment(
        "wizard/step.html",
        "wizard/_form.html",
        status,
        push_url=here,
        workspace=workspace,
        draft=draft,
        step=step,
        steps=STEPS,
        data=data,
        errors=errors,
        # Shown again by a POST (a row added or removed, or errors): not saved in the draft.
        unsaved=request.method == "POST",
        relative_dates=RELATIVE_DATES,
        **_step_context(workspace, draft, step, data),
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new(ws: str) -> Response | str:
    """New job: offers the user's unfinished new-job drafts first ("Continue editing");
    a POST (or no such draft) opens the wizard on a blank draft."""
    workspace = workspace_for(ws, Role.editor)
    if request.method == "GET":
        unfinished = new_job_drafts(workspace, current_user)
        if unfinished:
            return render_template("wizard/new.html", workspace=workspace, drafts=unfinished)
    draft = start_draft(workspace, current_user)
    target = url_for("wizard.step", ws=ws, draft_id=draft.id, step="configuration")
    return redirect(target, 303 if request.method == "POST" else 302)


@bp.post("/<code>/edit")
@login_required
def edit(ws: str, code: str) -> Response:
    workspace = workspace_for(ws, Role.editor)
    draft = start_draft(
        workspace, current_user, get_job(workspace, code, current_user, Role.editor)
    )
    return redirect(url_for("wizard.step", ws=ws, draft_id=draft.id, step="configuration"), 303)


@bp.route("/drafts/<int:draft_id>/<step>", methods=["GET", "POST"])
@login_required
def step(ws: str, draft_id: int, step: str) -> Response:
    if step not in STEPS:
        raise NotFound("no such wizard step")
    workspace, draft = _draft(ws, draft_id)
    if step != "configuration" and "configuration" not in draft.valid_steps:
        return redirect(url_for("wizard.step", ws=ws, draft_id=draft.id, step="configuration"))
    if request.method == "GET":
        return _render_step(workspace, draft, step, draft.data, {})
    values = forms.PARSERS[step](request.form)
    if step == "configuration" and not values["code"]:
        values["code"] = suggest_code(values["name"])
    data = {**draft.data, **values}
    action = request.form.get("action", "save")
    if action != "save":  # add / remove / reorder / refresh: show the form again, store nothing
        if step in forms.BLANK_ROWS:
            key, blank = forms.BLANK_ROWS[step]
            data[key] = forms.apply_row_action(data[key], action, copy.deepcopy(blank))
        return _render_step(workspace, draft, step, data, {})
    try:
        update_step(draft, step, values)
    except ValidationFailed as exc:
        return _render_step(workspace, draft, step, data, exc.errors, 422)
    names = list(STEPS)
    following = names[names.index(step) + 1] if step != names[-1] else None
    target = (
        url_for("wizard.step", ws=ws, draft_id=draft.id, step=following)
        if following
        else url_for("wizard.review", ws=ws, draft_id=draft.id)
    )
    return redirect(target, 303)


@bp.post("/drafts/<int:draft_id>/schedule/preview")
@login_required
def schedule_preview(ws: str, draft_id: int) -> Response:
    """The live preview of the Schedule step, from the fields as they are typed."""
    _draft(ws, draft_id)
    rule_data = forms.schedule(request.form)["schedule"]
    context: dict[str, Any] = {"fires": [], "error": None, "summary": None, "reason": None}
    context.update(lines=[], line_note=line_note, short_date=short_date)
    # Correct per SCHEDULE.md but surprising: with no days ticked, weekends are business days.
    context["shift_field"] = bool(rule_data and rule_data["trigger"] in ("monthly", "yearly"))
    context["weekend_hint"] = bool(
        rule_data and (rule_data.get("shift") or "none") != "none" and not rule_data.get("days")
    )
    if rule_data is None:
        context["error"] = "Set a start date to see the next fire times."
    else:
        try:
            rule = parse_rule(rule_data)
            context["summary"] = describe(rule)
            context["lines"] = explain_preview(rule, utcnow(), 10)
            context["fires"] = [line.instant for line in context["lines"] if line.instant]
            if not context["fires"]:
                context["reason"] = empty_preview_reason(rule, utcnow())
        except ScheduleRuleError as exc:
            context["error"] = str(exc)
    return page_or_fragment(
        "wizard/_schedule_preview.html", "wizard/_schedule_preview.html", **context
    )


def _review(workspace: Workspace, draft: JobDraft, status: int = 200, **extra: Any) -> Response:
    errors = extra.pop("errors", None) or draft_errors(draft)
    return page_or_fragment(
        "wizard/review.html",
        "wizard/review.html",
        status,
        push_url=request.script_root + request.path if request.method == "GET" else None,
        workspace=workspace,
        draft=draft,
        steps=STEPS,
        step="review",
        data=draft.data,
        errors=errors,
        error_steps={field: step_of(field) for field in errors},
        code_changed=draft.job is not None and draft.data.get("code") != draft.job.code,
        schedule=draft_schedule_summary(draft.data),
        **extra,
    )


@bp.get("/drafts/<int:draft_id>/review")
@login_required
def review(ws: str, draft_id: int) -> Response:
    workspace, draft = _draft(ws, draft_id)
    return _review(workspace, draft)


@bp.post("/drafts/<int:draft_id>/dry-run")
@login_required
def dry_run_view(ws: str, draft_id: int) -> Response:
    workspace, draft = _draft(ws, draft_id)
    try:
        result = dry_run(workspace, current_user, draft.data)
    except ValidationFailed as exc:
        return _review(workspace, draft, 422, errors=exc.errors)
    # Each file the first entry would carry, to look at.
    save_dry_run_files(
        draft, {(r.position, f.format): f.content for r in result.reports for f in r.files}
    )
    return page_or_fragment(
        "wizard/review.html",
        "wizard/_dry_run.html",
        workspace=workspace,
        draft=draft,
        steps=STEPS,
        step="review",
        data=draft.data,
        errors={},
        error_steps={},
        code_changed=False,
        schedule=draft_schedule_summary(draft.data),
        result=result,
    )


@bp.post("/drafts/<int:draft_id>/send-test")
@login_required
def send_test(ws: str, draft_id: int) -> Response:
    """ "Send a test to me": the first entry's real email, to the signed-in user only."""
    workspace, draft = _draft(ws, draft_id)
    try:
        outcome = {"test_sent_to": send_test_to_me(workspace, current_user, draft.data)}
    except (ValidationFailed, DeliveryError) as exc:
        outcome = {"test_error": str(exc)}
    if is_fragment_request():
        return page_or_fragment("wizard/review.html", "wizard/_send_test.html", **outcome)
    return _review(workspace, draft, 422 if "test_error" in outcome else 200, **outcome)


@bp.get("/drafts/<int:draft_id>/dry-run/<int:position>.pdf")
@login_required
def dry_run_pdf(ws: str, draft_id: int, position: int) -> Response:
    _, draft = _draft(ws, draft_id)
    try:
        return storage.send_stored(dry_run_key(draft.id, position), f"{position}.pdf", None)
    except NotFound:
        raise NotFound("run the dry run first") from None


@bp.get("/drafts/<int:draft_id>/dry-run/<int:position>/<any(csv, xlsx):fmt>/<path:filename>")
@login_required
def dry_run_file(ws: str, draft_id: int, position: int, fmt: str, filename: str) -> Response:
    """The CSV or XLSX file of report `position` of the last dry run, named `filename` (the
    name the run would give it; only the download name, the stored key is fixed)."""
    _, draft = _draft(ws, draft_id)
    key = dry_run_key(draft.id, position, fmt)
    try:
        return storage.send_stored(key, filename, None, as_attachment=True)
    except NotFound:
        raise NotFound("run the dry run first") from None


@bp.post("/drafts/<int:draft_id>/save")
@login_required
def save(ws: str, draft_id: int) -> Response:
    workspace, draft = _draft(ws, draft_id)
    try:
        job = commit_draft(draft, current_user)
    except ValidationFailed as exc:
        return _review(workspace, draft, 422, errors=exc.errors)
    return redirect(url_for("jobs.detail", ws=ws, code=job.code), 303)


@bp.post("/drafts/<int:draft_id>/discard")
@login_required
def discard(ws: str, draft_id: int) -> Response:
    _, draft = _draft(ws, draft_id)
    job = draft.job
    discard_draft(draft)
    flash(f"Draft “{draft.data.get('name') or 'Unnamed job'}” discarded.", "success")
    if job is not None:
        return redirect(url_for("jobs.detail", ws=ws, code=job.code), 303)
    return redirect(url_for("jobs.index", ws=ws), 303)
