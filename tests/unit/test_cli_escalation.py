"""`xinfang sweep`, `overdue`, `case show` and `notifications` as an operator uses them, on a
SQLite file (no SMTP server configured: e-mails are recorded as skipped, not lost)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from test_cli_case import xinfang

from dispatcher.bootstrap.app import App
from dispatcher.services.intake import Registered


def test_sweep_overdue_and_the_ladder_in_case_show(
    app: App,
    database_url: str,
    make_case: Callable[..., dict[str, Any]],
    encode: Callable[..., bytes],
) -> None:
    outcome = app.intake.receive(encode(make_case()), "application/json", "case.phone")
    assert isinstance(outcome, Registered)
    app.routing.route(outcome.case_id)

    swept = xinfang(database_url, "sweep", "--now", "2026-06-11T10:00:00+08:00")
    assert swept.returncode == 0, swept.stderr
    assert "acceptance warning (district)" in swept.stdout
    assert "acceptance reminder (district)" in swept.stdout
    assert "2 steps taken" in swept.stdout
    again = xinfang(database_url, "sweep", "--now", "2026-06-11T10:00:00+08:00")
    assert "0 steps taken" in again.stdout

    listed = xinfang(database_url, "overdue", "--now", "2026-06-12", "--json")
    assert listed.returncode == 0, listed.stderr
    (row,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (row["case_id"], row["clock"]) == (outcome.case_id, "acceptance")
    assert (row["escalated_step"], row["escalated_level"], row["days_overdue"]) == (
        "reminder",
        "district",
        2,
    )
    assert row["next_step"] == "supervision"
    assert (
        xinfang(database_url, "overdue", "--now", "2026-06-12", "--level", "city", "--json").stdout
        == ""
    )

    shown = xinfang(database_url, "case", "show", outcome.case_id, "--json")
    ladder = next(c for c in json.loads(shown.stdout)["ladders"] if c["clock"] == "acceptance")
    states = [(s["key"], s["state"]) for s in ladder["steps"]]
    assert states == [
        ("warning", "taken"),
        ("reminder", "taken"),
        ("supervision", "next"),
        ("listed", "planned"),
    ]


def test_bad_arguments_get_one_line_and_exit_2(database_url: str) -> None:
    for args in (
        ("sweep", "--now", "yesterday"),
        ("overdue", "--level", "province"),
        ("overdue", "--region", "渝中"),
        ("notifications", "retry"),
    ):
        result = xinfang(database_url, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_no_failed_notifications_and_the_webhook_secret(database_url: str) -> None:
    failed = xinfang(database_url, "notifications", "failed")
    assert failed.returncode == 0 and "0 failed notifications" in failed.stdout
    secret = xinfang(database_url, "notifications", "secret")
    assert secret.stdout.startswith("whsec_")
