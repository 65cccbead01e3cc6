"""`xinfang rules replay`: stored cases decided again and compared with the decision stored
when each was routed, on a SQLite database the services filled."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from dispatcher.bootstrap.app import App
from dispatcher.cli import cli
from dispatcher.domain.decisions import Action, Command
from dispatcher.services.intake import Registered
from dispatcher.services.lifecycle import Applied

MakeCase = Callable[..., dict[str, Any]]

NEW_RULES = """\
version: replay-new
rules:
  - {id: elevator-to-emergency, owner: t, changed: 2026-11-20,
     when: {keywords: {any: [电梯]}}, assign: {kind: emergency, level: district}}
"""

# The bundled rules' housing decisions under other ids: the same units, other rules.
RENAMED_RULES = """\
version: replay-renamed
rules:
  - {id: elevator, owner: t, changed: 2026-11-20, when: {keywords: {any: [电梯]}},
     assign: {kind: housing, level: district}}
  - {id: housing, owner: t, changed: 2026-11-20, when: {category: [housing]},
     assign: {kind: housing, level: district}}
"""

REPLY = {
    "request": "要求协调加装电梯",
    "facts": "经查，业主意见不一致",
    "reasons": "依据相关规定",
    "decision": "由街道组织协商",
    "legal_basis": "《民法典》第二百七十八条",
}


def replay(database_url: str, *args: str) -> Result:
    env = {"XINFANG_DATABASE_URL": database_url, "XINFANG_RULES": "", "XINFANG_DIRECTORY": ""}
    return CliRunner().invoke(cli, ["rules", "replay", *args], env=env)


def route(app: App, message: dict[str, Any]) -> str:
    outcome = app.intake.receive(json.dumps(message).encode(), "application/json", "case.phone")
    assert isinstance(outcome, Registered)
    app.routing.route(outcome.case_id)
    return outcome.case_id


def act(app: App, case_id: str, action: Action, **data: Any) -> Applied:
    applied = app.commands.handle(Command(action, case_id, "tester", data=data))
    assert isinstance(applied, Applied), applied
    return applied


@pytest.fixture
def stored(app: App, make_case: MakeCase) -> list[str]:
    """Three cases registered and routed with the bundled rules through the services."""
    titles = ("小区加装电梯纠纷", "电梯长期故障", "物业不作为")
    return [route(app, make_case(title=title, content="请处理。")) for title in titles]


@pytest.fixture
def triage_case(app: App, make_case: MakeCase) -> str:
    """A case no bundled rule matches: triage at 渝中区's petition bureau."""
    return route(app, make_case(title="咨询一件事", content="请回复。", drop=("category",)))


def test_replay_lists_what_a_new_rule_set_would_change_and_writes_nothing(
    tmp_path: Path, app: App, stored: list[str], database_url: str
) -> None:
    new = tmp_path / "new.yaml"
    new.write_text(NEW_RULES, "utf-8")
    before = _snapshot(app)
    result = replay(database_url, "--rules", str(new))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    # oldest first; the three were registered at one instant, so in case-id order
    assert lines[:3] == sorted(
        [
            f"{stored[0]}: 500103:housing (housing-elevator) → 500103:emergency "
            "(elevator-to-emergency)",
            f"{stored[1]}: 500103:housing (housing-elevator) → 500103:emergency "
            "(elevator-to-emergency)",
            f"{stored[2]}: 500103:housing (category-housing) → 500103:petition_bureau (triage)",
        ]
    )
    summary = lines[3]
    assert lines[4:] == [
        "       2  500103:housing → 500103:emergency",
        "       1  500103:housing → 500103:petition_bureau (triage)",
    ]
    assert summary.startswith("replayed 3 routed cases with replay-new+")
    assert summary.endswith(": 3 would be routed differently")
    assert _snapshot(app) == before


