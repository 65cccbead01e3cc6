"""`xinfang rules check|explain|test|replay` through click's CliRunner (and main() for exit 2)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from dispatcher.bootstrap.app import App
from dispatcher.cli import cli
from dispatcher.services.intake import Registered

MakeCase = Callable[..., dict[str, Any]]

NYC_DIRECTORY = """\
version: nyc-t
regions: [{code: "360100", name: New York City, level: city}]
kinds: {city: {petition_bureau: "311 Triage"}}
units:
  - {id: "nyc:HPD", name: Housing Preservation and Development, kind: agency, region: "360100"}
  - {id: "nyc:NYPD", name: New York City Police Department, kind: agency, region: "360100"}
"""

NYC_RULES = """\
version: nyc-rules-t
rules:
  - {id: heat, owner: t, changed: 2026-11-20, when: {keywords: {any: [HEAT]}},
     assign: {unit: "nyc:HPD"}}
  - {id: noise, owner: t, changed: 2026-11-20, when: {keywords: {any: [Noise]}},
     assign: {unit: "nyc:NYPD"}}
  - {id: parking, owner: t, changed: 2026-11-20, when: {keywords: {any: [Parking]}},
     assign: {unit: "nyc:HPD"}}
"""


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(
        cli, ["rules", *args], env=env or {"XINFANG_RULES": "", "XINFANG_DIRECTORY": ""}
    )


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def nyc(tmp_path: Path) -> tuple[Path, Path]:
    return write(tmp_path / "rules.yaml", NYC_RULES), write(tmp_path / "dir.yaml", NYC_DIRECTORY)


def test_check_bundled_rules_is_ok() -> None:
    result = run("check")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: ") and " rules, version default-2026.11+" in result.output


def test_check_reads_xinfang_rules_and_directory(nyc: tuple[Path, Path]) -> None:
    rules, directory = nyc
    result = run("check", env={"XINFANG_RULES": str(rules), "XINFANG_DIRECTORY": str(directory)})
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: 3 rules, version nyc-rules-t+")


def test_check_prints_every_problem_and_exits_1(tmp_path: Path, nyc: tuple[Path, Path]) -> None:
    _, directory = nyc
    broken = write(
        tmp_path / "broken.yaml",
        NYC_RULES.replace('"nyc:NYPD"', '"nyc:NYDP"').replace("id: parking", "id: Parking")
        + """\
  - {id: heat-again, owner: t, changed: 2026-11-20, when: {keywords: {any: [HEAT WAVE]}},
     assign: {unit: "nyc:HPD"}}
