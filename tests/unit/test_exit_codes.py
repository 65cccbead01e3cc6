"""One rule for every command: a command line that is not understood exits 2, one that was
understood but refused or failed exits 1; either way stderr ends in one line
`xinfang: error: …`, and no traceback ever appears. Run in-process through `main`, as the
console script runs it, on a SQLite file in tmp_path."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from in_process import Xinfang

PREFIX = "xinfang: error: "

USAGE = [
    ["frobnicate"],
    ["--frobnicate"],
    ["publish", "missing.jsonl"],
    ["metrics"],
    ["metrics", "--port", "70000"],
    ["deadline", "--clock", "handling", "--start", "yesterday"],
    ["deadline", "--clock", "handling", "--start", "2026-09-28", "--extension-days", "x"],
    ["case", "extend", "c-1", "--days", "x", "--approved-by", "a", "--reason", "r"],
    ["case", "evaluate", "c-1", "--rating", "meh"],
    ["case", "show"],
    ["case", "issue-code"],
    ["rules", "check", "missing/"],
    ["import", "csv", "--map", "missing.yaml", "cases.csv"],
    ["demo", "--cases", "missing.jsonl"],
    ["demo", "--port", "8001"],
    ["demo", "--serve", "--port", "70000"],
    ["demo", "--serve", "--port", "0"],
    ["api", "--port", "0"],
    ["report", "--csv", "--json"],
    ["report", "--since", "June"],
    ["keys", "add", "wechat-miniapp", "--rate", "often"],
    ["keys", "add", " "],
    ["keys", "revoke"],
    ["users", "add", "someone"],
    ["users", "add", "someone", "--unit", "500103:housing", "--locale", "fr"],
]

REFUSED = [
    ["case", "show", "nope"],
    ["case", "accept", "nope"],
    ["case", "extend", "nope", "--days", "45", "--approved-by", "a", "--reason", "r"],
    ["case", "issue-code", "nope"],
    ["deadline", "--clock", "handling", "--start", "2026-09-28", "--extension-days", "45"],
    ["deadline", "--clock", "forwarding", "--start", "2026-09-28", "--extension-days", "5"],
    ["rules", "explain", "not-a-case.json"],
    ["rules", "check", "bad-rules.yaml"],
    ["db", "upgrade", "9999"],
    ["keys", "revoke", "nope"],
    ["users", "disable", "nope"],
]

# Refused before anything else because there is no database: never an empty file left behind.
NO_DATABASE = [
    ["case", "show", "nope"],
    ["case", "accept", "nope"],
    ["case", "issue-code", "nope"],
    ["overdue"],
    ["rules", "replay"],
    ["report"],
    ["run"],
    ["keys", "list"],
    ["users", "list"],
]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "cases.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (tmp_path / "not-a-case.json").write_text(json.dumps({"title": "x"}), encoding="utf-8")
    (tmp_path / "bad-rules.yaml").write_text("version: x\nrules: [{id: 1}]\n", encoding="utf-8")
    return tmp_path


@pytest.fixture
def database(folder: Path, xinfang_cli: Xinfang) -> Path:
    assert xinfang_cli("db", "upgrade").code == 0
    return folder / "xinfang.db"


def _assert_one_error_line(lines: list[str]) -> None:
    assert lines, "no error line"
    assert lines[-1].startswith(PREFIX), lines
    assert not any("Traceback" in line for line in lines), lines


@pytest.mark.parametrize("args", USAGE, ids=" ".join)
def test_a_command_line_not_understood_exits_2(
    args: list[str], database: Path, xinfang_cli: Xinfang
) -> None:
    ran = xinfang_cli(*args)
    assert ran.code == 2
    _assert_one_error_line(ran.err_lines)
    assert len(ran.err_lines) == 1, ran.err_lines


@pytest.mark.parametrize("args", REFUSED, ids=" ".join)
def test_a_command_refused_or_failed_exits_1(
    args: list[str], database: Path, xinfang_cli: Xinfang
) -> None:
    ran = xinfang_cli(*args)
    assert ran.code == 1
    _assert_one_error_line(ran.err_lines)


@pytest.mark.parametrize("args", NO_DATABASE, ids=" ".join)
def test_without_a_database_a_command_is_refused_and_creates_none(
    args: list[str], folder: Path, xinfang_cli: Xinfang
) -> None:
    ran = xinfang_cli(*args)
    assert ran.code == 1
    _assert_one_error_line(ran.err_lines)
    assert "xinfang db upgrade" in ran.err_lines[-1]
    assert not (folder / "xinfang.db").exists()


@pytest.mark.parametrize("command", [["api"], ["demo", "--serve"]], ids=" ".join)
def test_a_port_already_taken_is_refused_with_one_line(
    command: list[str], database: Path, xinfang_cli: Xinfang
) -> None:
    # `demo --serve` refuses before its demo runs: the seconds of work would be for nothing.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        ran = xinfang_cli(*command, "--port", port)
    assert ran.code == 1
    _assert_one_error_line(ran.err_lines)
    assert f"127.0.0.1:{port}" in ran.err_lines[-1]


def test_bare_xinfang_prints_its_help_and_succeeds(xinfang_cli: Xinfang) -> None:
    ran = xinfang_cli()
    assert ran.code == 0
    assert "Usage: xinfang" in ran.out and ran.err == ""
