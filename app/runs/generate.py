"""generate_entry: render every report of one entry, store the PDFs, then hold or deliver."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import delete, null, select, update

from app import metrics, storage
from app.database import utcnow
from app.datasources.sql import QueryError
from app.errors import ValidationFailed
from app.extensions import db
from app.faults import pause_point
from app.filenames import with_extension
from app.models import Artifact, Entry
from app.placeholders import PlaceholderError, placeholder_values, substitute
from app.rendering.deadline import RenderDeadlineExceeded, render_deadline
from app.rendering.environment import TemplateRenderError
from app.rendering.narrative import Narrative
from app.rendering.report import (
    BindingError,
    SectionError,
    TableOptions,
    bind_parameters,
    render_report_outputs,
)
from app.rendering.tables import FORMATS, TableError
from app.runs.context import RunContext, run_context
from app.runs.lease import lease_until
from app.runs.outcome import finish_run_if_done, settle_entry
from app.runs.states import DeliveryStatus, EntryStatus, move_deliveries, move_entry

log = logging.getLogger(__name__)

# Problems in a template, its data or its bindings: the report fails, the entry goes on.
REPORT_ERRORS = (
    TemplateRenderError,
    QueryError,
    BindingError,
    SectionError,
    TableError,
    PlaceholderError,
    ValidationFailed,
)


def claim_for_generation(entry_id: int) -> Entry | None:
    """Take a queued entry for this worker; None if it is cancelled or someone else has it."""
    moved = move_entry(
        entry_id,
        EntryStatus.InProgress,
        from_=[EntryStatus.ParametersPrepared, EntryStatus.Queued],
        attempts=Entry.attempts + 1,
        lease_expires_at=lease_until(),
        stage="generate",
        error=None,
    )
    db.session.commit()
    if not moved:
        return None
    entry = db.session.get(Entry, entry_id)
    # A snapshot as claimed (every later change is an UPDATE statement): the commits that
    # follow do not expire it, so reading its row or id never queries it again.
    db.session.expunge(entry)
    return entry


def entry_values(ctx: RunContext, entry: Entry) -> dict[str, Any]:
    """Placeholder namespaces for one entry (shared with delivery)."""
    repeating = ctx.definition.repeating
    return placeholder_values(
        params=ctx.params,
        data=ctx.data,
        repeating_alias=repeating.alias if repeating else None,
        row=entry.row,
        shared=ctx.shared,
        extra={
            "run": {"id": ctx.run_id},
            "entry": {"id": entry.id, "seq": entry.seq},
            # Stored at generation: a delivery (or its retry) never asks the model again.
            "narrative": {"text": (entry.narrative or {}).get("text") or ""},
        },
    )


def template_context(ctx: RunContext, entry: Entry) -> dict[str, Any]:
    """What a report template sees besides its own data sources and `params`."""
    context: dict[str, Any] = {**ctx.shared, "data": ctx.data, "job_params": ctx.params}
    if (repeating := ctx.definition.repeating) is not None:
        context[repeating.alias] = entry.row or {}
    context["run"] = {"id": ctx.run_id}
    context["entry"] = {"id": entry.id, "seq": entry.seq}
    return context


@dataclass
class OutputFile:
    """One file made of a report: its format (pdf, csv, xlsx), name, content type, bytes."""

    format: str
    filename: str
    content_type: str
    content: bytes


@dataclass
class RenderedReport:
    """One report of one entry: its files (docs/OUTPUTS.md), or the error that prevented them."""

    position: int
    report_code: str
    filename: str
    files: list[OutputFile] = field(default_factory=list)
    error: str | None = None
    # e.g. characters drawn as .notdef boxes, ignored CSS: the report still counts. One
    # problem each, prefixed with the report's code.
    warnings: list[str] = field(default_factory=list)
    narrative: Narrative | None = None

    @property
    def pdf(self) -> bytes | None:
        """The PDF's bytes, None when it failed or was not asked for."""
        return next((f.content for f in self.files if f.format == "pdf"), None)


