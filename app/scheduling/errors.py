"""The one error of the schedule language, naming the field it is about."""

from __future__ import annotations


class ScheduleRuleError(ValueError):
    """An invalid schedule rule, naming the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
