"""China's working days, for the statutory clocks (信访工作条例 2022, Arts 22-36).

The source of truth is the maintained package ``chinese_calendar``: public holidays and the
make-up working days (调休) the State Council announces every year. A year the package does
not know falls back to Monday-Friday, with one warning per year; an override file can add a
year or correct single days. The environment variable naming that file is read by the
composition root, not here: this module only accepts a path.

Pure apart from :func:`china_calendar`, which reads the optional override file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import chinese_calendar
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

log = logging.getLogger(__name__)

DaySource = Callable[[date], bool | None]
"""Says whether a date is a working day, or None when it does not know the date's year."""

ONE_DAY = timedelta(days=1)


class CalendarError(ValueError):
    """A bad calendar override file; the message names the file and the field."""


def package_is_workday(day: date) -> bool | None:
    """``chinese_calendar``'s answer (make-up working days included), None outside its years."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


def package_years() -> frozenset[int]:
    """The years ``chinese_calendar`` has holiday data for (2004-2026 in version 1.11)."""
    years = {day.year for day in chinese_calendar.holidays}
    return frozenset(range(min(years), max(years) + 1))


def _weekday_rule(day: date) -> bool:
    return day.weekday() < 5


def _as_date(day: date) -> date:
    if isinstance(day, datetime):
        raise TypeError(f"pass a local date, not a datetime ({day.isoformat()}): "
                        "convert to Asia/Shanghai first")
    return day


class WorkCalendar:
    """Working days in China: weekends and public holidays rest, make-up working days work.

    Lookup order for a date: the override's explicit days, then ``source`` (the package), then
    Monday-Friday (warned once per year, unless an override covers the year). Results are
    cached per date.
    """

    def __init__(
        self,
        *,
        source: DaySource = package_is_workday,
        source_years: Iterable[int] | None = None,
        overrides: Mapping[date, bool] | None = None,
        override_years: Iterable[int] = (),
    ) -> None:
        self._source = source
        self._source_years = frozenset(package_years() if source_years is None else source_years)
        self._overrides = MappingProxyType(dict(overrides or {}))
        self._override_years = frozenset(override_years) | {d.year for d in self._overrides}
        self._cache: dict[date, bool] = {}
        self._warned: set[int] = set()

    def known_years(self) -> frozenset[int]:
        """Years with real data: the package's plus the override file's."""
        return self._source_years | self._override_years

    def is_working_day(self, day: date) -> bool:
        day = _as_date(day)
        cached = self._cache.get(day)
        if cached is None:
            cached = self._cache[day] = self._lookup(day)
        return cached

    def _lookup(self, day: date) -> bool:
        if day in self._overrides:
            return self._overrides[day]
        answer = self._source(day)
        if answer is not None:
            return answer
        self._warn_fallback(day.year)
        return _weekday_rule(day)

    def _warn_fallback(self, year: int) -> None:
        if year in self._warned or year in self._override_years:
            return
        self._warned.add(year)
        log.warning("calendar: no holiday data for %d; counting Monday-Friday as working days "
                    "(add the year with a calendar override file)", year)

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        return self.working_day_on_or_after(_as_date(day) + ONE_DAY)

    def working_day_on_or_after(self, day: date) -> date:
        """``day`` itself if it is a working day, else the next working day."""
        day = _as_date(day)
        while not self.is_working_day(day):
            day += ONE_DAY
        return day

    def add_working_days(self, day: date, n: int) -> date:
        """The n-th working day after ``day`` (``day`` itself not counted); n = 0 gives ``day``."""
        if n < 0:
            raise ValueError(f"n must not be negative, got {n}")
        day = _as_date(day)
        for _ in range(n):
            day = self.next_working_day(day)
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days d have start < d <= end (0 when end <= start)."""
        start, end = _as_date(start), _as_date(end)
        count, day = 0, start + ONE_DAY
        while day <= end:
            count += self.is_working_day(day)
            day += ONE_DAY
        return count


# -- the override file -------------------------------------------------------------------

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


def china_calendar(override: Path | None = None) -> WorkCalendar:
    """China's calendar from ``chinese_calendar``, with an optional override YAML file::

        years:
          2027:
            holidays: [2027-01-01, 2027-02-06, ...]   # rest days on weekdays
            workdays: [2027-02-07, ...]               # make-up working days (调休) at weekends
    """
    if override is None:
        return WorkCalendar()
    parsed = _read_override(override)
    return WorkCalendar(overrides=_override_days(override, parsed), override_years=parsed.years)
