"""API handler for the review queue: entries awaiting approval across the workspace."""

from __future__ import annotations

from typing import Any

from flask import g

from app.api.blueprint import bp
from app.api.common import int_arg, list_args, listed, text_arg, workspace
from app.api.serializers import review_item
from app.review.queue import REVIEW_SORTS, ReviewFilter, review_window


@bp.get("/ws/<ws>/review")
def review_queue(ws: str) -> Any:
    found_ws = workspace(ws, "jobs:read")
    wanted = list_args(REVIEW_SORTS)
    filters = ReviewFilter(text_arg("job"), int_arg("jobRunId", 0, 1, 2**31 - 1) or None)
    found = review_window(found_ws, g.api_token.user, filters, wanted)
    return listed(found, [review_item(entry, found_ws.code) for entry in found.items])
