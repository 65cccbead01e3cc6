"""The `xinfang` command line as users and scripts meet it: run as a process (python -m
dispatcher.cli), embedded (no broker URL), SQLite in tmp_path. Bad arguments: exit 2 and one
line on stderr; start-up problems: exit 1 and one line that says what to do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dispatcher.adapters.db.schema import head_revision

TIMEOUT = 60  # `run` that fails to fail would serve forever: bound it


def xinfang(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("XINFANG_")}
    return subprocess.run(
        [sys.executable, "-m", "dispatcher.cli", *args],
        cwd=cwd,
        env=clean | (env or {}),
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
        check=False,
    )


def stderr_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


@pytest.fixture
def database(tmp_path: Path) -> dict[str, str]:
    return {"XINFANG_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}


@pytest.fixture
def upgraded(tmp_path: Path, database: dict[str, str]) -> dict[str, str]:
    result = xinfang("db", "upgrade", cwd=tmp_path, env=database)
    assert result.returncode == 0, result.stderr
    return database


# -- bad arguments -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "mentions"),
    [
        (["--frobnicate"], "--frobnicate"),
        (["frobnicate"], "frobnicate"),
        (["run", "--roles", "nonsense"], "nonsense"),
        (["run", "--roles", ","], "--roles"),
        (["db", "upgrade", "head", "extra"], "extra"),
        (["publish"], "FILE"),
    ],
    ids=[
        "unknown-option",
        "unknown-command",
        "unknown-role",
        "no-role",
        "extra-argument",
        "missing-argument",
    ],
)
def test_bad_arguments_exit_2_with_one_line_on_stderr(
    tmp_path: Path, database: dict[str, str], args: list[str], mentions: str
) -> None:
    result = xinfang(*args, cwd=tmp_path, env=database)

    assert result.returncode == 2, result
    lines = stderr_lines(result)
    assert len(lines) == 1, lines
    assert lines[0].startswith("xinfang: error:"), lines
    assert mentions in lines[0]
    assert result.stdout == ""
    assert not (tmp_path / "cli.db").exists()  # refused before touching anything


@pytest.mark.parametrize(
    "args", [["--help"], ["-h"], ["run", "--help"], ["db", "--help"], ["publish", "--help"]]
)
def test_help_exits_0(tmp_path: Path, args: list[str]) -> None:
    result = xinfang(*args, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: xinfang")
    assert result.stderr == ""


# -- database schema -----------------------------------------------------------------------


def test_db_upgrade_on_a_fresh_sqlite_file_then_current_prints_head(
    tmp_path: Path, database: dict[str, str]
) -> None:
    head = head_revision()

    upgrade = xinfang("db", "upgrade", cwd=tmp_path, env=database)

    assert upgrade.returncode == 0, upgrade.stderr
    assert head in upgrade.stdout
    assert (tmp_path / "cli.db").exists()
    current = xinfang("db", "current", cwd=tmp_path, env=database)
    assert current.returncode == 0, current.stderr
    assert current.stdout.strip() == f"current {head}, head {head}"


def test_db_current_on_a_fresh_database_says_none(tmp_path: Path, database: dict[str, str]) -> None:
    result = xinfang("db", "current", cwd=tmp_path, env=database)

    assert result.returncode == 0, result.stderr
    missing = tmp_path / "cli.db"
    assert (
        result.stdout.strip() == f"current none (no database at {missing}), head {head_revision()}"
    )
    assert not missing.exists()  # asking created nothing


@pytest.mark.parametrize("args", [("case", "show", "some-case"), ("overdue",), ("run",)])
def test_a_command_on_a_missing_sqlite_file_says_to_upgrade_and_creates_nothing(
    tmp_path: Path, database: dict[str, str], args: tuple[str, ...]
) -> None:
    result = xinfang(*args, cwd=tmp_path, env=database)

    assert result.returncode == 1
    assert stderr_lines(result) == [
        f"xinfang: error: there is no database at {tmp_path / 'cli.db'}: run `xinfang db "
        "upgrade` to create it (or set XINFANG_DATABASE_URL)"
    ]
    assert not (tmp_path / "cli.db").exists()


def test_db_upgrade_twice_is_harmless(tmp_path: Path, upgraded: dict[str, str]) -> None:
    again = xinfang("db", "upgrade", cwd=tmp_path, env=upgraded)

    assert again.returncode == 0, again.stderr
    assert head_revision() in again.stdout


# -- start-up errors -----------------------------------------------------------------------


def test_run_on_an_un_upgraded_database_exits_1_and_says_to_upgrade(
    tmp_path: Path, database: dict[str, str]
) -> None:
    result = xinfang("run", cwd=tmp_path, env=database)

    assert result.returncode == 1, result
    assert "xinfang db upgrade" in result.stderr
    assert "Traceback" not in result.stderr
    assert len([line for line in stderr_lines(result) if line.startswith("xinfang:")]) == 1


def test_a_broken_rule_file_stops_run_with_a_message_naming_the_file(
    tmp_path: Path, upgraded: dict[str, str]
) -> None:
    rules = tmp_path / "broken-rules.yaml"
    rules.write_text("version: x\nrules:\n  - id: [unclosed\n", encoding="utf-8")

    result = xinfang("run", cwd=tmp_path, env=upgraded | {"XINFANG_RULES": str(rules)})

    assert result.returncode == 1, result
    assert "broken-rules.yaml" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_rule_file_stops_run_with_a_message_naming_the_file(
    tmp_path: Path, upgraded: dict[str, str]
) -> None:
    missing = tmp_path / "no-such-rules.yaml"

    result = xinfang("run", cwd=tmp_path, env=upgraded | {"XINFANG_RULES": str(missing)})

    assert result.returncode == 1, result
    assert "no-such-rules.yaml" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_number_in_the_environment_exits_1_naming_the_variable(
    tmp_path: Path, upgraded: dict[str, str]
) -> None:
    result = xinfang("run", cwd=tmp_path, env=upgraded | {"XINFANG_WORKER_THREADS": "four"})

    assert result.returncode == 1, result
    lines = stderr_lines(result)
    assert len(lines) == 1, lines
    assert lines[0].startswith("xinfang:") and "XINFANG_WORKER_THREADS" in lines[0]


def test_a_bad_log_level_exits_1_naming_the_variable(
    tmp_path: Path, upgraded: dict[str, str]
) -> None:
    result = xinfang("run", cwd=tmp_path, env=upgraded | {"XINFANG_LOG_LEVEL": "chatty"})

    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    lines = stderr_lines(result)
    assert len(lines) == 1, lines
    assert lines[0].startswith("xinfang:") and "XINFANG_LOG_LEVEL" in lines[0]


def test_the_demo_refuses_a_bad_log_level_before_it_runs(tmp_path: Path) -> None:
    """The demo reads XINFANG_LOG_LEVEL (and no other setting), checked as every command does."""
    result = xinfang("demo", cwd=tmp_path, env={"XINFANG_LOG_LEVEL": "chatty"})

    assert result.returncode == 1, result
    lines = stderr_lines(result)
    assert len(lines) == 1 and "XINFANG_LOG_LEVEL='chatty'" in lines[0], lines
    assert list(tmp_path.iterdir()) == []


# -- publish ---------------------------------------------------------------------------------


def test_publish_reports_published_and_failed_lines_and_exits_1(
    tmp_path: Path, upgraded: dict[str, str], make_case: Callable[..., dict[str, Any]]
) -> None:
    lines = [
        json.dumps(make_case(), ensure_ascii=False),
        "{not json",
        "",  # blank lines are skipped but still counted
        json.dumps(make_case(channel="online"), ensure_ascii=False),
        json.dumps(make_case(drop=("title",)), ensure_ascii=False),
    ]
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = xinfang("publish", str(cases), cwd=tmp_path, env=upgraded | NO_LINKING)

    assert result.returncode == 1, result
    out = result.stdout.splitlines()
    assert out[0] == "published 2, failed 2"
    failures = [line.strip() for line in out[1:]]
    assert len(failures) == 2, out
    assert failures[0].startswith("line 2:")
    assert failures[1].startswith("line 5:") and "title" in failures[1]
    assert "registered and routed 2" in result.stderr  # embedded: straight into the database
    assert _stages(upgraded) == {"assigned": 2}


# The cases of make_case() share one petitioner and matter: they would join one case as repeats.
NO_LINKING = {"XINFANG_REPEAT_WINDOW_DAYS": "0"}


def _stages(database: dict[str, str]) -> dict[str, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(database["XINFANG_DATABASE_URL"])
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT stage, count(*) FROM cases GROUP BY stage")).all()
    engine.dispose()
    return {stage: count for stage, count in rows}


def test_publish_of_only_good_lines_exits_0(
    tmp_path: Path, upgraded: dict[str, str], make_case: Callable[..., dict[str, Any]]
) -> None:
    body = "\n".join(json.dumps(make_case(), ensure_ascii=False) for _ in range(3)) + "\n"

    result = xinfang("publish", "-", cwd=tmp_path, stdin=body, env=upgraded | NO_LINKING)

    assert result.returncode == 0, result
    assert result.stdout.splitlines()[0] == "published 3, failed 0"
    assert sum(_stages(upgraded).values()) == 3


def test_embedded_publish_twice_registers_once(
    tmp_path: Path, upgraded: dict[str, str], make_case: Callable[..., dict[str, Any]]
) -> None:
    body = json.dumps(make_case(), ensure_ascii=False) + "\n"

    first = xinfang("publish", "-", cwd=tmp_path, stdin=body, env=upgraded)
    again = xinfang("publish", "-", cwd=tmp_path, stdin=body, env=upgraded)

    assert first.returncode == again.returncode == 0, (first, again)
    assert "already there 1" in again.stderr
    assert _stages(upgraded) == {"assigned": 1}


def test_embedded_publish_without_a_database_says_to_upgrade_and_leaves_no_file(
    tmp_path: Path, database: dict[str, str], make_case: Callable[..., dict[str, Any]]
) -> None:
    body = json.dumps(make_case(), ensure_ascii=False) + "\n"

    result = xinfang("publish", "-", cwd=tmp_path, stdin=body, env=database)

    assert result.returncode == 1
    assert stderr_lines(result) == [stderr_lines(result)[0]]
    assert stderr_lines(result)[0].startswith("xinfang: error: ")
    assert "xinfang db upgrade" in result.stderr
    assert not (tmp_path / "cli.db").exists()


def test_publish_of_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = xinfang("publish", str(tmp_path / "none.jsonl"), cwd=tmp_path)

    assert result.returncode == 2
    lines = stderr_lines(result)
    assert len(lines) == 1 and lines[0].startswith("xinfang: error:"), lines


UNREACHABLE = {"XINFANG_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/none"}


@pytest.mark.parametrize(
    "args", [("db", "current"), ("db", "upgrade"), ("run",), ("case", "show", "some-case")]
)
def test_an_unreachable_database_is_one_line_and_exit_1(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    result = xinfang(*args, cwd=tmp_path, env=UNREACHABLE)
    assert result.returncode == 1
    assert stderr_lines(result) == [stderr_lines(result)[0]]
    assert stderr_lines(result)[0].startswith("xinfang: error: the database cannot be used")


def test_an_unknown_revision_is_one_line_and_exit_1(
    tmp_path: Path, database: dict[str, str]
) -> None:
    result = xinfang("db", "upgrade", "9999", cwd=tmp_path, env=database)
    assert result.returncode == 1 and len(stderr_lines(result)) == 1
    assert "9999" in stderr_lines(result)[0]


# -- what users expect of a command line -------------------------------------------------------


def test_bare_xinfang_prints_its_help_and_exits_0(tmp_path: Path) -> None:
    result = xinfang(cwd=tmp_path)

    assert result.returncode == 0
    assert result.stderr == ""
    assert "Commands:" in result.stdout and "publish" in result.stdout


def test_version_is_the_installed_package_version(tmp_path: Path) -> None:
    from importlib.metadata import version

    result = xinfang("--version", cwd=tmp_path)

    assert result.returncode == 0
    assert result.stdout.strip() == f"xinfang, version {version('xinfang')}"


def test_shell_completion_completes_commands(tmp_path: Path) -> None:
    completion = {
        "_XINFANG_COMPLETE": "bash_complete",
        "COMP_WORDS": "xinfang pub",
        "COMP_CWORD": "1",
    }
    script = subprocess.run(
        [sys.executable, "-c", "from dispatcher.cli import main; main()"],
        cwd=tmp_path,
        env=os.environ | completion,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )

    assert script.stdout.splitlines() == ["plain,publish"]
