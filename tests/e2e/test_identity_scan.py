"""No identity leaks: a full demo run with every logger at DEBUG, scanned for the petitioners.

One run of `xinfang demo --cases FILE --keep DB --json` (tests/demo_capture.py: the real
command with XINFANG_LOG_LEVEL=DEBUG and every library's logger at DEBUG too) over the
bundled sample, plus a valid case whose phone and address are written with separators, plus
twelve invalid lines that each carry a real sample petitioner (a bad channel, a name or an ID
number too long, a phone as a number, unknown petitioner fields, the petitioner as one
string, a line cut off in the phone, a duplicate key, GBK instead of UTF-8, …), so that
rejection records, reasons and dead-letter headers are exercised.

Scanned, for every name, ID number, phone and address of the file's petitioners (the forms
tests/identity_scan.py folds: escapes, separators, full width):
- everything the process wrote: its log on stderr, at DEBUG, and the report on stdout;
- every table of the kept database but `cases`: events (their data included), rejected
  messages (reason, code, routing key), commands (refusal reasons), escalations,
  notifications (payload, recipient, last error), clocks, links, parties (keyed hashes);
- the metrics the process would serve, its registry with the database's gauges, as text;
- what left the process on its in-memory broker: every published event (body and headers),
  every rejected command, and the headers and properties of every rejected intake message;
- every notification handed to the sender, with the e-mail (subject and body) it makes.

Not scanned, because they hold the petitioner by design, where only operators look:
- the `cases` table: `cases.petitioner` is where the identity is kept, and the title and
  content are what the petitioner wrote, which may name them;
- the body of a rejected intake message: the producer's message kept unchanged on
  xinfang.intake.rejected, so that nothing sent is lost. The test shows that those bodies
  do hold the petitioners, found by the same scanner: its searches work on this run's data.

docs/privacy.md says the same for operators.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from identity_scan import Identity, find_leaks, identities

from dispatcher.demo.run import sample_path
from rules.directory import default_directory_path, load_directory

pytestmark = pytest.mark.e2e

TIMEOUT = 300
CAPTURE_SCRIPT = Path(__file__).parents[1] / "demo_capture.py"
RESTRICTED_TABLES = frozenset({"cases"})
LEVELS = ("city", "district", "town", "village")

# A valid case of a petitioner not in the sample, written as a clerk might type it.
SPACED_PETITIONER = {
    "name": "欧阳明月",
    "id_number": "50010319900101123x",
    "phone": "139-2345 6781",
    "address": "重庆市渝中区解放碑街道 民族路88号 3-2",
}


@dataclass(frozen=True)
class Scan:
    texts: dict[str, str]  # what is scanned, by where it came from
    wanted: list[Identity]
    report: dict[str, Any]
    capture: dict[str, Any]
    rejected_bodies: str  # kept unchanged by design: not scanned for leaks
    bad_codes: list[str]  # the reason code each invalid line must be rejected with


# -- the cases file -------------------------------------------------------------------------


def _sample() -> list[dict[str, Any]]:
    return [json.loads(line) for line in sample_path().read_text("utf-8").splitlines()]


def _line(case: dict[str, Any], **fields: Any) -> bytes:
    return json.dumps(case | fields, ensure_ascii=False).encode("utf-8")


def _cut_in_the_phone(case: dict[str, Any]) -> bytes:
    whole = _line(case)
    return whole[: whole.index(case["petitioner"]["phone"].encode()) + 5]


def _duplicate_phone(case: dict[str, Any]) -> bytes:
    return _line(case).replace(b'"phone": ', b'"phone": "13800000000", "phone": ', 1)


def _without_title(case: dict[str, Any]) -> bytes:
    return _line({key: value for key, value in case.items() if key != "title"})


def _bad_lines(full: Iterator[dict[str, Any]]) -> list[tuple[str, bytes]]:
    """(reason code, line): each from a sample case with all four identity fields."""

    def case(n: int) -> tuple[dict[str, Any], dict[str, str]]:
        taken = next(full) | {"external_id": f"IDSCAN-BAD-{n}"}
        return taken, taken["petitioner"]

    lines = []
    c, p = case(1)
    lines.append(("channel", _line(c, channel="wechat")))
    c, p = case(2)
    lines.append(("petitioner", _line(c, petitioner=p | {"name": (p["name"] + p["address"]) * 4})))
    c, p = case(3)
    lines.append(("petitioner", _line(c, petitioner=p | {"phone": int(p["phone"])})))
    c, p = case(4)
    mistyped = {"name": p["name"], "mobile": p["phone"], "id_card": p["id_number"]}
    lines.append(("petitioner", _line(c, petitioner=mistyped)))
    c, p = case(5)
    lines.append(("petitioner", _line(c, petitioner=f"{p['name']} {p['phone']} {p['address']}")))
    c, p = case(6)
    lines.append(("petitioner", _line(c, petitioner=p | {"id_number": p["id_number"] * 2})))
    c, p = case(7)
    lines.append(("unknown_field", _line(c, petitioner_phone=p["phone"])))
    c, p = case(8)
    lines.append(("json", _cut_in_the_phone(c)))
    c, p = case(9)
    lines.append(("json", _duplicate_phone(c)))
    c, p = case(10)
    lines.append(("encoding", json.dumps(c, ensure_ascii=False).encode("gbk")))
    c, p = case(11)
    lines.append(("missing_title", _without_title(c)))
    c, p = case(12)
    lines.append(("received_at", _line(c, received_at=p["phone"])))
    return lines


def _cases_file(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Write the file; return its cases (for their petitioners) and the bad lines' codes."""
    sample = _sample()
    full = iter([case for case in sample if len(case.get("petitioner") or {}) == 4])
    spaced = next(full) | {"external_id": "IDSCAN-SPACED-1", "petitioner": SPACED_PETITIONER}
    bad = _bad_lines(full)
    lines = [_line(case) for case in sample] + [_line(spaced)] + [line for _, line in bad]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return [*sample, spaced], [code for code, _ in bad]


