"""China's working days from their sources: the calendar the statutory clocks count on.

The source of truth is the maintained package ``chinese_calendar``: public holidays and the
make-up working days (调休) the State Council announces every year. A year the package does
not know falls back to Monday-Friday, with one warning per year; an override file can add a
year or correct single days. The environment variable naming that file is read by the
composition root, not here: this module only accepts a path. The calendar itself, pure, is
`dispatcher.domain.calendar.WorkCalendar`.
"""

from __future__ import annotations

import logging
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import Any

import chinese_calendar
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from dispatcher.domain.calendar import WorkCalendar
from dispatcher.domain.errors import XinfangError

log = logging.getLogger(__name__)


class CalendarError(XinfangError, ValueError):
    """A bad calendar override file; the message names the file and the field."""


def package_is_workday(day: date) -> bool | None:
    """``chinese_calendar``'s answer (make-up working days included), None outside its years."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


def holiday_name(day: date) -> str | None:
    """The name ``chinese_calendar`` gives the holiday, or the make-up working day for it
    (National Day, Spring Festival …), None for an ordinary day or an unknown year."""
    try:
        _, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    return str(name) if name else None


def package_years() -> frozenset[int]:
    """The years ``chinese_calendar`` has holiday data for (2004-2026 in version 1.11)."""
    years = {day.year for day in chinese_calendar.holidays}
    return frozenset(range(min(years), max(years) + 1))


class _YearOverride(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    holidays: list[date] = []
    workdays: list[date] = []

    @field_validator("holidays", "workdays", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value


class _OverrideFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    years: dict[int, _YearOverride]


def _override_days(path: Path, parsed: _OverrideFile) -> dict[date, bool]:
    days: dict[date, bool] = {}
    for year, entry in parsed.years.items():
        for field, working in (("holidays", False), ("workdays", True)):
            for day in getattr(entry, field):
                where = f"{path}: years.{year}.{field}: {day.isoformat()}"
                if day.year != year:
                    raise CalendarError(f"{where} is not in {year}")
                if days.get(day, working) != working:
                    raise CalendarError(f"{where} is listed as both a holiday and a workday")
                days[day] = working
    return days


def _read_override(path: Path) -> _OverrideFile:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise CalendarError(f"{path}: cannot read calendar override: {error}") from None
    try:
        return _OverrideFile.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise CalendarError(f"{path}: {field}: {first['msg']}") from None


# Years already warned of in this process: a command builds more than one calendar, and a
# deadline in such a year is asked for again and again; one warning says it.
_WARNED_YEARS: set[int] = set()


def warn_unknown_year(year: int) -> None:
    """Warn once per process that `year` is counted Monday-Friday, and how to fix that."""
    if year in _WARNED_YEARS:
        return
    _WARNED_YEARS.add(year)
    version = metadata.version("chinese-calendar")
    log.warning(
        "calendar: chinese-calendar %s has no holidays for %d yet (the State Council announces "
        "them each autumn): deadlines in %d count Monday-Friday as working days. Upgrade it once "
        "a release has the year (pip install -U chinese-calendar), or name a file with the "
        "year's holidays and make-up working days in XINFANG_CALENDAR_OVERRIDE "
        "(docs/clocks.md)",
        version,
        year,
        year,
    )


def china_calendar(override: Path | None = None) -> WorkCalendar:
    """China's calendar from ``chinese_calendar``, with an optional override YAML file::

    years:
      2027:
        holidays: [2027-01-01, 2027-02-06, ...]   # rest days on weekdays
        workdays: [2027-02-07, ...]               # make-up working days (调休) at weekends
    """
    if override is None:
        return WorkCalendar(
            source=package_is_workday,
            source_years=package_years(),
            on_unknown_year=warn_unknown_year,
        )
    parsed = _read_override(override)
    return WorkCalendar(
        source=package_is_workday,
        source_years=package_years(),
        overrides=_override_days(override, parsed),
        override_years=parsed.years,
        on_unknown_year=warn_unknown_year,
    )
