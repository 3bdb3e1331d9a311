"""API handlers for generated reports by id (seed 003) and the latest reports of a job."""

from __future__ import annotations

from typing import Any

from app.api.blueprint import bp
from app.api.common import ANY_INT, caller, job_of, list_args, listed
from app.api.serializers import report_by_id
from app.runs.queries import REPORT_SORTS, report_of, reports_window


@bp.get(f"/ws/<ws>/reports/<{ANY_INT}:report_id>")
def get_report(ws: str, report_id: int) -> Any:
    found = caller(ws, "jobs:read")
    return report_by_id(*report_of(found.workspace_id, report_id), found.workspace_code)


@bp.get("/ws/<ws>/jobs/<job>/reports")
def job_reports(ws: str, job: str) -> Any:
    found_ws, found = job_of(ws, job)
    reports = reports_window(found_ws.id, found.id, list_args(REPORT_SORTS))
    return listed(reports, [report_by_id(*row, found_ws.code) for row in reports.items])
