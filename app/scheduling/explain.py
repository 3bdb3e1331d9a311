"""Why the next fires are where they are: moved by a shift, or a holiday left out.

The wizard's live preview, the job page and the API's fire times show each fire with the
fixed date it was moved from (and the holiday that moved it), and each date the rule
would have fired on but for a public holiday (SCHEDULE.md, "Business days").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from app.scheduling.business import SEARCH_DAYS, fire_date, selected_dates
from app.scheduling.calendars import holiday_name
from app.scheduling.engine import preview
from app.scheduling.rule import ScheduleRule

# Base-rule fires looked at for skipped holidays beyond the real ones (an hourly rule
# has up to 24 a day).
_EXTRA = 100


@dataclass(frozen=True)
class PreviewLine:
    """One preview line: a fire (`instant`), or a skipped holiday (`instant` None).

    `day` is the local date; `moved_from` the fixed date a shifted fire was moved from;
    `holiday` the name of the holiday that moved or removed it (None for a weekend).
    """

    day: date
    instant: datetime | None
    moved_from: date | None = None
    holiday: str | None = None


def explain_preview(rule: ScheduleRule, after: datetime, count: int) -> list[PreviewLine]:
    """`preview(rule, after, count)` as PreviewLines, with skipped holidays in between.

    Skipped holidays are listed up to the last fire (all of them found when fewer than
    `count` fires exist). Raises ValueError as `preview` does.
    """
    fires = preview(rule, after, count)
    zone = rule.zone
    lines = [_fire_line(rule, fire, fire.astimezone(zone).date()) for fire in fires]
    if rule.holidays is not None and rule.shift == "none":
        last = fires[-1] if len(fires) == count and fires else None
        lines += _skipped(rule, after, count, last)
    return sorted(lines, key=lambda line: (line.day, line.instant is not None))


def _fire_line(rule: ScheduleRule, fire: datetime, day: date) -> PreviewLine:
    """A fire, with the fixed date it was shifted from, if any."""
    if rule.trigger not in ("monthly", "yearly") or rule.shift == "none" or rule.occurrence:
        return PreviewLine(day, fire)
    near = timedelta(days=SEARCH_DAYS)
    for selected in selected_dates(rule, day - near, day + near):
        if selected != day and fire_date(rule, selected) == day:
            return PreviewLine(day, fire, selected, holiday_name(rule.holidays, selected))
    return PreviewLine(day, fire)


def _skipped(
    rule: ScheduleRule, after: datetime, count: int, last: datetime | None
) -> list[PreviewLine]:
    """Dates the rule without its calendar fires on that are holidays, one line a date."""
    base = rule.model_copy(update={"holidays": None})
    zone = rule.zone
    seen: dict[date, PreviewLine] = {}
    for fire in preview(base, after, count + _EXTRA):
        if last is not None and fire > last:
            break
        day = fire.astimezone(zone).date()
        name = holiday_name(rule.holidays, day)
        if name is not None and day not in seen:
            seen[day] = PreviewLine(day, None, None, name)
    return list(seen.values())


def short_date(day: date) -> str:
    """'Fri 14 Aug' (weekday, day, month; English names)."""
    return f"{_WEEKDAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]}"


def line_note(line: PreviewLine) -> str:
    """The mark a preview shows beside a line: 'moved from Sat 15 Aug', 'skipped: Memorial
    Day', or '' for an ordinary fire."""
    if line.instant is None:
        return f"skipped: {line.holiday}"
    if line.moved_from is None:
        return ""
    reason = f" ({line.holiday})" if line.holiday else ""
    return f"moved from {short_date(line.moved_from)}{reason}"


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
