"""The files a draft's dry run leaves in artifact storage,
`drafts/<draft id>/<position>.<format>` (pdf, csv, xlsx: each file the first entry would carry).

They are kept while the draft is edited (the review step links them), deleted when the draft
is saved as a job or discarded (`app.jobs.drafts`), and otherwise — a draft abandoned — by
the clock's sweep of temporary files (`app.review.document.delete_expired_files`) once
HERALD_TEMPORARY_FILE_HOURS have passed: each file is registered as a TemporaryFile of kind
"dry-run" that expires then, so no store has to be listed to find them.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from app import storage
from app.database import utcnow
from app.extensions import db
from app.models import JobDraft, TemporaryFile

KIND = "dry-run"
log = logging.getLogger(__name__)


def dry_run_key(draft_id: int, position: int, fmt: str = "pdf") -> str:
    """The storage key of the dry-run file in format `fmt` (pdf, csv, xlsx) of report
    `position` (0-based) of draft `draft_id`; from ids and a known format only."""
    return f"drafts/{int(draft_id)}/{int(position)}.{fmt}"


def save_dry_run_files(draft: JobDraft, files: dict[tuple[int, str], bytes]) -> None:
    """Store a dry run's files ((report position, format) → bytes) for `draft`, replacing
    those of its earlier dry run (one whose report is gone or failed now is deleted). Each
    expires after TEMPORARY_FILE_HOURS (hours). Commits.

    Raises OSError (StorageError) when the store cannot be written; the files saved before
    the failure are then left to the sweep."""
    earlier = dry_run_files(draft.id)
    expires_at = utcnow() + timedelta(hours=current_app.config["TEMPORARY_FILE_HOURS"])
    keys = set()
    for (position, fmt), content in sorted(files.items()):
        key = dry_run_key(draft.id, position, fmt)
        size = storage.save(key, content)
        keys.add(key)
        db.session.add(
            TemporaryFile(
                id=str(uuid.uuid4()),
                workspace_id=draft.workspace_id,
                kind=KIND,
                status="ready",
                spec={"draft_id": draft.id, "position": position, "format": fmt},
                filename=f"{position}.{fmt}",
                storage_key=key,
                size=size,
                created_by_id=draft.user_id,
                expires_at=expires_at,
            )
        )
    for file in earlier:
        if file.storage_key not in keys:
            storage.delete(file.storage_key)
        db.session.delete(file)
    db.session.commit()


def delete_dry_run_files(draft_id: int) -> int:
    """Delete the dry-run files of draft `draft_id` from storage and their records; return how
    many. Commits.

    Called once the draft is saved or discarded (committed): a store that cannot be reached
    then is logged, not raised — the draft is gone either way, and the records left behind
    make the sweep delete the files when they expire."""
    deleted = 0
    try:
        for file in dry_run_files(draft_id):
            storage.delete(file.storage_key)
            db.session.delete(file)
            deleted += 1
    except OSError:
        log.warning("dry-run files of draft %s left for the sweep: storage failed", draft_id)
    db.session.commit()
    return deleted


def dry_run_files(draft_id: int) -> list[TemporaryFile]:
    """The records of draft `draft_id`'s dry-run files (TemporaryFile rows of kind "dry-run")."""
    return list(
        db.session.scalars(
            select(TemporaryFile)
            .where(
                TemporaryFile.kind == KIND,
                # Keys are built from ids only (no LIKE wildcard can come from a person).
                TemporaryFile.storage_key.like(f"drafts/{int(draft_id)}/%"),
            )
            .order_by(TemporaryFile.storage_key)
        )
    )
