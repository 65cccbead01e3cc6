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
    assert accepted.stdout.strip() == f"applied: case {case_id} is now accepted"
    refused = xinfang(database_url, "case", "evaluate", case_id, "--rating", "satisfied")
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines()[-1].startswith("refused: ")
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
