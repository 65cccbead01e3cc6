"""`xinfang demo --cases FILE` with lines a newcomer writes by hand: every line goes to the real
intake, the invalid ones are listed with their line, reason code and reason; a file that is
missing or empty, or a --keep path that cannot be used, is one line `xinfang: error: …`, never
a traceback. Small files: each run takes a second or two."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from dispatcher.adapters.db import schema
from dispatcher.demo.cases_file import UNREADABLE_ROUTING_KEY, CasesFileError, read_lines
from dispatcher.demo.run import run_demo, sample_path, terminal_bars

TIMEOUT = 120


def _sample(count: int) -> list[str]:
    return sample_path().read_text("utf-8").splitlines()[:count]


def _bare_date(line: str) -> str:
    case = json.loads(line) | {"external_id": "BARE-DATE-1", "received_at": "2026-05-26"}
    return json.dumps(case, ensure_ascii=False)


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """Two valid cases, a blank line, a receipt without a time, a line cut off."""
    first, second = _sample(2)
    lines = [first, second, "", _bare_date(first), first[:40]]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def xinfang(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("XINFANG_")}
    return subprocess.run(
        [sys.executable, "-m", "dispatcher.cli", *args],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
        check=False,
    )


def _one_error_line(result: subprocess.CompletedProcess[str], code: int, mentions: str) -> None:
    assert result.returncode == code, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("xinfang: error: "), result.stderr
    assert mentions in lines[0] and result.stdout == ""


# -- reading the file ----------------------------------------------------------------------


def test_lines_keep_their_numbers_and_an_invalid_one_has_no_receipt(mixed: Path) -> None:
    lines = read_lines(mixed)
    assert [line.number for line in lines] == [1, 2, 4, 5]  # the blank line 3 is skipped
    assert [line.received_at is None for line in lines] == [False, False, True, True]
    assert lines[2].routing_key == UNREADABLE_ROUTING_KEY
    assert lines[0].received_at is not None and lines[0].received_at.utcoffset() is not None


def test_a_line_separator_inside_a_json_string_does_not_split_the_line(tmp_path: Path) -> None:
    case = json.loads(_sample(1)[0])
    case["content"] += "\u2028第二段。"  # valid in a JSON string; str.splitlines would break it
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(case, ensure_ascii=False) + "\n", encoding="utf-8")
    (line,) = read_lines(path)
    assert line.received_at is not None


def test_a_file_of_blank_lines_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "blank.jsonl"
    path.write_text("\n  \n", encoding="utf-8")
    with pytest.raises(CasesFileError, match="holds no case"):
        read_lines(path)


# -- the command ---------------------------------------------------------------------------


def test_invalid_lines_are_rejected_by_the_intake_and_listed_with_their_reason(
    mixed: Path, tmp_path: Path
) -> None:
    result = xinfang("demo", "--cases", str(mixed), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    assert (report["cases"], report["rejected"]) == (2, 2)
    assert [(r["line"], r["code"]) for r in report["rejected_lines"]] == [
        (4, "received_at"),
        (5, "json"),
    ]
    bare, cut = (r["reason"] for r in report["rejected_lines"])
    assert bare.startswith("received_at: is not a valid date-time")
    assert cut.startswith("message is not JSON:")
    # the simulation starts at the first valid receipt, not at the machine's clock
    assert report["simulated_from"] == json.loads(_sample(1)[0])["received_at"][:10]


def test_the_text_lists_the_rejected_lines_and_leaves_no_empty_heading(
    mixed: Path, tmp_path: Path
) -> None:
    result = xinfang("demo", "--cases", str(mixed), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("  line 4     received_at  received_at: is not") for line in lines)
    assert any(line.startswith("  line 5     json         message is not JSON") for line in lines)
    for heading, following in zip(lines, [*lines[1:], ""], strict=True):
        if heading.endswith(":"):
            assert following.startswith("  "), f"nothing under {heading!r}"
    assert not (tmp_path / "xinfang-demo.db").exists()
    assert result.stderr == ""  # no progress bar where stderr is not a terminal


@pytest.mark.parametrize(
    ("args", "code", "mentions"),
    [
        (["--cases", "missing.jsonl"], 2, "does not exist"),
        (["--cases", "blank.jsonl"], 1, "blank.jsonl holds no case"),
        (["--cases", "blank.jsonl", "--keep", "no/such/dir/kept.db"], 2, "--keep"),
        (["--keep", "taken.db"], 1, "taken.db exists"),
    ],
)
def test_a_file_that_cannot_be_used_is_one_error_line(
    tmp_path: Path, args: list[str], code: int, mentions: str
) -> None:
    (tmp_path / "blank.jsonl").write_text("\n", encoding="utf-8")
    (tmp_path / "taken.db").write_bytes(b"a real database, perhaps")
    _one_error_line(xinfang("demo", *args, cwd=tmp_path), code, mentions)
    assert (tmp_path / "taken.db").read_bytes() == b"a real database, perhaps"


# -- in process: progress and the kept database --------------------------------------------


class RecordedBar:
    def __init__(self, description: str, total: int, unit: str) -> None:
        self.description, self.total, self.done, self.closed = description, total, 0, False

    def update(self, n: float = 1) -> None:
        self.done += int(n)

    def close(self) -> None:
        self.closed = True


def test_progress_is_shown_per_phase_and_the_kept_database_is_a_normal_one(
    mixed: Path, tmp_path: Path, memory_queues: None
) -> None:
    bars: list[RecordedBar] = []

    def record(description: str, total: int, unit: str) -> RecordedBar:
        bars.append(RecordedBar(description, total, unit))
        return bars[-1]

    kept = tmp_path / "kept" / "demo.db"
    kept.parent.mkdir()
    report = run_demo(mixed, keep=kept, progress=record)

    assert (bars[0].description, bars[0].total) == ("intake", 4)  # the 4 non-blank lines
    assert [bar.description for bar in bars] == ["intake", "departments", "reviews"]
    assert all(bar.done == bar.total and bar.closed for bar in bars)
    assert bars[1].total == report.commands["applied"] > 0
    assert sorted(path.name for path in kept.parent.iterdir()) == ["demo.db"]  # no -wal left
    engine = create_engine(f"sqlite:///{kept}")
    try:
        assert schema.current_revision(engine) == schema.head_revision()
    finally:
        engine.dispose()
    assert report.as_dict()["explore"][-1].endswith(f"xinfang case show {report.example_case}")


def test_the_terminal_bar_stays_silent_off_a_terminal() -> None:
    assert not sys.stderr.isatty()  # pytest captures it
    bar = terminal_bars("intake", 3, "msg")
    try:
        assert bar.disable  # tqdm's disable=None: off where stderr is not a TTY
    finally:
        bar.close()
