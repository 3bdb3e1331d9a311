"""The one outcome vocabulary of runs on pages: the words of `app.runs.outcome.run_outcome`
(also the API's and the job's `last_run_status`), each with one label and one badge."""

from __future__ import annotations

from typing import Any

OUTCOME_LABELS = {
    "pending": "pending",
    "preparing": "preparing",
    "running": "running",
    "completed": "completed",
    "completed_with_errors": "completed with errors",
    "pending_review": "waiting for review",
    "failed": "failed",
    "cancelled": "cancelled",
}


def outcome_label(word: str | None) -> str:
    """How an outcome word reads on a page ("completed_with_errors" → "completed with errors");
    an unknown word is shown with its underscores as spaces."""
    if not word:
        return ""
    return OUTCOME_LABELS.get(word, word.replace("_", " "))


def run_duration(run: Any) -> str:
    """How long a run took, from its start (or creation) to its end, as "1 h 2 min",
    "3 min 4 s" or "5 s"; "" while it has not ended."""
    if run.finished_at is None:
        return ""
    began = run.started_at or run.created_at
    seconds = max(int((run.finished_at - began).total_seconds()), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {seconds} s"
    return f"{seconds} s"