def entry_narrative(rendered: list[RenderedReport]) -> dict[str, Any] | None:
    """What an entry keeps of its reports' summaries: the text `{narrative.text}` stands for
    (the first report's that wrote one) and each attempt's sizes; None when none was asked."""
    attempts = [(r.report_code, r.narrative) for r in rendered if r.narrative is not None]
    if not attempts:
        return None
    text = next((n.text for _, n in attempts if n.text), "")
    return {"text": text, "reports": [n.record(code) for code, n in attempts]}


def render_reports(ctx: RunContext, entry: Any) -> list[RenderedReport]:
    """Render every report of an entry in its formats; a failing report does not stop the
    others."""
    values = entry_values(ctx, entry)
    context = template_context(ctx, entry)
    results = []
    for position, report in enumerate(ctx.definition.reports):
        template = ctx.templates[report.template]
        result = RenderedReport(position, template["code"], f"{template['code']}.pdf")
        try:
            bindings = {name: b.model_dump() for name, b in report.bindings.items()}
            params = bind_parameters(bindings, template, ctx.params, entry.row)
            tables = TableOptions(report.table_sections, report.csv.delimiter, report.csv.bom)
            rendered = render_report_outputs(
                template,
                ctx.sources,
                params,
                context,
                ctx.binds,
                ctx.workspace_id,
                report.formats,
                tables,
            )
            result.warnings = [f"{template['code']}: {w}" for w in rendered.warnings]
            result.narrative = rendered.narrative
            if rendered.narrative is not None and rendered.narrative.warning:
                result.warnings.append(f"{template['code']}: {rendered.narrative.warning}")
            name_values = {**values, "report": {"code": template["code"], "name": template["name"]}}
            name = substitute(report.filename, name_values)
            for fmt, content in rendered.files.items():
                extension, content_type = FORMATS[fmt]
                filename = with_extension(name, extension, default=template["code"])
                result.files.append(OutputFile(fmt, filename, content_type, content))
            result.filename = result.files[0].filename
        except REPORT_ERRORS as exc:
            result.files, result.error, result.warnings = [], str(exc), []
        except Exception as exc:  # a WeasyPrint or data bug must not take other reports down
            log.exception("report %s of entry %s failed", template["code"], entry.id)
            result.files, result.warnings = [], []
            result.error = f"rendering failed: {type(exc).__name__}: {exc}"
        results.append(result)
    return results


def _store(
    ctx: RunContext, entry: Entry, rendered: list[RenderedReport]
) -> tuple[list[Artifact], dict[str, bytes]]:
    """One artifact per file of each report (a failed report: one failed artifact),
    numbered in order: report by report, each report's formats as the job lists them; and
    the bytes stored, by storage key."""
    artifacts: list[Artifact] = []
    contents: dict[str, bytes] = {}
    folder = f"ws{ctx.workspace_id}/run{ctx.run_id}/entry{entry.id}"
    for report in rendered:
        if not report.files:
            artifact = Artifact(
                entry_id=entry.id,
                position=len(artifacts),
                report_code=report.report_code,
                filename=report.filename,
                status="failed",
                error=report.error,
            )
            artifacts.append(artifact)
            continue
        for file in report.files:
            artifact = Artifact(
                entry_id=entry.id,
                position=len(artifacts),
                report_code=report.report_code,
                filename=file.filename,
                content_type=file.content_type,
                # From ids only: the file name (from row values) is kept on the row.
                storage_key=f"{folder}/{len(artifacts)}{FORMATS[file.format][0]}",
                status="generated",
            )
            artifact.size = storage.save(artifact.storage_key, file.content)
            contents[artifact.storage_key] = file.content
            artifacts.append(artifact)
    return artifacts, contents


