"""China's working days, as a pure calendar for the statutory clocks (信访工作条例 2022,
Arts 22-36): weekends and public holidays rest, make-up working days (调休) work.

The days come from a `DaySource` given by the caller; `dispatcher.adapters.files.calendar`
builds the one used in production from the maintained package ``chinese_calendar`` and an
optional override file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from types import MappingProxyType

log = logging.getLogger(__name__)

DaySource = Callable[[date], bool | None]
"""Says whether a date is a working day, or None when it does not know the date's year."""

ONE_DAY = timedelta(days=1)


def _weekday_rule(day: date) -> bool:
    return day.weekday() < 5


def _as_date(day: date) -> date:
    if isinstance(day, datetime):
        raise TypeError(
            f"pass a local date, not a datetime ({day.isoformat()}): convert to Asia/Shanghai first"
        )
    return day


class WorkCalendar:
    """Working days in China: weekends and public holidays rest, make-up working days work.

    Lookup order for a date: the override's explicit days, then ``source`` (the package), then
    Monday-Friday (warned once per year, unless an override covers the year). Results are
    cached per date, and sums of working days per start and length.
    """

    def __init__(
        self,
        *,
        source: DaySource,
        source_years: Iterable[int],
        overrides: Mapping[date, bool] | None = None,
        override_years: Iterable[int] = (),
        on_unknown_year: Callable[[int], None] | None = None,
    ) -> None:
        self._source = source
        self._source_years = frozenset(source_years)
        self._overrides = MappingProxyType(dict(overrides or {}))
        self._override_years = frozenset(override_years) | {d.year for d in self._overrides}
        self._cache: dict[date, bool] = {}
        # Deadlines of the same day and length recur with every case of that day (a few
        # lengths per day: the cache grows by days, not by cases).
        self._added: dict[tuple[date, int], date] = {}
        self._warned: set[int] = set()
        self._on_unknown_year = on_unknown_year or self._warn

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
        self._on_unknown_year(year)

    @staticmethod
    def _warn(year: int) -> None:
        log.warning(
            "calendar: no holiday data for %d; counting Monday-Friday as working days "
            "(add the year with a calendar override file)",
            year,
        )

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
        key = (_as_date(day), n)
        found = self._added.get(key)
        if found is None:
            found = day
            for _ in range(n):
                found = self.next_working_day(found)
            self._added[key] = found
        return found

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days d have start < d <= end (0 when end <= start)."""
        start, end = _as_date(start), _as_date(end)
        count, day = 0, start + ONE_DAY
        while day <= end:
            count += self.is_working_day(day)
            day += ONE_DAY
        return count


# -- the override file -------------------------------------------------------------------