def test_the_same_rules_change_nothing_wherever_the_cases_went_since(
    app: App, stored: list[str], triage_case: str, database_url: str
) -> None:
    """The stage and the unit of a case move on after routing (accepted, rerouted, forwarded
    from triage, reviewed at the next-higher body); the decision of the rules does not."""
    accepted, rerouted, reviewed = stored
    act(app, accepted, Action.ACCEPT)
    act(app, rerouted, Action.OBJECT, reason="属于规划部门")
    land = {"id": "500103:land", "name": "渝中区规划和自然资源局", "kind": "land"}
    act(app, rerouted, Action.REROUTE, org_unit=land, reason="同意异议")
    act(app, triage_case, Action.ASSIGN, org_unit=land, reason="属于规划")
    act(app, reviewed, Action.ACCEPT)
    act(app, reviewed, Action.REPLY, **REPLY)
    act(app, reviewed, Action.EVALUATE, rating="dissatisfied")
    review = act(app, reviewed, Action.REQUEST_REVIEW, reason="不服处理意见").linked_case_id
    assert review is not None

    result = replay(database_url)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    # four routed by rules; the review case was opened at the next-higher body, not routed
    assert len(lines) == 1, lines
    assert lines[0].startswith("replayed 4 routed cases with default-2026.11+")
    assert lines[0].endswith(": 0 would be routed differently")


def test_another_rule_to_the_same_unit_is_counted_not_listed(
    tmp_path: Path, stored: list[str], database_url: str
) -> None:
    renamed = tmp_path / "renamed.yaml"
    renamed.write_text(RENAMED_RULES, "utf-8")
    result = replay(database_url, "--rules", str(renamed))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("replayed 3 routed cases with replay-renamed+")
    assert lines[0].endswith(": 0 would be routed differently, 3 to the same unit by another rule")
    assert lines[1:] == [
        "same unit and outcome, another rule:",
        "       2  housing-elevator → elevator",
        "       1  category-housing → housing",
    ]


def test_a_new_outcome_at_the_same_unit_is_a_change(
    tmp_path: Path, triage_case: str, database_url: str
) -> None:
    diverting = tmp_path / "divert.yaml"
    diverting.write_text(
        """\
version: replay-divert
rules:
  - {id: to-court, owner: t, changed: 2026-11-20, when: {keywords: {any: [咨询]}},
     divert: {channel: litigation, note: 诉讼}}
""",
        "utf-8",
    )
    result = replay(database_url, "--rules", str(diverting))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"{triage_case}: 500103:petition_bureau (triage) → "
        "500103:petition_bureau (diverted by to-court)"
    )
    assert lines[1].endswith(": 1 would be routed differently")
    bureau = "500103:petition_bureau"
    assert lines[2] == f"       1  {bureau} (triage) → {bureau} (diverted)"


def test_replay_limit(tmp_path: Path, stored: list[str], database_url: str) -> None:
    result = replay(database_url, "--limit", "1")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("replayed 1 routed case with default-2026.11+")


def test_replay_of_a_missing_sqlite_file_fails_with_one_line_and_creates_nothing(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "missing.db"
    done = _main("rules", "replay", database_url=f"sqlite:///{missing}")
    assert done.returncode == 1
    assert done.stderr == (
        f"xinfang: error: there is no database at {missing}: run `xinfang db upgrade` to create "
        "it (or set XINFANG_DATABASE_URL)\n"
    )
    assert not missing.exists()


def test_replay_without_a_schema_fails_with_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    done = _main("rules", "replay", database_url=f"sqlite:///{empty}")
    assert done.returncode == 1
    assert done.stderr.startswith(f"xinfang: error: cannot read cases from sqlite:///{empty}: ")
    assert done.stderr.endswith("(is the schema there? `xinfang db upgrade`)\n")
    assert len(done.stderr.splitlines()) == 1 and done.stdout == ""


def test_replay_with_a_bad_limit_is_a_usage_error(database_url: str) -> None:
    done = _main("rules", "replay", "--limit", "0", database_url=database_url)
    assert done.returncode == 2
    assert done.stderr.startswith("xinfang: error: Invalid value for '--limit'")


def _main(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    """The real entry point, whose error lines the users see."""
    env = os.environ | {
        "XINFANG_DATABASE_URL": database_url,
        "XINFANG_RULES": "",
        "XINFANG_DIRECTORY": "",
    }
    return subprocess.run(
        [sys.executable, "-m", "dispatcher.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def _snapshot(app: App) -> list[Any]:
    from sqlalchemy import select

    from dispatcher.adapters.db.tables import cases, events

    with app.engine.connect() as conn:
        return [list(conn.execute(select(cases)).all()), list(conn.execute(select(events)).all())]
