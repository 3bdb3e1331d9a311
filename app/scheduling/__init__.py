"""Schedule rules: validation, description, fire-time computation (no Flask here)."""

from app.scheduling.calendars import country_names, subdivision_names
from app.scheduling.cron import CronError, CronSpec, parse_cron
from app.scheduling.describe import describe
from app.scheduling.diagnose import empty_preview_reason
from app.scheduling.engine import (
    HORIZON_YEARS,
    fires_between,
    format_instant,
    next_fire_after,
    preview,
)
from app.scheduling.explain import PreviewLine, explain_preview, line_note, short_date
from app.scheduling.rule import ScheduleRule, ScheduleRuleError, parse_rule

__all__ = [
    "HORIZON_YEARS",
    "PreviewLine",
    "CronError",
    "CronSpec",
    "ScheduleRule",
    "ScheduleRuleError",
    "country_names",
    "describe",
    "empty_preview_reason",
    "explain_preview",
    "fires_between",
    "format_instant",
    "line_note",
    "next_fire_after",
    "parse_cron",
    "parse_rule",
    "preview",
    "short_date",
    "subdivision_names",
]