""",
    )
    result = run("check", str(broken), "--directory", str(directory))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert (
        f"{broken}: rule 'noise' (#2, line 5): assign.unit: 'nyc:NYDP' is not a named unit"
        in "\n".join(lines)
    )
    assert any(line.startswith(f"{broken}: rule 'Parking' (#3, line 7): id:") for line in lines)
    assert any(
        "rule 'heat-again' (#4, line 9): when: shadowed by rule 'heat'" in line for line in lines
    )


def test_check_of_a_missing_path_is_a_usage_error() -> None:
    assert run("check", "/no/such/rules").exit_code == 2


def test_main_turns_bad_arguments_into_one_line_and_exit_2() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dispatcher.cli", "rules", "test"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("xinfang: error: Missing option")
    assert len(done.stderr.strip().splitlines()) == 1


def test_explain_shows_each_rule_and_the_decision(tmp_path: Path, make_case: MakeCase) -> None:
    case = write(tmp_path / "case.json", json.dumps(make_case(title="小区加装电梯纠纷")))
    result = run("explain", str(case))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "✗ emergency-safety-hazard [default.yaml#1]: no keyword of" in out
    assert "✓ housing-elevator [default.yaml#10]: keyword 加装电梯 in title  ← decides" in out
    assert "(matches, but an earlier rule decided)" in out
    assert (
        "decision: assigned → 渝中区住房和城乡建设委员会 (500103:housing) by rule "
        "housing-elevator" in out
    )
    assert "reasons:\n  - rule housing-elevator (default.yaml#10)" in out


def test_explain_of_a_non_object_is_a_usage_error(tmp_path: Path) -> None:
    result = run("explain", str(write(tmp_path / "case.json", "[1, 2]")))
    assert result.exit_code == 2
    assert "not a JSON object" in result.output


def _cases(tmp_path: Path) -> Path:
    lines = [
        {"external_id": "1", "title": "HEAT/HOT WATER", "agency": "HPD"},
        {"external_id": "2", "title": "Noise - Street", "agency": "NYPD"},
        {"external_id": "3", "title": "Illegal Parking", "agency": "NYPD"},  # misrouted
        {"external_id": "4", "title": "Taxi Complaint", "agency": "TLC"},  # triage
        {"external_id": "5", "title": "HEAT", "agency": "Housing Preservation and Development"},
        {"external_id": "6", "title": "HEAT"},  # no expectation: skipped
    ]
    text = "\n".join(json.dumps({"region": "360100", "content": ""} | c) for c in lines)
    return write(tmp_path / "cases.jsonl", text + "\nnot json\n")


def test_test_reports_accuracy_confusion_and_misrouted(
    tmp_path: Path, nyc: tuple[Path, Path]
) -> None:
    rules, directory = nyc
    result = run(
        "test",
        "--rules",
        str(rules),
        "--cases",
        str(_cases(tmp_path)),
        "--expect",
        "agency",
        "--directory",
        str(directory),
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("accuracy 60.0%: 3 correct of 5, 1 to triage, 1 misrouted")
    assert "1  NYPD → nyc:HPD" in out
    assert "1  TLC → (triage)" in out
    assert "3: expected NYPD, got nyc:HPD (rule parking)" in out
    assert "skipped 1 line(s) that are not JSON objects: 7" in result.stderr


def test_test_json_is_one_object(tmp_path: Path, nyc: tuple[Path, Path]) -> None:
    rules, directory = nyc
    result = run(
        "test",
        "--rules",
        str(rules),
        "--cases",
        str(_cases(tmp_path)),
        "--expect",
        "agency",
        "--directory",
        str(directory),
        "--json",
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["total"], report["correct"], report["triage"]) == (5, 3, 1)
    assert report["accuracy"] == 0.6 and report["skipped"] == 1
    assert report["misrouted"] == [
        {"external_id": "3", "expected": "NYPD", "got": "nyc:HPD", "rule": "parking"}
    ]
    assert {"expected": "TLC", "got": "(triage)", "count": 1} in report["confusion"]
    assert report["invalid_lines"] == [7]


def test_test_needs_its_options() -> None:
    assert run("test", "--rules", ".").exit_code == 2


NEW_RULES = """\
version: replay-new
rules:
  - {id: elevator-to-emergency, owner: t, changed: 2026-11-20,
     when: {keywords: {any: [电梯]}}, assign: {kind: emergency, level: district}}
"""


@pytest.fixture
def stored(app: App, make_case: MakeCase) -> list[str]:
    """Three cases registered and routed with the bundled rules through the services."""
    ids = []
    for title in ("小区加装电梯纠纷", "电梯长期故障", "物业不作为"):
        body = json.dumps(make_case(title=title, content="请处理。")).encode()
        outcome = app.intake.receive(body, "application/json", "case.phone")
        assert isinstance(outcome, Registered)
        app.routing.route(outcome.case_id)
        ids.append(outcome.case_id)
    return ids


def test_replay_lists_what_a_new_rule_set_would_change_and_writes_nothing(
    tmp_path: Path, app: App, stored: list[str], database_url: str
) -> None:
    new = write(tmp_path / "new.yaml", NEW_RULES)
    before = _snapshot(app)
    result = run(
        "replay",
        "--rules",
        str(new),
        env={"XINFANG_DATABASE_URL": database_url, "XINFANG_DIRECTORY": ""},
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert (
        f"{stored[0]}: 500103:housing (housing-elevator) → 500103:emergency "
        "(elevator-to-emergency)" in out
    )
    assert f"{stored[1]}: 500103:housing (housing-elevator) → 500103:emergency" in out
    assert (
        f"{stored[2]}: 500103:housing (category-housing) → 500103:petition_bureau (triage)" in out
    )
    assert "replayed 3 routed case(s) with replay-new+" in out
    assert ": 3 would be routed differently" in out
    assert "2  500103:housing → 500103:emergency" in out
    assert _snapshot(app) == before


def test_replay_limit(tmp_path: Path, stored: list[str], database_url: str) -> None:
    new = write(tmp_path / "new.yaml", NEW_RULES)
    result = run(
        "replay",
        "--rules",
        str(new),
        "--limit",
        "1",
        env={"XINFANG_DATABASE_URL": database_url, "XINFANG_DIRECTORY": ""},
    )
    assert "replayed 1 routed case(s)" in result.output


def test_replay_without_a_schema_fails_with_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = run(
        "replay", env={"XINFANG_DATABASE_URL": url, "XINFANG_RULES": "", "XINFANG_DIRECTORY": ""}
    )
    assert result.exit_code == 1
    assert "cannot read cases from sqlite:///" in result.output


def _snapshot(app: App) -> list[Any]:
    from sqlalchemy import select

    from dispatcher.adapters.db.tables import cases, events

    with app.engine.connect() as conn:
        return [list(conn.execute(select(cases)).all()), list(conn.execute(select(events)).all())]
