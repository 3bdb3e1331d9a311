"""Downloads through signed links (no login): the PDF links in chat messages and webhooks."""

from __future__ import annotations

from flask import Blueprint, Response

from app import storage
from app.errors import NotFound
from app.runs.links import artifact_from_token
from app.runs.queries import stored_artifact

bp = Blueprint("links", __name__, url_prefix="/links")


@bp.get("/<token>")
def artifact(token: str) -> Response:
    artifact_id = artifact_from_token(token)
    if not artifact_id:
        raise NotFound("this link is invalid or has expired")
    found = stored_artifact(artifact_id, missing="this link is invalid or has expired")
    return storage.send_stored(found.storage_key, found.filename, found.content_type)
