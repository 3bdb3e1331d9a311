"""API handlers for temporary files (review documents): status, then download once ready."""

from __future__ import annotations

from typing import Any

from app import storage
from app.api.blueprint import bp
from app.api.common import workspace
from app.api.serializers import temporary_file_out
from app.review.document import temporary_file as find_temporary_file


@bp.get("/ws/<ws>/temporary-files/<file_id>")
def temporary_file(ws: str, file_id: str) -> Any:
    found_ws = workspace(ws, "jobs:read")
    return temporary_file_out(find_temporary_file(found_ws.id, file_id), found_ws.code)


@bp.get("/ws/<ws>/temporary-files/<file_id>/download")
def temporary_file_download(ws: str, file_id: str) -> Any:
    file = find_temporary_file(workspace(ws, "jobs:read").id, file_id, ready=True)
    return storage.send_stored(file.storage_key, file.filename, "application/pdf")
