"""Worked deadlines across Spring Festival and National Day 2025 and 2026, reasoned by hand.

The holiday schedules (checked against chinese_calendar 1.11, see test_calendar.py):
  2025 Spring Festival rest 01-28..02-04, make-up working days 01-26 (Sun), 02-08 (Sat)
  2025 National Day    rest 10-01..10-08, make-up working days 09-28 (Sun), 10-11 (Sat)
  2026 Spring Festival rest 02-15..02-23, make-up working days 02-14 (Sat), 02-28 (Sat)
  2026 Mid-Autumn      rest 09-25 (Fri) .. 09-27
  2026 National Day    rest 10-01..10-07, make-up working days 09-20 (Sun), 10-10 (Sat)

Rule (docs/clocks.md): the start day is not counted; N calendar days end at the end of day
start+N, rolled forward to the next working day when that is a rest day; N working days end at
the end of the N-th working day after the start day. Every due time is 23:59:59 +08:00.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from dispatcher.adapters.files.calendar import china_calendar
from dispatcher.adapters.files.policies import load_policy
from dispatcher.domain.clocks import SHANGHAI, Pause, due, status

CAL = china_calendar()
CN = load_policy("cn-2022")
HOTLINE = load_policy("hotline-12345")


def local(text: str, hour: int = 0) -> datetime:
    return datetime.combine(date.fromisoformat(text), datetime.min.time(), SHANGHAI).replace(
        hour=hour
    )


def end_of(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}T23:59:59+08:00")


EXAMPLES = [
    # -- Spring Festival 2025 ------------------------------------------------------------
    # forwarding 15 d (Art 22) from Mon 01-20: 01-20 + 15 = 02-04, the last holiday -> Wed 02-05
    ("cn-2022", "forwarding", "2025-01-20", 0, "2025-02-05"),
    # forwarding 15 d from Fri 01-24: 01-24 + 15 = Sat 02-08, a make-up working day: stays
    ("cn-2022", "forwarding", "2025-01-24", 0, "2025-02-08"),
    # acceptance 15 d (Art 23) from Fri 01-10: + 15 = Sat 01-25 rest -> Sun 01-26 (make-up)
    ("cn-2022", "acceptance", "2025-01-10", 0, "2025-01-26"),
    # objection 5 wd (Art 23) from Fri 01-24: 01-26 (Sun make-up) 1, 01-27 2,
    #   01-28..02-04 rest, 02-05 3, 02-06 4, 02-07 5
    ("cn-2022", "objection", "2025-01-24", 0, "2025-02-07"),
    # objection 5 wd from Wed 02-05: 02-06 1, 02-07 2, 02-08 (Sat make-up) 3, [Sun 02-09],
    #   02-10 4, 02-11 5
    ("cn-2022", "objection", "2025-02-05", 0, "2025-02-11"),
    # hotline handling 5 wd from Mon 01-27: rest to 02-04; 02-05 1, 02-06 2, 02-07 3,
    #   02-08 (Sat make-up) 4, [Sun], 02-10 5
    ("hotline-12345", "handling", "2025-01-27", 0, "2025-02-10"),
    # -- National Day 2025 ---------------------------------------------------------------
    # handling 60 d (Art 34) from Sat 08-09: 08-31 is +22, 09-30 +52, 10-08 +60, a holiday
    #   -> Thu 10-09
    ("cn-2022", "handling", "2025-08-09", 0, "2025-10-09"),
    # handling 60 d from Thu 07-10: 07-31 +21, 08-31 +52, 09-08 +60, a Monday
    ("cn-2022", "handling", "2025-07-10", 0, "2025-09-08"),
    # the same extended by 30 (Art 34): 90 d: 09-30 +82, 10-08 +90, a holiday -> Thu 10-09
    ("cn-2022", "handling", "2025-07-10", 30, "2025-10-09"),
    # review 30 d (Art 35) from Thu 09-11: 09-30 +19, 10-11 +30, Sat make-up day: stays
    ("cn-2022", "review", "2025-09-11", 0, "2025-10-11"),
    # review request 30 d (Art 35) from Tue 09-02: 09-30 +28, 10-02 +30, holiday -> Thu 10-09
    ("cn-2022", "review_request", "2025-09-02", 0, "2025-10-09"),
    # objection 5 wd from Fri 09-26: 09-28 (Sun make-up) 1, 09-29 2, 09-30 3, rest to 10-08,
    #   10-09 4, 10-10 5
    ("cn-2022", "objection", "2025-09-26", 0, "2025-10-10"),
    # objection 5 wd from a holiday, Wed 10-08: 10-09 1, 10-10 2, 10-11 (Sat make-up) 3,
    #   [Sun], 10-13 4, 10-14 5
    ("cn-2022", "objection", "2025-10-08", 0, "2025-10-14"),
    # -- Spring Festival 2026 ------------------------------------------------------------
    # forwarding 15 d from Sat 01-31: + 15 = Sun 02-15, rest until 02-23 -> Tue 02-24
    ("cn-2022", "forwarding", "2026-01-31", 0, "2026-02-24"),
    # acceptance 15 d from Fri 01-30: + 15 = Sat 02-14, a make-up working day: stays
    ("cn-2022", "acceptance", "2026-01-30", 0, "2026-02-14"),
    # objection 5 wd from Thu 02-12: 02-13 1, 02-14 (Sat make-up) 2, rest 02-15..02-23,
    #   02-24 3, 02-25 4, 02-26 5
    ("cn-2022", "objection", "2026-02-12", 0, "2026-02-26"),
    # re-review 30 d (Art 36) from Thu 01-29: 01-31 +2, 02-28 +30, Sat make-up day: stays
    ("cn-2022", "rereview", "2026-01-29", 0, "2026-02-28"),
    # hotline handling 5 wd from Tue 02-24: 02-25 1, 02-26 2, 02-27 3, 02-28 (Sat make-up) 4,
    #   [Sun 03-01], 03-02 5
    ("hotline-12345", "handling", "2026-02-24", 0, "2026-03-02"),
    # -- Mid-Autumn and National Day 2026 ------------------------------------------------
    # handling 60 d from Mon 09-28 (the example): 09-30 +2, 10-31 +33, 11-27 +60, a Friday
    ("cn-2022", "handling", "2026-09-28", 0, "2026-11-27"),
    # handling 60 d from Fri 07-03: 07-31 +28, 08-31 +59, 09-01 +60, a Tuesday
    ("cn-2022", "handling", "2026-07-03", 0, "2026-09-01"),
    # the same extended by 30: 90 d: 09-30 +89, 10-01 +90, rest until 10-07 -> Thu 10-08
    ("cn-2022", "handling", "2026-07-03", 30, "2026-10-08"),
    # review 30 d from Wed 08-26: 08-31 +5, 09-25 +30, Mid-Autumn Fri, then Sat, Sun -> Mon 09-28
    ("cn-2022", "review", "2026-08-26", 0, "2026-09-28"),
    # objection 5 wd from Fri 09-18: 09-20 (Sun make-up) 1, 09-21 2, 09-22 3, 09-23 4, 09-24 5
    ("cn-2022", "objection", "2026-09-18", 0, "2026-09-24"),
    # objection 5 wd from Tue 09-29: 09-30 1, rest 10-01..10-07, 10-08 2, 10-09 3,
    #   10-10 (Sat make-up) 4, [Sun], 10-12 5
    ("cn-2022", "objection", "2026-09-29", 0, "2026-10-12"),
    # re-review 30 d from Tue 09-01: 09-30 +29, 10-01 +30, a holiday -> Thu 10-08
    ("cn-2022", "rereview", "2026-09-01", 0, "2026-10-08"),
    # hotline handling 5 wd + 5 extension from Tue 09-29: 09-30 1, 10-08 2, 10-09 3,
    #   10-10 (Sat make-up) 4, 10-12 5, 10-13 6, 10-14 7, 10-15 8, 10-16 9, [weekend], 10-19 10
    ("hotline-12345", "handling", "2026-09-29", 5, "2026-10-19"),
]


@pytest.mark.parametrize(
    ("policy_id", "clock", "start", "extension", "expected"),
    EXAMPLES,
    ids=[f"{e[1]}-{e[2]}+{e[3]}" for e in EXAMPLES],
)
def test_worked_example(
    policy_id: str, clock: str, start: str, extension: int, expected: str
) -> None:
    spec = load_policy(policy_id).clock(clock)
    assert due(local(start, 9), spec, CAL, extension_days=extension) == end_of(expected)


def test_the_start_day_is_the_local_day_not_the_utc_day() -> None:
    # 2025-01-27T16:30Z is 2025-01-28 00:30 in Shanghai: the start day is 01-28.
    # forwarding 15 d: 01-28 + 15 = 02-12, a Wednesday. (Counting from the UTC day 01-27
    # would give 02-11.)
    start = datetime.fromisoformat("2025-01-27T16:30:00+00:00")
    assert due(start, CN.clock("forwarding"), CAL) == end_of("2025-02-12")


def test_a_hearing_pause_shifts_a_calendar_day_clock() -> None:
    # re-review 30 d from Tue 2026-09-01 is due 10-08 (above). A hearing from 09-10 10:00 to
    # 09-20 16:00 pauses (09-10, 09-20] = 10 days (Art 36 ¶2): 40 d -> 10-11, a Sunday
    # (10-10 was the make-up Saturday) -> Mon 10-12.
    hearing = Pause(local("2026-09-10", 10), local("2026-09-20", 16))
    assert due(local("2026-09-01"), CN.clock("rereview"), CAL, pauses=[hearing]) == end_of(
        "2026-10-12"
    )


def test_a_pause_shifts_a_working_day_clock_by_the_paused_working_days() -> None:
    # hotline handling 5 wd from Thu 2025-09-25: 09-26 1, 09-28 (Sun make-up) 2, 09-29 3,
    # 09-30 4, rest to 10-08, 10-09 5. A pause from Fri 09-26 14:00 to Tue 09-30 09:00 holds
    # (09-26, 09-30] = 09-28, 09-29, 09-30: 3 working days -> 8 wd: 10-10 6,
    # 10-11 (Sat make-up) 7, 10-13 8.
    spec = HOTLINE.clock("handling")
    start = local("2025-09-25", 11)
    assert due(start, spec, CAL) == end_of("2025-10-09")
    pause = Pause(local("2025-09-26", 14), local("2025-09-30", 9))
    assert due(start, spec, CAL, pauses=[pause]) == end_of("2025-10-13")


def test_an_open_hearing_leaves_the_clock_paused() -> None:
    hearing = Pause(local("2026-09-10", 10))
    spec = CN.clock("rereview")
    assert due(local("2026-09-01"), spec, CAL, pauses=[hearing]) is None
    state = status(local("2026-09-01"), spec, CAL, local("2026-12-01"), pauses=[hearing])
    assert state.state == "paused" and state.due is None


def test_overdue_the_second_after_the_make_up_saturday_ends() -> None:
    # acceptance 15 d from 2026-01-30 is due Sat 02-14 23:59:59 (make-up day).
    spec, start = CN.clock("acceptance"), local("2026-01-30")
    assert status(start, spec, CAL, end_of("2026-02-14")).state == "running"
    late = status(start, spec, CAL, local("2026-02-15", 0))
    assert late.state == "overdue" and late.days_overdue == 1
