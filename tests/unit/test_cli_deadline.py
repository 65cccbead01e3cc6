"""`xinfang deadline` as operators and scripts meet it: run as a process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

JSON_KEYS = {
    "policy",
    "clock",
    "start",
    "due",
    "due_date",
    "days",
    "unit",
    "article",
    "basis",
    "extension_days",
    "calendar_years_known",
    "counted_last_day",
    "holidays_skipped",
    "makeup_workdays",
    "due_is_makeup_workday",
}


def deadline(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("XINFANG_")}
    return subprocess.run(
        [sys.executable, "-m", "dispatcher.cli", "deadline", *args],
        env=clean | (env or {}),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )


def as_json(*args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = deadline(*args, "--json", env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    report: dict[str, Any] = json.loads(lines[0])
    return report


def test_the_issue_example_as_json() -> None:
    # handling 60 d (Art 34) from Mon 2026-09-28: 09-30 +2, 10-31 +33, 11-27 +60 (a Friday)
    report = as_json("--policy", "cn-2022", "--clock", "handling", "--start", "2026-09-28")
    assert set(report) == JSON_KEYS
    assert report == report | {
        "policy": "cn-2022",
        "clock": "handling",
        "start": "2026-09-28T00:00:00+08:00",
        "due": "2026-11-27T23:59:59+08:00",
        "days": 60,
        "unit": "calendar_days",
        "article": "Art 34",
        "extension_days": 0,
        "calendar_years_known": True,
    }
    assert "60日" in report["basis"]


@pytest.mark.parametrize(
    ("args", "expected_due"),
    [
        # 90 d from 2026-07-03 ends on 10-01, National Day -> Thu 10-08
        (
            ["--clock", "handling", "--start", "2026-07-03", "--extension-days", "30"],
            "2026-10-08T23:59:59+08:00",
        ),
        # objection 5 wd from 2026-09-29: 09-30, 10-08, 10-09, 10-10 (make-up Sat), 10-12
        (
            ["--clock", "objection", "--start", "2026-09-29T17:45:00+08:00"],
            "2026-10-12T23:59:59+08:00",
        ),
        # 16:30Z on 01-27 is 00:30 on 01-28 in Shanghai: forwarding 15 d -> 02-12
        (["--clock", "forwarding", "--start", "2025-01-27T16:30:00Z"], "2025-02-12T23:59:59+08:00"),
        # a naive time is Shanghai time: 2025-01-27 23:30 -> 15 d -> 02-11
        (["--clock", "forwarding", "--start", "2025-01-27T23:30:00"], "2025-02-11T23:59:59+08:00"),
        # hotline handling 5 wd from 2026-02-24: 02-25, 02-26, 02-27, 02-28 (make-up), 03-02
        (
            ["--policy", "hotline-12345", "--clock", "handling", "--start", "2026-02-24"],
            "2026-03-02T23:59:59+08:00",
        ),
    ],
    ids=["extension", "working-days-rfc3339", "utc-start", "naive-start", "hotline"],
)
def test_json_due(args: list[str], expected_due: str) -> None:
    report = as_json(*args)
    assert report["due"] == expected_due
    assert report["due_date"] == expected_due[:10]


def test_human_output_names_due_clock_unit_article_and_basis() -> None:
    result = deadline("--clock", "objection", "--start", "2025-01-24")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "2025-02-07 23:59:59 +0800" in out
    for word in ("objection", "cn-2022", "5 working days", "Art 23", "5个工作日"):
        assert word in out


def test_a_year_the_calendar_does_not_know_is_flagged() -> None:
    result = deadline("--clock", "handling", "--start", "2027-03-01", "--json")
    assert result.returncode == 0
    assert json.loads(result.stdout)["calendar_years_known"] is False
    assert "2027" in result.stderr  # the fallback warning


def test_a_calendar_override_from_the_environment(tmp_path: Path) -> None:
    override = tmp_path / "calendar.yaml"
    override.write_text("years:\n  2027:\n    holidays: [2027-03-08]\n", encoding="utf-8")
    # objection 5 wd from Mon 2027-03-01: 03-02..03-05 are 1-4; Mon 03-08 is (here) a holiday
    report = as_json(
        "--clock",
        "objection",
        "--start",
        "2027-03-01",
        env={"XINFANG_CALENDAR_OVERRIDE": str(override)},
    )
    assert report["due"] == "2027-03-09T23:59:59+08:00"
    assert report["calendar_years_known"] is True


@pytest.mark.parametrize(
    ("args", "mentions"),
    [
        (["--policy", "cn-2099", "--clock", "handling", "--start", "2026-01-05"], "cn-2099"),
        (["--clock", "handlnig", "--start", "2026-01-05"], "handlnig"),
        (["--clock", "handling", "--start", "2026-02-30"], "--start"),
        (["--clock", "handling", "--start", "next tuesday"], "--start"),
        (["--clock", "handling", "--start", "2026-01-05", "--extension-days", "-1"], "negative"),
        (["--start", "2026-01-05"], "--clock"),
    ],
    ids=[
        "unknown-policy",
        "unknown-clock",
        "impossible-date",
        "not-a-date",
        "negative",
        "no-clock",
    ],
)
def test_bad_arguments_exit_2_with_one_line(args: list[str], mentions: str) -> None:
    result = deadline(*args)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert mentions in lines[0]
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "mentions"),
    [
        (["--clock", "handling", "--extension-days", "31"], "exceeds the 30 days"),
        (["--clock", "review", "--extension-days", "3"], "cannot be extended"),
    ],
    ids=["too-long", "not-extensible"],
)
def test_an_extension_the_law_does_not_allow_is_refused_with_exit_1(
    args: list[str], mentions: str
) -> None:
    result = deadline(*args, "--start", "2026-01-05")  # as `case extend` refuses it
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("xinfang: error: refused: ")
    assert mentions in result.stderr


def test_it_says_which_holidays_were_skipped_and_that_the_last_day_is_a_make_up_day() -> None:
    # objection 5 wd from Mon 2026-09-28: 09-29, 09-30, then National Day 10-01..10-07 rests,
    # 10-08, 10-09, and Saturday 10-10, a make-up working day, is the fifth
    result = deadline("--clock", "objection", "--start", "2026-09-28")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].endswith("Saturday: a make-up working day (调休)")
    assert "skipped  holidays: 2026-10-01 … 2026-10-07 (National Day)" in lines
    report = as_json("--clock", "objection", "--start", "2026-09-28")
    assert report["due_is_makeup_workday"] is True
    assert [day["date"] for day in report["makeup_workdays"]] == ["2026-10-10"]
    assert len(report["holidays_skipped"]) == 7


def test_a_calendar_day_period_ending_on_a_holiday_says_where_it_moved() -> None:
    # forwarding 15 d from 2026-09-16: the 15th day is 10-01, National Day: ends Thu 10-08
    report = as_json("--clock", "forwarding", "--start", "2026-09-16")
    assert report["due_date"] == "2026-10-08"
    assert report["counted_last_day"] == "2026-10-01"
    text = deadline("--clock", "forwarding", "--start", "2026-09-16").stdout
    assert "the last day counted, 2026-10-01 (Thursday), is a rest day" in text


def test_one_day_is_singular() -> None:
    text = deadline("--clock", "handling", "--start", "2026-01-05", "--extension-days", "1").stdout
    assert "+ 1 day extension" in text