# -- the run and what it left -----------------------------------------------------------------


def _env() -> dict[str, str]:
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("XINFANG_") and key.upper() != "PROMETHEUS_MULTIPROC_DIR"
    }
    return clean | {"XINFANG_LOG_LEVEL": "DEBUG", "PYTHONUNBUFFERED": "1"}


def _run_demo(work: Path, cases_file: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    capture, database = work / "capture.json", work / "demo.db"
    command = [sys.executable, str(CAPTURE_SCRIPT), str(capture), "demo"]
    command += ["--cases", str(cases_file), "--keep", str(database), "--json"]
    result = subprocess.run(
        command,
        cwd=work,
        env=_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="backslashreplace",  # an undecodable byte is still scanned, as its escape
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-5000:]
    return result, capture


def _tables(database: Path) -> dict[str, str]:
    """Every row of every table but the restricted ones, as stored (JSON columns as text)."""
    texts = {}
    with closing(sqlite3.connect(database)) as conn:
        names = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        for (name,) in names:
            if name in RESTRICTED_TABLES:
                continue
            rows = conn.execute(f'SELECT * FROM "{name}"').fetchall()
            texts[f"db:{name}"] = "\n".join(map(repr, rows))
    return texts


def place_names() -> set[str]:
    """Every region the bundled directory names: the system writes them (in unit names too),
    and one sample petitioner is called 梁平, like the district 梁平区."""
    directory = load_directory(default_directory_path())
    codes = [code for level in LEVELS for code in directory.regions_at(level)]
    return {name for code in codes if (name := directory.region_name(code))}


def _dumped(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1, default=str)


def _captured(capture: dict[str, Any]) -> dict[str, str]:
    rejected = [{k: v for k, v in m.items() if k != "body"} for m in capture["rejected"]]
    return {
        "metrics": capture["exposition"],
        "broker:published events": _dumped(capture["published"]),
        "broker:rejected commands": _dumped(capture["commands_rejected"]),
        "broker:rejected intake (headers, properties)": _dumped(rejected),
        "sender:notifications sent": _dumped(capture["sent"]),
    }


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> Scan:
    work = tmp_path_factory.mktemp("identity-scan")
    cases_file = work / "cases.jsonl"
    cases, bad_codes = _cases_file(cases_file)
    result, capture_path = _run_demo(work, cases_file)
    capture = json.loads(capture_path.read_text("utf-8"))
    texts = {"stdout: the report": result.stdout, "stderr: the log": result.stderr}
    texts |= _tables(work / "demo.db") | _captured(capture)
    bodies = "\n".join(message["body"] for message in capture["rejected"])
    return Scan(texts, identities(cases), json.loads(result.stdout), capture, bodies, bad_codes)


# -- the tests ---------------------------------------------------------------------------------


def test_no_petitioner_identity_appears_in_anything_the_run_left(scan: Scan) -> None:
    leaks = find_leaks(scan.texts, scan.wanted, vocabulary=place_names())
    assert not leaks, f"{len(leaks)} leaks, the first:\n" + "\n".join(map(str, leaks[:20]))


def test_every_sample_petitioner_is_looked_for(scan: Scan) -> None:
    counts: dict[str, int] = {}
    for identity in scan.wanted:
        counts[identity.field] = counts.get(identity.field, 0) + 1
    # The sample: 612 cases, four in five with a petitioner, nine in ten of those complete;
    # the generator's names repeat more than its phones.
    assert counts["name"] > 300 and counts["phone"] > 450
    assert counts["id_number"] > 400 and counts["address"] > 400
    spaced = {(i.field, i.needle) for i in scan.wanted if i.value in SPACED_PETITIONER.values()}
    assert ("phone", "13923456781") in spaced and ("id_number", "50010319900101123X") in spaced


def test_the_log_is_at_debug_for_every_logger(scan: Scan) -> None:
    log = scan.texts["stderr: the log"]
    assert len(log) > 1_000_000
    for logger in ("sqlalchemy.engine", "dramatiq.worker", "workers.actors"):
        assert f" DEBUG {logger}" in log, logger
    assert " INFO dispatcher.adapters.messaging" in log
    assert set(scan.capture["levels"].values()) == {"DEBUG"}


def test_the_run_did_what_is_scanned(scan: Scan) -> None:
    """The scanned texts hold the run's work: the leak test above is not passing on empty
    or unrelated text."""
    report = scan.report
    assert report["cases"] == 601 and report["escalations"]["steps"] > 0
    assert sorted(line["code"] for line in report["rejected_lines"]) == sorted(scan.bad_codes)
    texts = scan.texts
    for kind in ("registered", "assigned", "accepted", "escalated", "rejected"):
        assert f"'{kind}'" in texts["db:events"], kind
    assert texts["db:rejected_messages"].count("\n") + 1 == len(scan.bad_codes)
    assert len(scan.capture["published"]) == texts["db:events"].count("\n") + 1
    assert "IDSCAN-BAD-1" in texts["broker:published events"]  # case.rejected names the line
    assert len(scan.capture["rejected"]) == len(scan.bad_codes)
    assert len(scan.capture["sent"]) > 100 and "督办" in texts["sender:notifications sent"]
    assert 'xinfang_cases_received_total{channel="online"}' in texts["metrics"]
    assert 'xinfang_cases_rejected_total{reason="petitioner"} 5.0' in texts["metrics"]
    assert "xinfang_kpi_ratio" in texts["metrics"]
    # Case titles do leave, in the notices as summaries: the scan reads case content.
    sent = texts["sender:notifications sent"]
    assert any(case["title"] in sent for case in _sample())


def test_the_scanner_finds_the_petitioners_the_rejected_bodies_keep(scan: Scan) -> None:
    """The dead-lettered messages keep the petitioners (nothing sent is lost); found there,
    they show that the scanner finds this run's identities wherever they are."""
    leaks = find_leaks({"rejected bodies": scan.rejected_bodies}, scan.wanted)
    assert {leak.identity.field for leak in leaks} == {"name", "id_number", "phone", "address"}
    assert len(leaks) >= 3 * len(scan.bad_codes)
