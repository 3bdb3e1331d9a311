"""The consolidated review document: every selected entry's PDFs in one file, with an index."""

from __future__ import annotations

import io
import uuid
from collections.abc import Collection
from datetime import datetime, timedelta

from flask import current_app
from pypdf import PdfReader, PdfWriter
from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from app import storage
from app.access import require
from app.database import utcnow
from app.errors import Conflict, NotFound
from app.extensions import db
from app.faults import pause_point
from app.models import Entry, Role, Run, TemporaryFile, User, Workspace
from app.rendering.pdf import html_to_pdf
from app.rendering.tables import PDF_TYPE
from app.runs.dispatch import QueueUnavailable, queue_review_document

ROW_SUMMARY_FIELDS = 3


def request_review_document(
    workspace: Workspace,
    user: User | None,
    entry_ids: Collection[int],
    title: str,
    *,
    run_id: int | None = None,
) -> TemporaryFile:
    """Queue the building of a review document; the file says when it is ready. `run_id`
    names the run page it was asked from, so the result page links back there."""
    if user is not None:
        require(user, workspace, Role.editor)
    ids = db.session.scalars(
        select(Entry.id)
        .join(Run, Run.id == Entry.run_id)
        .where(Entry.id.in_(list(entry_ids)), Run.workspace_id == workspace.id)
        .order_by(Entry.run_id, Entry.seq)
    ).all()
    file = TemporaryFile(
        id=str(uuid.uuid4()),
        workspace_id=workspace.id,
        kind="review-document",
        spec={"entry_ids": list(ids), "title": title, "run_id": run_id},
        filename="review-document.pdf",
        created_by_id=user.id if user else None,
        expires_at=utcnow() + timedelta(hours=current_app.config["TEMPORARY_FILE_HOURS"]),
    )
    db.session.add(file)
    db.session.commit()
    try:
        queue_review_document(file.id)
    except QueueUnavailable:
        # Nothing would ever build it: take the request back, the caller answers 503.
        db.session.delete(file)
        db.session.commit()
        raise
    return file


def temporary_file(workspace_id: int, file_id: str, *, ready: bool = False) -> TemporaryFile:
    """A temporary file of the workspace (the page and API both read it this way).

    Raises NotFound when there is none (never made, or deleted after the retention window);
    with `ready`, for a download, Conflict while it is still pending or has failed."""
    file = db.session.get(TemporaryFile, file_id)
    # Only review documents are handed out by id (a draft's dry-run PDFs are its own).
    if file is None or file.workspace_id != workspace_id or file.kind != "review-document":
        raise NotFound("temporary file not found or expired")
    if ready and (file.status != "ready" or not file.storage_key):
        raise Conflict(f"the file is {file.status}, not ready")
    return file


def row_summary(row: dict | None) -> str:
    if not row:
        return "single entry"
    return ", ".join(f"{k}: {v}" for k, v in list(row.items())[:ROW_SUMMARY_FIELDS])


def build_review_document(file_id: str) -> None:
    """Merge the entries' PDFs behind a generated index page, with a bookmark per entry."""
    file = db.session.get(TemporaryFile, file_id)
    if file is None or file.status != "pending":
        return
    pause_point("review_document")
    try:
        content, pages = _build(file)
    except Exception as exc:  # recorded for the person waiting on the status page
        file.status, file.error = "failed", f"{type(exc).__name__}: {exc}"
        db.session.commit()
        raise
    file.storage_key = f"ws{file.workspace_id}/files/{file.id}.pdf"
    file.size = storage.save(file.storage_key, content)
    file.pages, file.status = pages, "ready"
    db.session.commit()


def _build(file: TemporaryFile) -> tuple[bytes, int]:
    entries = db.session.scalars(
        select(Entry)
        .where(Entry.id.in_(file.spec["entry_ids"]))
        .options(selectinload(Entry.artifacts), selectinload(Entry.run).selectinload(Run.job))
        .order_by(Entry.run_id, Entry.seq)
    ).all()
    # The PDFs are stitched; the other files (CSV, XLSX) are listed by name in the index.
    readers = [
        (
            entry,
            [
                (a, PdfReader(io.BytesIO(storage.load(a.storage_key))))
                for a in entry.artifacts
                if a.storage_key and a.content_type == PDF_TYPE
            ],
        )
        for entry in entries
    ]
    index_pdf = _index(file, readers, first_page={})
    index_pages = len(PdfReader(io.BytesIO(index_pdf)).pages)
    first_page, page = {}, index_pages + 1
    for entry, reports in readers:
        first_page[entry.id] = page
        page += sum(len(reader.pages) for _, reader in reports)
    # Rendered again with the page numbers; the index keeps its length (one line per entry).
    index_pdf = _index(file, readers, first_page)
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(index_pdf)), import_outline=False)
    writer.add_outline_item("Index", 0)
    for entry, reports in readers:
        parent = None
        for artifact, reader in reports:
            start = len(writer.pages)
            writer.append(reader, import_outline=False)
            if parent is None:
                parent = writer.add_outline_item(
                    f"#{entry.seq} {row_summary(entry.row)}"[:120], start
                )
            writer.add_outline_item(artifact.filename, start, parent=parent)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue(), len(writer.pages)


def _index(file: TemporaryFile, readers: list, first_page: dict[int, int]) -> bytes:
    # Rendered outside any request: straight from the environment, without context processors.
    html = current_app.jinja_env.get_template("review/document_index.html").render(
        title=file.spec.get("title", "Review document"),
        created_at=file.created_at,
        entries=[
            (entry, row_summary(entry.row), reports, _other_files(entry))
            for entry, reports in readers
        ],
        first_page=first_page,
    )
    return html_to_pdf(html, "", file.workspace_id).data


def _other_files(entry: Entry) -> list[str]:
    """Names of the entry's generated files that are not PDFs (CSV, XLSX)."""
    return [a.filename for a in entry.artifacts if a.storage_key and a.content_type != PDF_TYPE]


def delete_expired_files(now: datetime | None = None) -> int:
    """Remove temporary files past their retention window (TEMPORARY_FILE_HOURS), from
    storage and the database: review documents, and the dry-run PDFs of abandoned drafts
    (`app.jobs.draft_files`). Returns how many."""
    now = now or utcnow()
    expired = db.session.scalars(select(TemporaryFile).where(TemporaryFile.expires_at <= now)).all()
    for file in expired:
        if file.storage_key:
            storage.delete(file.storage_key)
    db.session.execute(delete(TemporaryFile).where(TemporaryFile.id.in_([f.id for f in expired])))
    db.session.commit()
    return len(expired)