def generate_entry(entry_id: int) -> dict[str, bytes] | None:
    """Render an entry's reports; then hold it for review, end it, or move it to delivery.

    Returns the files of an entry moved to delivery (their bytes by storage key), for the
    caller to deliver in the same job (`workers.tasks.generate_entry`) without reading them
    back from storage; None when there is nothing to deliver (held, ended, cancelled, or not
    this worker's). An entry moved to delivery that is then not delivered (the process dies)
    keeps its lease only until the heartbeat stops: the clock's sweep queues its delivery.
    """
    pause_point("generate.before_claim")
    entry = claim_for_generation(entry_id)
    if entry is None:
        return None
    ctx = run_context(entry.run_id)
    if entry.attempts > current_app.config["MAX_ENTRY_ATTEMPTS"]:
        _give_up(entry, f"gave up after {entry.attempts - 1} interrupted attempts")
        return None
    pause_point("generate")
    # Render with no transaction open: SQLite would hold its write lock through the render.
    seconds = current_app.config["RENDER_TIMEOUT_SECONDS"]
    try:
        with render_deadline(seconds), metrics.RENDER_SECONDS.time():
            rendered = render_reports(ctx, entry)
    except RenderDeadlineExceeded:
        # Stopped wherever it was: the worker is free again, the entry ends saying why.
        db.session.rollback()
        _give_up(entry, f"rendering took longer than {seconds} s")
        return None
    if not _still_in_progress(entry.id):
        return None  # cancelled while it rendered: nothing is stored, held or delivered
    artifacts, contents = _store(ctx, entry, rendered)
    pause_point("generate.stored")  # files in storage, their artifacts not yet committed
    # A retried entry starts from scratch: drop what an interrupted attempt stored.
    db.session.execute(delete(Artifact).where(Artifact.entry_id == entry.id))
    db.session.add_all(artifacts)
    # Warnings never change the entry's outcome: the PDF exists, a person should look at it.
    warnings = [warning for report in rendered for warning in report.warnings]
    # SQL NULL rather than JSON null when there are none, so "has warnings" is IS NOT NULL.
    db.session.execute(
        update(Entry)
        .where(Entry.id == entry.id)
        .values(warnings=warnings or null(), narrative=entry_narrative(rendered) or null())
    )
    if not any(a.status == "generated" for a in artifacts):
        _skip_deliveries(entry.id, "not sent: no report was generated")
        settle_entry(entry.id, entry.run_id)
        db.session.commit()
        return None
    if ctx.definition.hold_for_review:
        move_entry(entry.id, EntryStatus.PendingReview, from_=[EntryStatus.InProgress])
        finish_run_if_done(entry.run_id)
        db.session.commit()
        return None
    if not ctx.definition.deliveries:
        settle_entry(entry.id, entry.run_id)
        db.session.commit()
        return None
    to_delivery = db.session.execute(
        update(Entry)
        .where(Entry.id == entry.id, Entry.status == EntryStatus.InProgress)
        .values(stage="deliver", lease_expires_at=lease_until(), updated_at=utcnow())
    )
    db.session.commit()
    pause_point("generate.delivery_stage")  # in its delivery stage, not yet delivered
    return contents if to_delivery.rowcount == 1 else None  # None: cancelled meanwhile


def _still_in_progress(entry_id: int) -> bool:
    """Whether the entry is still this worker's to finish (not cancelled with its run); read
    in a new transaction, after the render. Ends the one it starts."""
    db.session.commit()
    status = db.session.scalar(select(Entry.status).where(Entry.id == entry_id))
    db.session.commit()
    return status == EntryStatus.InProgress


def _skip_deliveries(entry_id: int, reason: str) -> None:
    move_deliveries(
        DeliveryStatus.skipped,
        entry_ids=[entry_id],
        from_=[DeliveryStatus.pending],
        last_error=reason,
    )


def _give_up(entry: Entry, reason: str) -> None:
    _skip_deliveries(entry.id, f"not sent: {reason}")
    move_entry(entry.id, EntryStatus.GenerationFailed, from_=[EntryStatus.InProgress], error=reason)
    finish_run_if_done(entry.run_id)
    db.session.commit()
