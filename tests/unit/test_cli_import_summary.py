"""`xinfang import csv` over many bad rows: a short summary on stderr grouped by kind of problem
(count and first line numbers, no cell values), every skipped row in --errors, and one line
`xinfang: error: …` with exit 1 or 2 (never a traceback) for whatever input."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dispatcher.cli import cli, main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "nyc311"
MAPPING = EXAMPLES / "mapping.yaml"
SAMPLE = EXAMPLES / "sample-300.csv"
BAD_DATE = "2023/02/28 23:45"
DATE_KIND = (
    "column 'Created Date': does not match '%m/%d/%Y %I:%M:%S %p' or '%Y-%m-%dT%H:%M:%S.%f'"
    " or '%Y-%m-%dT%H:%M:%S'"
)
ERROR = "xinfang: error: "


def sample() -> tuple[list[str], list[list[str]]]:
    with SAMPLE.open(encoding="utf-8", newline="") as file:
        header, *rows = csv.reader(file)
    return header, rows


def write_csv(path: Path, rows: int, bad: set[int], column: str = "Created Date") -> list[int]:
    """The sample repeated to `rows` rows (unique keys), `column` of the rows in `bad` (0-based)
    rewritten to BAD_DATE; the line where each bad row starts."""
    header, body = sample()
    text, lines, line = io.StringIO(), [], 2
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    for number in range(rows):
        row = list(body[number % len(body)])
        row[header.index("Unique Key")] = str(90_000_000 + number)
        if number in bad:
            row[header.index(column)] = BAD_DATE
            lines.append(line)
        before = text.tell()
        writer.writerow(row)
        line += text.getvalue()[before:].count("\n")
    path.write_text(text.getvalue(), encoding="utf-8")
    return lines


def invoke(csv_file: Path, *extra: str, mapping: Path = MAPPING) -> Result:
    result = CliRunner().invoke(
        cli, ["import", "csv", "--map", str(mapping), str(csv_file), *extra]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_a_wrong_date_format_is_summarised_in_three_lines(tmp_path: Path) -> None:
    lines = write_csv(tmp_path / "in.csv", 5_000, set(range(1, 5_000)))
    result = invoke(tmp_path / "in.csv", "--out", str(tmp_path / "out.jsonl"))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "imported 1 of 5,000 rows; skipped 4,999:",
        f"  4,999  {DATE_KIND} — lines {', '.join(map(str, lines[:5]))}, …",
        f"{ERROR}4,999 rows skipped; --errors FILE writes every one with its reason",
    ]
    assert BAD_DATE not in result.stderr  # the summary shows no cell value
    assert len((tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()) == 1


def test_errors_file_keeps_every_skipped_row_with_its_full_reason(tmp_path: Path) -> None:
    lines = write_csv(tmp_path / "in.csv", 5_000, set(range(1, 5_000)))
    errors = tmp_path / "errors.jsonl"
    result = invoke(
        tmp_path / "in.csv", "--out", str(tmp_path / "out.jsonl"), "--errors", str(errors)
    )
    assert result.exit_code == 1
    assert len(result.stderr.splitlines()) == 3
    assert result.stderr.splitlines()[-1] == (
        f"{ERROR}4,999 rows skipped; every one with its reason is in {errors}"
    )
    written = [json.loads(line) for line in errors.read_text(encoding="utf-8").splitlines()]
    assert [row["line"] for row in written] == lines
    reason = DATE_KIND.replace("': does", f"': {BAD_DATE!r} does")
    assert all(row == {"line": row["line"], "kind": DATE_KIND, "reason": reason} for row in written)


def test_kinds_are_counted_apart_most_frequent_first_with_singular_and_plural(
    tmp_path: Path,
) -> None:
    header, body = sample()
    rows = [list(row) for row in body]
    for number in (10, 20, 30):
        rows[number][header.index("Created Date")] = BAD_DATE
    rows[40][header.index("Unique Key")] = ""
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([header, *rows])
    (tmp_path / "in.csv").write_text(text.getvalue(), encoding="utf-8")
    result = invoke(tmp_path / "in.csv", "--out", str(tmp_path / "out.jsonl"))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "imported 296 of 300 rows; skipped 4:",
        f"  3  {DATE_KIND} — lines 12, 22, 32",
        "  1  column 'Unique Key' is empty — line 42",
        f"{ERROR}4 rows skipped; --errors FILE writes every one with its reason",
    ]


def test_no_skipped_row_is_one_line_and_exit_0(tmp_path: Path) -> None:
    write_csv(tmp_path / "in.csv", 1, set())
    result = invoke(tmp_path / "in.csv", "--errors", str(tmp_path / "errors.jsonl"))
    assert result.exit_code == 0
    assert result.stderr.splitlines() == ["imported 1 of 1 row"]
    assert (tmp_path / "errors.jsonl").read_text(encoding="utf-8") == ""


def test_many_kinds_are_cut_to_ten_lines_and_one_for_the_rest(tmp_path: Path) -> None:
    header, body = sample()
    mapped = ["Complaint Type", "Descriptor", "Location Type", "Incident Address", "City"]
    mapped += ["Incident Zip", "Agency", "Agency Name", "Status", "Closed Date", "Due Date"]
    mapped += ["Community Board"]
    rows = [list(row) for row in body[: len(mapped)]]
    for row, column in zip(rows, mapped, strict=True):
        row[header.index(column)] = "caf\udce9"  # a Latin-1 byte, not UTF-8
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([header, *rows])
    (tmp_path / "in.csv").write_bytes(text.getvalue().encode("utf-8", "surrogateescape"))
    result = invoke(tmp_path / "in.csv", "--errors", str(tmp_path / "errors.jsonl"))
    assert result.exit_code == 1
    err = result.stderr.splitlines()
    assert err[0] == "imported 0 of 12 rows; skipped 12:"
    assert err[1] == "  1  column 'Complaint Type' is not UTF-8 text — line 2"
    assert err[11] == "  2  2 other kinds (see --errors)"
    assert len(err) == 13 and err[12].startswith(ERROR)
    assert len((tmp_path / "errors.jsonl").read_text(encoding="utf-8").splitlines()) == 12


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (bytes(range(255, -1, -1)) * 8, "the header is not UTF-8 text (save the export as UTF-8)"),
        (b"PK\x03\x04\x00\x00", "the header lacks column(s) the mapping needs: Unique Key, "),
        (b"", "the file is empty (no header line)"),
        (SAMPLE.read_text(encoding="utf-8").encode("utf-16"), "the header is not UTF-8 text"),
    ],
)
def test_an_unusable_file_is_one_error_line_and_exit_1(
    tmp_path: Path, content: bytes, message: str
) -> None:
    (tmp_path / "in.csv").write_bytes(content)
    result = invoke(tmp_path / "in.csv")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(f"{ERROR}{tmp_path / 'in.csv'}: {message}")


def test_a_gbk_export_is_told_to_be_saved_as_utf8(tmp_path: Path) -> None:
    text = SAMPLE.read_text(encoding="utf-8").replace("Created Date", "创建日期")
    (tmp_path / "in.csv").write_bytes(text.encode("gbk", "replace"))
    result = invoke(tmp_path / "in.csv")
    assert result.exit_code == 1
    assert result.stderr.strip().endswith("the header is not UTF-8 text (save the export as UTF-8)")


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    with pytest.raises(SystemExit) as exited:
        main(["import", "csv", *args])
    assert isinstance(exited.value.code, int)
    return exited.value.code, capsys.readouterr().err.splitlines()


@pytest.mark.parametrize("option", ["--errors", "--out"])
def test_an_output_in_a_missing_directory_is_a_bad_option_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str
) -> None:
    write_csv(tmp_path / "in.csv", 3, {1})
    missing = tmp_path / "no" / "such.jsonl"
    code, err = run_main(
        capsys, "--map", str(MAPPING), option, str(missing), str(tmp_path / "in.csv")
    )
    assert code == 2
    assert err == [
        f"{ERROR}Invalid value for '{option}': cannot write {missing}: No such file or directory"
    ]


def test_a_missing_mapping_file_is_a_usage_error_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_csv(tmp_path / "in.csv", 1, set())
    code, err = run_main(capsys, "--map", str(tmp_path / "none.yaml"), str(tmp_path / "in.csv"))
    assert code == 2 and len(err) == 1 and err[0].startswith(f"{ERROR}Invalid value for '--map'")


def test_skipped_rows_through_main_end_with_the_error_line_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_csv(tmp_path / "in.csv", 3, {1})
    out = str(tmp_path / "out.jsonl")
    code, err = run_main(capsys, "--map", str(MAPPING), "--out", out, str(tmp_path / "in.csv"))
    assert code == 1
    assert err[0] == "imported 2 of 3 rows; skipped 1:"
    assert err[-1] == f"{ERROR}1 row skipped; --errors FILE writes every one with its reason"


@pytest.mark.parametrize(
    ("mapping", "lines"),
    [
        ("source: [unclosed\n", 1),
        (MAPPING.read_text(encoding="utf-8").replace("source: nyc-311\n", ""), 1),
        ("source: x\nunknown: 1\n", 8),
    ],
)
def test_a_bad_mapping_ends_with_one_error_line_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mapping: str, lines: int
) -> None:
    (tmp_path / "mapping.yaml").write_text(mapping, encoding="utf-8")
    write_csv(tmp_path / "in.csv", 1, set())
    code, err = run_main(capsys, "--map", str(tmp_path / "mapping.yaml"), str(tmp_path / "in.csv"))
    assert code == 1 and len(err) == lines
    assert all(line.startswith(ERROR) for line in err)
    assert lines == 1 or err[-1] == f"{ERROR}bad mapping file: {lines - 1} problems"
