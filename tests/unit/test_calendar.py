"""China's working-day calendar: chinese_calendar's holidays and make-up days (调休), the
Monday-Friday fallback for unknown years, and the override file."""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path

import pytest

from dispatcher.adapters.files.calendar import CalendarError, china_calendar
from dispatcher.domain.calendar import WorkCalendar

CAL = china_calendar()

# The State Council's announced schedules, as chinese_calendar 1.11 records them (verified).
REST = [
    *[date(2025, 1, d) for d in range(28, 32)],
    *[date(2025, 2, d) for d in range(1, 5)],
    *[date(2025, 10, d) for d in range(1, 9)],
    *[date(2026, 2, d) for d in range(15, 24)],
    date(2026, 9, 25),  # Mid-Autumn 2026, a Friday
    *[date(2026, 10, d) for d in range(1, 8)],
    date(2025, 2, 9),
    date(2026, 3, 1),  # ordinary Sundays
]
MAKE_UP = [  # weekend days worked in lieu (调休)
    date(2025, 1, 26),
    date(2025, 2, 8),  # Spring Festival 2025: Sun, Sat
    date(2025, 9, 28),
    date(2025, 10, 11),  # National Day 2025: Sun, Sat
    date(2026, 2, 14),
    date(2026, 2, 28),  # Spring Festival 2026: Sat, Sat
    date(2026, 9, 20),
    date(2026, 10, 10),  # National Day 2026: Sun, Sat
]


@pytest.mark.parametrize("day", REST, ids=str)
def test_holidays_and_weekends_are_rest_days(day: date) -> None:
    assert not CAL.is_working_day(day)


@pytest.mark.parametrize("day", MAKE_UP, ids=str)
def test_make_up_weekend_days_are_working_days(day: date) -> None:
    assert day.weekday() >= 5
    assert CAL.is_working_day(day)


def test_next_working_day_is_strictly_after() -> None:
    assert CAL.next_working_day(date(2025, 1, 24)) == date(2025, 1, 26)  # Fri -> make-up Sun
    assert CAL.next_working_day(date(2025, 1, 27)) == date(2025, 2, 5)  # over Spring Festival
    assert CAL.next_working_day(date(2026, 9, 30)) == date(2026, 10, 8)  # over National Day


def test_working_day_on_or_after() -> None:
    assert CAL.working_day_on_or_after(date(2025, 2, 8)) == date(2025, 2, 8)
    assert CAL.working_day_on_or_after(date(2026, 2, 15)) == date(2026, 2, 24)


def test_add_working_days_does_not_count_the_first_day() -> None:
    # 2026-09-29 (Tue): 09-30 is 1; 10-01..07 rest; 10-08 2, 10-09 3, 10-10 (make-up Sat) 4
    assert CAL.add_working_days(date(2026, 9, 29), 4) == date(2026, 10, 10)
    assert CAL.add_working_days(date(2026, 9, 29), 0) == date(2026, 9, 29)


def test_add_working_days_rejects_negative() -> None:
    with pytest.raises(ValueError, match="negative"):
        CAL.add_working_days(date(2026, 1, 5), -1)


def test_working_days_between_is_half_open() -> None:
    # (2025-09-26, 2025-10-11]: 09-28, 09-29, 09-30, 10-09, 10-10, 10-11 -> 6
    assert CAL.working_days_between(date(2025, 9, 26), date(2025, 10, 11)) == 6
    assert CAL.working_days_between(date(2025, 10, 1), date(2025, 10, 8)) == 0
    assert CAL.working_days_between(date(2025, 10, 9), date(2025, 10, 1)) == 0


def test_datetimes_are_refused_so_time_zones_are_never_guessed() -> None:
    with pytest.raises(TypeError, match="Asia/Shanghai"):
        CAL.is_working_day(datetime(2026, 1, 5, 12))


def test_known_years_are_the_package_years() -> None:
    assert set(range(2004, 2027)) <= CAL.known_years()
    assert 2099 not in CAL.known_years()


