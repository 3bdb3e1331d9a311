"""Schedule rules: validation, description, fire-time computation (no Flask here)."""

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
from app.scheduling.rule import ScheduleRule, ScheduleRuleError, parse_rule

__all__ = [
    "HORIZON_YEARS",
    "CronError",
    "CronSpec",
    "ScheduleRule",
    "ScheduleRuleError",
    "describe",
    "empty_preview_reason",
    "fires_between",
    "format_instant",
    "next_fire_after",
    "parse_cron",
    "parse_rule",
    "preview",
]
