"""Public-holiday calendars of a rule (`holidays` field), read from the `holidays` package.

SCHEDULE.md, "Business days": `holidays` names a calendar of the Python `holidays` package
by ISO 3166-1 alpha-2 `country` and an optional `subdivision` spelled as that package
spells it; a holiday is a local date in the rule's zone.
"""

from __future__ import annotations

import re
from datetime import date
from functools import cache, lru_cache
from typing import Any

import holidays as holiday_package
from holidays.registry import COUNTRIES
from pydantic import BaseModel, ConfigDict

from app.scheduling.errors import ScheduleRuleError

_ALPHA2 = re.compile(r"[A-Z]{2}")
# English names where the package has them, so the preview reads the same for every country.
_LANGUAGE = "en_US"


class HolidayCalendar(BaseModel):
    """A holiday calendar: `{"country": "US", "subdivision": "NY"}` (subdivision optional)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    country: str
    subdivision: str | None = None


def _error(message: str) -> ValueError:
    return ScheduleRuleError("holidays", message)


def parse_calendar(value: Any) -> HolidayCalendar:
    """Validate a `holidays` value into a HolidayCalendar; ScheduleRuleError('holidays', …)."""
    if isinstance(value, HolidayCalendar):
        return value
    if not isinstance(value, dict):
        raise _error('must be null or an object like {"country": "US", "subdivision": "NY"}')
    unknown = sorted(set(value) - {"country", "subdivision"})
    if unknown:
        raise _error(f"unknown field {unknown[0]!r}; expected country and subdivision")
    country, subdivision = value.get("country"), value.get("subdivision")
    if country is None:
        raise _error("country is required (an ISO 3166-1 alpha-2 code such as 'US')")
    if not isinstance(country, str) or country not in supported_countries():
        raise _error(
            f"unknown country {country!r}; expected an ISO 3166-1 alpha-2 code such as 'US'"
        )
    if subdivision is not None and (
        not isinstance(subdivision, str) or subdivision not in supported_countries()[country]
    ):
        choices = supported_countries()[country]
        hint = f"; {country} has {', '.join(choices[:12])}{'…' if len(choices) > 12 else ''}"
        raise _error(f"unknown subdivision {subdivision!r} of {country}{hint if choices else ''}")
    return HolidayCalendar(country=country, subdivision=subdivision)


@cache
def supported_countries() -> dict[str, tuple[str, ...]]:
    """Alpha-2 country code -> the subdivision codes the `holidays` package knows."""
    listed = holiday_package.list_supported_countries(include_aliases=False)
    return {code: tuple(subs) for code, subs in listed.items() if _ALPHA2.fullmatch(code)}


@cache
def country_names() -> dict[str, str]:
    """Alpha-2 code -> English name ('UnitedStates' class name split into words)."""
    names = {}
    for class_name, code, *_ in COUNTRIES.values():
        names[code] = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", class_name)
    return {code: names.get(code, code) for code in supported_countries()}


@cache
def subdivision_names(country: str) -> dict[str, str]:
    """Subdivision code -> its name where the package has one (else the code itself);
    empty for a country the package does not know."""
    if country not in supported_countries():
        return {}
    aliases = getattr(_calendar_object(country, None), "subdivisions_aliases", {}) or {}
    named = {code: name for name, code in aliases.items()}
    return {code: named.get(code, code) for code in supported_countries().get(country, ())}


def holiday_name(calendar: HolidayCalendar | None, day: date) -> str | None:
    """The holiday's name when `day` is a public holiday of `calendar`, else None."""
    if calendar is None:
        return None
    return _year(calendar.country, calendar.subdivision, day.year).get(day)


@lru_cache(maxsize=4096)
def _year(country: str, subdivision: str | None, year: int) -> dict[date, str]:
    # One year at a time, copied into a plain dict: the package's objects grow (and are
    # not safe to share) as they are asked about new years.
    found = _calendar_object(country, subdivision)
    fresh = holiday_package.country_holidays(
        country, subdiv=subdivision, years=year, language=found.language
    )
    return dict(fresh.items())


@lru_cache(maxsize=512)
def _calendar_object(country: str, subdivision: str | None) -> Any:
    probe = holiday_package.country_holidays(country, subdiv=subdivision, years=[])
    language = _LANGUAGE if _LANGUAGE in probe.supported_languages else None
    return holiday_package.country_holidays(
        country, subdiv=subdivision, years=[], language=language
    )
