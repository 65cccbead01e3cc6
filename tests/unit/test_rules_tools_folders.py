"""A rule-set folder with its own directory.yaml (and the mapping.yaml of its CSV source) is
one unit wherever a rule path is loaded: `rules check|test|explain|replay`, and XINFANG_RULES
at start-up. Its directory.yaml and mapping.yaml are not rule files; a directory named on the
command line, or XINFANG_DIRECTORY beside XINFANG_RULES, still wins."""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from nyc_rules import NYC_DIRECTORY
from support import EXAMPLES

from dispatcher.adapters.files.rules import load_ruleset
from dispatcher.bootstrap.app import App, build
from dispatcher.bootstrap.settings import Settings
from dispatcher.cli import cli
from dispatcher.domain.clock import FixedClock
from monitoring.metrics import Metrics
from rules import RuleFileError, default_directory_path, directory_path_for, rule_files

RULES = """\
version: nyc-rules-t
rules:
  - {id: heat, owner: t, changed: 2026-11-20, when: {keywords: {any: [HEAT]}},
     assign: {unit: "nyc:HPD"}}
  - {id: noise, owner: t, changed: 2026-11-20, when: {keywords: {any: [Noise]}},
     assign: {unit: "nyc:NYPD"}}
"""

CASE = {
    "schema": "xinfang.case/v1",
    "source": "nyc-311",
    "external_id": "1",
    "channel": "phone",
    "received_at": "2023-02-28T10:00:00-05:00",
    "region": "360100",
    "title": "[HEAT/HOT WATER] APARTMENT ONLY",
    "content": "HEAT/HOT WATER: APARTMENT ONLY",
}

NO_ENV = {"XINFANG_RULES": "", "XINFANG_DIRECTORY": ""}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A rule-set folder as the examples ship them: rules, directory and the CSV mapping."""
    folder = tmp_path / "nyc"
    folder.mkdir()
    (folder / "rules.yaml").write_text(RULES, "utf-8")
    (folder / "directory.yaml").write_text(NYC_DIRECTORY, "utf-8")
    shutil.copy(EXAMPLES / "nyc311" / "mapping.yaml", folder / "mapping.yaml")
    return folder


def rules(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["rules", *args], env=NO_ENV | (env or {}))


def test_the_folder_is_checked_against_its_own_directory(folder: Path) -> None:
    whole = rules("check", str(folder))
    assert whole.exit_code == 0, whole.output
    assert whole.stdout.startswith("ok: 2 rules, version nyc-rules-t+")
    # the same rule set as naming the file and the directory one by one
    parts = rules(
        "check", str(folder / "rules.yaml"), "--directory", str(folder / "directory.yaml")
    )
    assert parts.stdout == whole.stdout


def test_directory_and_mapping_are_not_rule_files(folder: Path) -> None:
    assert rule_files(folder) == [folder / "rules.yaml"]
    (folder / "rules.yaml").unlink()
    with pytest.raises(RuleFileError) as raised:
        rule_files(folder)
    assert raised.value.problems == (
        f"{folder}: no *.yaml rule files in this folder "
        "(directory.yaml and mapping.yaml are not rule files)",
    )


def test_a_directory_option_wins_over_the_folders_own(folder: Path) -> None:
    result = rules("check", str(folder), "--directory", str(default_directory_path()))
    assert result.exit_code == 1
    assert "'nyc:HPD' is not a named unit of the directory" in result.stdout


def test_a_folder_on_the_command_line_keeps_its_directory_beside_xinfang_directory(
    folder: Path,
) -> None:
    """XINFANG_DIRECTORY is the directory of the deployment's XINFANG_RULES."""
    result = rules("check", str(folder), env={"XINFANG_DIRECTORY": str(default_directory_path())})
    assert result.exit_code == 0, result.output


def test_xinfang_rules_may_name_the_folder(folder: Path) -> None:
    result = rules("check", env={"XINFANG_RULES": str(folder)})
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: 2 rules, version nyc-rules-t+")


def test_an_explicit_xinfang_directory_wins_over_the_folders_own(folder: Path) -> None:
    env = {"XINFANG_RULES": str(folder), "XINFANG_DIRECTORY": str(default_directory_path())}
    result = rules("check", env=env)
    assert result.exit_code == 1
    assert "'nyc:HPD' is not a named unit of the directory" in result.stdout


def test_test_takes_the_folder(folder: Path, tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    lines = [CASE | {"extra": {"agency": "HPD"}}, CASE | {"title": "Noise", "extra": {}}]
    cases.write_text("\n".join(json.dumps(line) for line in lines), "utf-8")
    result = rules(
        "test", "--rules", str(folder), "--cases", str(cases), "--expect", "extra.agency"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("accuracy 100.0%: 1 correct of 1, 0 to triage, 0 misrouted")


def test_explain_takes_the_folder(folder: Path, tmp_path: Path) -> None:
    case = tmp_path / "case.json"
    case.write_text(json.dumps(CASE), "utf-8")
    result = rules("explain", str(case), "--rules", str(folder))
    assert result.exit_code == 0, result.output
    assert (
        "decision: assigned → Housing Preservation and Development (nyc:HPD) by rule heat"
        in result.stdout
    )


def test_replay_takes_the_folder(folder: Path, database_url: str) -> None:
    result = rules("replay", "--rules", str(folder), env={"XINFANG_DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("replayed 0 routed cases with nyc-rules-t+")


@pytest.fixture
def started(
    folder: Path, settings: Settings, clock: FixedClock, memory_queues: None
) -> Iterator[App]:
    app = build(dataclasses.replace(settings, rules_path=folder), clock=clock, metrics=Metrics())
    try:
        yield app
    finally:
        app.close()


def test_xinfang_rules_at_start_up_loads_the_folder_with_its_directory(started: App) -> None:
    ruleset = started.decider.ruleset
    assert ruleset.version.startswith("nyc-rules-t+")
    assert ruleset.directory.named_unit("nyc:HPD") is not None


def test_start_up_with_xinfang_directory_uses_that_directory(folder: Path) -> None:
    with pytest.raises(RuleFileError, match="'nyc:HPD' is not a named unit"):
        load_ruleset(folder, default_directory_path())


def test_which_directory_goes_with_a_rule_path(folder: Path) -> None:
    assert directory_path_for(folder, None) == folder / "directory.yaml"
    assert directory_path_for(folder / "rules.yaml", None) == default_directory_path()
    assert directory_path_for(None, None) == default_directory_path()
    other = folder / "other.yaml"
    assert directory_path_for(folder, other) == other
