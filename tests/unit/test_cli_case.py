"""`xinfang case …` as a person at a department uses it, on a SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dispatcher.bootstrap.app import App
from dispatcher.services.intake import Registered


def xinfang(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XINFANG_")}
    env |= {"XINFANG_DATABASE_URL": database_url, "XINFANG_REPEAT_WINDOW_DAYS": "0"}
    return subprocess.run(
        [sys.executable, "-m", "dispatcher.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_accept_reply_and_show(
    app: App,
    database_url: str,
    tmp_path: Path,
    make_case: Callable[..., dict[str, Any]],
    encode: Callable[..., bytes],
) -> None:
    outcome = app.intake.receive(encode(make_case()), "application/json", "case.phone")
    assert isinstance(outcome, Registered)
    app.routing.route(outcome.case_id)
    case_id = outcome.case_id

    accepted = xinfang(database_url, "case", "accept", case_id, "--actor", "住建委/张科长")
    assert accepted.returncode == 0, accepted.stderr
    first, *running = accepted.stdout.strip().splitlines()
    assert first == f"applied: case {case_id} is now accepted"
    assert running[0].startswith("  handling due ") and "(Asia/Shanghai)" in running[0]
    refused = xinfang(database_url, "case", "evaluate", case_id, "--rating", "satisfied")
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines()[-1].startswith("xinfang: error: refused: ")
    bad = xinfang(database_url, "case", "evaluate", case_id, "--rating", "meh")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1  # usage: no build

    shown = xinfang(database_url, "case", "show", case_id, "--json")
    assert shown.returncode == 0, shown.stderr
    timeline = json.loads(shown.stdout)
    assert timeline["case"]["stage"] == "accepted"
    assert "petitioner" not in timeline["case"]
    clocks = {clock["name"]: clock for clock in timeline["clocks"]}
    assert clocks["handling"]["article"] == "Art 34" and clocks["handling"]["status"] == "running"
    # routed on the fixture's clock (May 2026), accepted by the CLI today: months late
    assert clocks["acceptance"]["status"] == "met_late"
    text = xinfang(database_url, "case", "show", case_id).stdout
    assert "handling" in text and "Art 34" in text and "住建委/张科长" in text


def _routed(
    app: App, make_case: Callable[..., dict[str, Any]], encode: Callable[..., bytes]
) -> str:
    outcome = app.intake.receive(encode(make_case()), "application/json", "case.phone")
    assert isinstance(outcome, Registered)
    app.routing.route(outcome.case_id)
    return outcome.case_id


def _event_types(database_url: str, case_id: str) -> list[str]:
    shown = xinfang(database_url, "case", "show", case_id, "--json")
    assert shown.returncode == 0, shown.stderr
    return [event["type"] for event in json.loads(shown.stdout)["events"]]


def test_extend_prints_the_new_due_date_and_refuses_what_the_law_does_not_allow(
    app: App,
    database_url: str,
    make_case: Callable[..., dict[str, Any]],
    encode: Callable[..., bytes],
) -> None:
    case_id = _routed(app, make_case, encode)
    accepted = xinfang(database_url, "case", "accept", case_id)
    before = accepted.stdout.splitlines()[1]
    extend = ("case", "extend", case_id, "--approved-by", "局长", "--reason", "需要现场勘查")
    too_long = xinfang(database_url, *extend, "--days", "45")
    assert too_long.returncode == 1
    assert too_long.stderr.strip().splitlines()[-1].startswith("xinfang: error: refused: ")
    extended = xinfang(database_url, *extend, "--days", "20")
    assert extended.returncode == 0, extended.stderr
    handling = extended.stdout.splitlines()[1]
    assert "extended by 20 days" in handling and handling != before
    again = xinfang(database_url, *extend, "--days", "5")
    assert again.returncode == 1
    assert "may be extended once only (Art 34)" in again.stderr
    assert "command_rejected" not in _event_types(database_url, case_id)  # typos stay out


def test_show_names_the_rerouting_not_the_old_rule(
    app: App,
    database_url: str,
    make_case: Callable[..., dict[str, Any]],
    encode: Callable[..., bytes],
) -> None:
    case_id = _routed(app, make_case, encode)
    routed = xinfang(database_url, "case", "show", case_id).stdout
    assert "routed by rule " in routed
    within = "2026-05-27T10:00:00+08:00"  # a day after routing: inside the objection period
    objected = xinfang(
        database_url, "case", "object", case_id, "--reason", "不属本单位职责", "--at", within
    )
    assert objected.returncode == 0, objected.stderr
    rerouted = xinfang(
        database_url,
        "case",
        "reroute",
        case_id,
        *("--unit", "500112:labour", "--reason", "劳动争议", "--at", within),
    )
    assert rerouted.returncode == 0, rerouted.stderr
    shown = xinfang(database_url, "case", "show", case_id)
    assert "(500112:labour), rerouted by operator on " in shown.stdout
    assert "routed by rule" not in shown.stdout
    assignment = json.loads(xinfang(database_url, "case", "show", case_id, "--json").stdout)
    assert assignment["assignment"]["how"] == "rerouted"


def test_an_unknown_case_is_refused_with_exit_1_and_writes_nothing(database_url: str) -> None:
    for args in (("show", "nope"), ("accept", "nope")):
        result = xinfang(database_url, "case", *args)
        assert result.returncode == 1
        assert result.stderr.strip().splitlines() == [
            f"xinfang: error: {'refused: ' if args[0] == 'accept' else ''}case nope does not exist"
        ]
