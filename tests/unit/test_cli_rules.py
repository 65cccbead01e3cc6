"""`xinfang rules check|explain|test` through click's CliRunner (and main() for exit 2).

`rules replay` is tested in test_rules_tools_replay.py, rule-set folders in
test_rules_tools_folders.py."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from nyc_rules import NYC_DIRECTORY

from dispatcher.cli import cli

MakeCase = Callable[..., dict[str, Any]]


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


MINIMAL_CASE = {
    "schema": "xinfang.case/v1",
    "source": "cq-12345",
    "external_id": "E1",
    "channel": "phone",
    "received_at": "2026-05-26T09:30:00+08:00",
    "region": "500103",
    "title": "HEAT",
    "content": "no heat",
}


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
    # the list is the report (stdout); the one error line says how many (stderr)
    summary = f"xinfang: error: {len(lines)} problems in the rule and directory files\n"
    assert result.stderr == summary


def test_a_rule_file_beside_a_folder_directory_is_told_to_check_the_folder(
    tmp_path: Path,
) -> None:
    write(tmp_path / "directory.yaml", NYC_DIRECTORY)
    rules = write(tmp_path / "rules.yaml", NYC_RULES)
    result = run("check", str(rules))  # against the bundled (Chongqing) directory
    assert result.exit_code == 1
    assert "'nyc:HPD' is not a named unit of the directory" in result.stdout
    assert result.stderr.startswith("xinfang: error: 3 problems in the rule and directory files; ")
    assert f"give the folder {tmp_path} instead, or --directory {tmp_path / 'directory.yaml'}" in (
        result.stderr
    )
    assert len(result.stderr.splitlines()) == 1


def test_other_commands_print_rule_problems_as_error_lines(tmp_path: Path) -> None:
    broken = write(tmp_path / "broken.yaml", NYC_RULES)  # named units the bundled directory lacks
    case = write(tmp_path / "case.json", json.dumps(MINIMAL_CASE))
    result = run("explain", str(case), "--rules", str(broken))
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 4 and all(line.startswith("xinfang: error: ") for line in lines)
    assert lines[0].startswith(f"xinfang: error: {broken}: rule 'heat' (#1, line 3): assign.unit:")
    assert lines[-1] == "xinfang: error: 3 problems in the rule and directory files"


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


def test_explain_refuses_what_is_not_a_valid_case_with_the_contracts_reasons(
    tmp_path: Path,
) -> None:
    result = run("explain", str(write(tmp_path / "case.json", '{"title": "x"}')))
    assert result.exit_code == 1
    assert result.stdout == ""  # no rule is tried: the intake would never route it
    assert result.stderr == (
        f"xinfang: error: {tmp_path / 'case.json'} is not a valid contract-v1 case: message: "
        "missing required fields channel, content, external_id, received_at, region, schema, "
        "source\n"
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[1, 2]", "message: must be of type object, not array"),
        ("{", "message is not JSON"),
        (
            json.dumps(MINIMAL_CASE | {"region": "5001", "received_at": "26/05/2026"}),
            "received_at: is not a valid date-time (RFC 3339 with an offset, like "
            "2026-05-26T09:30:00+08:00); region: must be 6, 9 or 12 digits, like 500103",
        ),
    ],
    ids=["array", "not-json", "bad-fields"],
)
def test_explain_of_a_file_that_is_no_case_fails_with_one_line(
    tmp_path: Path, text: str, reason: str
) -> None:
    result = run("explain", str(write(tmp_path / "case.json", text)))
    assert result.exit_code == 1
    assert result.stderr.startswith("xinfang: error: ") and reason in result.stderr
    assert len(result.stderr.splitlines()) == 1


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
    assert "skipped 1 line that is not a JSON object: 7" in result.stderr


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