def test_unknown_year_falls_back_to_weekdays_warning_once(caplog: pytest.LogCaptureFixture) -> None:
    calendar = WorkCalendar(source=lambda day: None, source_years=())
    with caplog.at_level(logging.WARNING, logger="dispatcher.adapters.files.calendar"):
        assert calendar.is_working_day(date(2031, 1, 1))  # a Wednesday, holiday unknown
        assert not calendar.is_working_day(date(2031, 1, 4))  # Saturday
        assert calendar.add_working_days(date(2031, 1, 3), 1) == date(2031, 1, 6)
        calendar.is_working_day(date(2032, 6, 1))
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2
    assert "2031" in messages[0] and "2032" in messages[1]


def test_results_are_cached_per_date() -> None:
    asked: list[date] = []

    def source(day: date) -> bool:
        asked.append(day)
        return day.weekday() < 5

    calendar = WorkCalendar(source=source, source_years=[2026])
    for _ in range(3):
        calendar.working_days_between(date(2026, 1, 1), date(2026, 1, 31))
    assert sorted(asked) == sorted(set(asked))  # (Jan 1, Jan 31]: 30 dates, each asked once
    assert len(asked) == 30


OVERRIDE = """\
years:
  2027:
    holidays: [2027-01-01, 2027-02-08]
    workdays: [2027-02-06]
  2026:
    holidays: [2026-03-02]
"""


def test_override_adds_a_year_and_corrects_a_day(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text(OVERRIDE, encoding="utf-8")
    calendar = china_calendar(path)
    with caplog.at_level(logging.WARNING, logger="dispatcher.adapters.files.calendar"):
        assert not calendar.is_working_day(date(2027, 1, 1))  # Friday, listed holiday
        assert calendar.is_working_day(date(2027, 2, 6))  # Saturday, listed make-up day
        assert calendar.is_working_day(date(2027, 3, 3))  # unlisted weekday
        assert not calendar.is_working_day(date(2026, 3, 2))  # corrects the package
        assert calendar.is_working_day(date(2026, 3, 3))  # the package's answer otherwise
    assert caplog.records == []  # 2027 is covered: no fallback warning
    assert 2027 in calendar.known_years()


@pytest.mark.parametrize(
    ("text", "mentions"),
    [
        ("years:\n  2027:\n    holidays: [2026-01-01]\n", "years.2027.holidays"),
        ("years:\n  2027:\n    holidays: [2027-01-01]\n    workdays: [2027-01-01]\n", "both"),
        ("years:\n  2027:\n    holiday: [2027-01-01]\n", "years.2027.holiday"),
        ("years:\n  2027:\n    holidays: [not-a-date]\n", "years.2027.holidays.0"),
        ("yeers: {}\n", "years"),
        ("years: [\n", "cannot read"),
    ],
    ids=["wrong-year", "both-lists", "unknown-field", "bad-date", "unknown-top", "bad-yaml"],
)
def test_bad_override_names_file_and_field(tmp_path: Path, text: str, mentions: str) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CalendarError) as caught:
        china_calendar(path)
    assert str(path) in str(caught.value)
    assert mentions in str(caught.value)


def test_missing_override_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CalendarError, match="cannot read"):
        china_calendar(tmp_path / "absent.yaml")


def test_an_unknown_year_is_warned_of_once_per_process_however_many_calendars(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dispatcher.adapters.files import calendar as files_calendar

    monkeypatch.setattr(files_calendar, "_WARNED_YEARS", set())
    with caplog.at_level(logging.WARNING):
        for _ in range(3):  # a command builds several calendars
            files_calendar.china_calendar().add_working_days(date(2031, 3, 2), 60)
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 1
    assert "no holidays for 2031" in messages[0]
    assert "pip install -U chinese-calendar" in messages[0]
    assert "XINFANG_CALENDAR_OVERRIDE" in messages[0]
