"""`xinfang demo` as a user runs it: the bundled sample through the real embedded pipeline.

Two full runs for the module (each takes half a minute): one as JSON keeping its database, to
explore it afterwards with the commands the report prints; one as text, deleting it. Their
agreement shows the simulation is deterministic."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dispatcher.adapters.db.schema import head_revision
from dispatcher.demo.run import sample_path
from dispatcher.demo.sample import DISTRICTS

pytestmark = pytest.mark.e2e

TIMEOUT = 300
BIN = Path(sys.executable).parent  # where the venv's `xinfang` script is


@dataclass(frozen=True)
class Runs:
    report: dict[str, Any]  # the JSON run's report
    kept_dir: Path  # its working directory, holding the kept database
    text: str  # the text run's report
    text_stderr: str
    text_dir: Path


def _env() -> dict[str, str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("XINFANG_")}
    return clean | {"PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def _demo(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "dispatcher.cli", "demo", *args],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    kept_dir = tmp_path_factory.mktemp("kept")
    as_json = _demo("--json", "--keep", "xinfang-demo.db", cwd=kept_dir)
    text_dir = tmp_path_factory.mktemp("text")
    as_text = _demo(cwd=text_dir)
    return Runs(json.loads(as_json.stdout), kept_dir, as_text.stdout, as_text.stderr, text_dir)


def test_demo_replays_the_sample_through_the_pipeline(runs: Runs) -> None:
    report = runs.report
    assert report["cases"] == 600 and report["rejected"] == 0 and report["rejected_lines"] == []
    # the 12 follow-ups of the sample join earlier cases: repeats and collective co-signers
    assert report["linked"] == {"repeat": 8, "collective": 4}
    assert report["total_lines"] == 612 and report["duplicates"] == 0
    assert set(report["per_channel"]) == {"letter", "visit", "online", "phone", "video"}
    assert len(report["per_department"]) > 100 and report["triage"]
    assert report["commands"].get("applied", 0) > 1500
    assert report["commands"].get("refused", 0) == 0  # the simulated offices act lawfully
    assert report["reviews_opened"] > 0
    # Departments that miss deadlines climb the ladders; every step is told.
    escalated = report["escalations"]
    assert escalated["steps"] > 0 and escalated["cases"] > 0
    assert set(escalated["per_step"]) == {"预警", "催办", "督办", "挂牌督办"}
    assert set(escalated["per_level"]) == {"district", "city"}
    assert sum(escalated["per_district"].values()) == escalated["steps"]
    assert {key.split()[1] for key in escalated["notifications"]} == {"sent"}


def test_the_cases_left_in_triage_are_overdue_and_count_against_timely_acceptance(
    runs: Runs,
) -> None:
    report = runs.report
    in_triage = sum(report["triage"].values())
    overdue = report["overdue"]
    assert in_triage > 0 and overdue["per_clock"] == {"forwarding": in_triage}
    assert overdue["per_stage"] == {"triage": in_triage}
    assert overdue["per_kind"] == {"petition_bureau": in_triage}
    assert len(overdue["longest"]) == min(10, in_triage)
    acceptance = report["kpis"]["timely_acceptance"]
    # every case is either accepted (on time or late) or overdue in triage
    assert acceptance["total"] == report["cases"] == report["assigned"] + in_triage
    late = overdue["met_late"].get("acceptance", 0)
    assert acceptance["good"] == report["assigned"] - late


def test_every_kpi_is_marked_against_its_target(runs: Runs) -> None:
    kpis = runs.report["kpis"]
    assert kpis["online_share"]["rate"] == pytest.approx(0.70)
    assert kpis["online_share"] | {"rate": None} == {
        "good": 420,
        "total": 600,
        "rate": None,
        "target": "> 70 %",
        "mark": "missed",  # exactly 70 % is not above it
    }
    for name in ("timely_acceptance", "on_time_completion"):
        assert 0.5 < kpis[name]["rate"] < 0.995, name  # some are late on purpose
        assert (kpis[name]["target"], kpis[name]["mark"]) == ("≥ 99.5 %", "missed")
    assert (kpis["satisfaction"]["target"], kpis["satisfaction"]["mark"]) == (None, "no target")
    assert "online share             70.0 % (420/600)       target > 70 %: missed" in runs.text
    assert re.search(r"satisfaction rate +\d+\.\d % \(\d+/\d+\) +no target", runs.text)


def test_every_table_states_its_total_and_they_reconcile(runs: Runs) -> None:
    report = runs.report
    tables = {table["title"]: table for table in report["tables"]}
    registered, assigned = report["cases"], report["assigned"]
    in_triage = sum(report["triage"].values())
    assert tables["cases per channel"]["total"] == tables["cases per stage"]["total"] == registered
    assert tables["cases per rule"]["total"] == registered
    kinds = tables["cases per kind of department"]
    assert (kinds["total"], kinds["note"]) == (assigned, f"{in_triage} in triage")
    assert assigned + in_triage == registered
    assert (
        f"cases per kind of department ({assigned} cases assigned to a department; "
        f"{in_triage} in triage):" in runs.text
    )


def test_the_department_table_shows_the_top_ten_and_sums_the_rest(runs: Runs) -> None:
    table = next(t for t in runs.report["tables"] if t["title"] == "cases per department")
    units = len(runs.report["per_department"])
    assert len(table["rows"]) == 10
    assert table["rest"]["other units"] == units - 10
    assert sum(table["rows"].values()) + table["rest"]["count"] == runs.report["assigned"]
    rest = re.search(r"^  … (\d+) other units +(\d+) ", runs.text, re.MULTILINE)
    assert rest and (int(rest[1]), int(rest[2])) == (units - 10, table["rest"]["count"])


def test_the_simulation_is_the_same_in_every_run(runs: Runs) -> None:
    """Two runs, one of them timed differently by writing a database it keeps, end on the same
    simulated day with the same numbers."""
    report = runs.report
    assert f"→ {report['simulated_until']} 23:59 (Asia/Shanghai)" in runs.text
    for name, kpi in report["kpis"].items():
        assert f"{100 * kpi['rate']:.1f} % ({kpi['good']}/{kpi['total']})" in runs.text, name
    steps = report["escalations"]["steps"]
    cases = report["escalations"]["cases"]
    assert f"escalation: {steps:,} ladder steps on {cases:,} cases" in runs.text
    assert f"events published {report['events_published']};" in runs.text


def test_the_text_run_leaves_nothing_behind_and_no_bar_off_a_terminal(runs: Runs) -> None:
    assert not list(runs.text_dir.iterdir()), "the demo leaves nothing behind in the working dir"
    assert runs.text_stderr == ""  # the progress bar is for terminals only
    assert runs.text.rstrip().endswith(
        "keeps it to explore with `xinfang overdue` and `xinfang case show`"
    )


def test_the_kept_database_is_explored_with_the_commands_the_report_prints(runs: Runs) -> None:
    report = runs.report
    kept = runs.kept_dir / "xinfang-demo.db"
    assert report["kept"] == str(kept)
    assert sorted(p.name for p in runs.kept_dir.iterdir()) == ["xinfang-demo.db"]
    overdue_command, show_command = report["explore"]
    assert overdue_command.endswith(f"xinfang overdue --now {report['as_of']}")

    def shell(command: str) -> subprocess.CompletedProcess[str]:
        elsewhere = runs.kept_dir.parent  # the printed commands work from any directory
        return subprocess.run(
            command, shell=True, cwd=elsewhere, env=_env(), capture_output=True, text=True
        )

    listed = shell(overdue_command + " --json")
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(rows) == report["overdue"]["clocks"]
    assert {row["case_id"] for row in rows} >= {c["case_id"] for c in report["overdue"]["longest"]}
    shown = shell(show_command)
    assert shown.returncode == 0, shown.stderr
    assert "forwarding" in shown.stdout and "overdue" in shown.stdout
    url = f"XINFANG_DATABASE_URL=sqlite:///{kept}"
    current = shell(f"{url} xinfang db current")
    assert current.stdout.split()[1].rstrip(",") == head_revision(), current.stdout


def test_no_petitioner_identity_appears_in_the_report(runs: Runs) -> None:
    petitioners = [
        json.loads(line).get("petitioner") or {}
        for line in sample_path().read_text("utf-8").splitlines()
    ]
    # A name that is also a place (梁平, of 梁平区) is found in the district names it is part of.
    places = [name for _code, name, _weight in DISTRICTS]
    identities = {
        value
        for petitioner in petitioners
        for key, value in petitioner.items()
        if key != "name" or not any(value in place for place in places)
    }
    printed = runs.text + json.dumps(runs.report, ensure_ascii=False)
    assert len(identities) > 1000
    assert not [value for value in identities if value in printed]
