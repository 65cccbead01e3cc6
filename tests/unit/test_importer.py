"""`xinfang import csv`: mapping validation, row conversion, bad rows with their line numbers,
and the command as users run it (stdout or --out, summary on stderr, exit code)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from dispatcher.adapters.files.importer import Imported, Skipped, import_rows, slug
from dispatcher.adapters.files.importer_mapping import (
    ImportMapping,
    MappingError,
    load_mapping,
    render_template,
)
from dispatcher.cli import cli
from dispatcher.contract.intake import Valid, validate

MAPPING = """\
source: test-311
external_id: Key
channel:
  column: Via
  map: {PHONE: phone, ONLINE: online, MOBILE: online}
  default: phone
received_at:
  column: Created
  format: "%m/%d/%Y %I:%M:%S %p"
  timezone: America/New_York
region: {constant: "360000"}
category: {column: Type, map: {Noise: environment}}
title: "[{Type}] {Detail}"
content: |-
  {Type}: {Detail}
  Address: {Address}
extra: {agency: Agency, detail: Detail}
"""

HEADER = "Key,Created,Via,Type,Detail,Address,Agency\n"
GOOD = "1,02/28/2023 11:45:00 PM,MOBILE,Noise,Loud Music,1 MAIN ST,NYPD\n"


def mapping_from(tmp_path: Path, text: str = MAPPING) -> ImportMapping:
    path = tmp_path / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    return load_mapping(path)


def run(tmp_path: Path, csv_text: str, text: str = MAPPING) -> list[Imported | Skipped]:
    return list(import_rows(csv_text.splitlines(keepends=True), mapping_from(tmp_path, text)))


def test_a_good_row_becomes_a_valid_case(tmp_path: Path) -> None:
    [outcome] = run(tmp_path, HEADER + GOOD)
    assert isinstance(outcome, Imported)
    assert isinstance(validate(outcome.case), Valid)
    assert outcome.case == {
        "schema": "xinfang.case/v1",
        "source": "test-311",
        "external_id": "1",
        "channel": "online",
        "received_at": "2023-02-28T23:45:00-05:00",
        "region": "360000",
        "category": "environment",
        "title": "[Noise] Loud Music",
        "content": "Noise: Loud Music\nAddress: 1 MAIN ST",
        "extra": {"agency": "NYPD", "detail": "Loud Music"},
    }


@pytest.mark.parametrize(
    ("via", "channel"),
    [
        ("PHONE", "phone"),
        ("online", "online"),
        ("Mobile", "online"),
        ("UNKNOWN", "phone"),
        ("", "phone"),
    ],
)
def test_channel_values_are_mapped_without_case_with_a_default(
    tmp_path: Path, via: str, channel: str
) -> None:
    row = GOOD.replace("MOBILE", via)
    [outcome] = run(tmp_path, HEADER + row)
    assert isinstance(outcome, Imported) and outcome.case["channel"] == channel


def test_an_unmapped_channel_without_default_is_a_bad_row(tmp_path: Path) -> None:
    text = MAPPING.replace("  default: phone\n", "")
    [outcome] = run(tmp_path, HEADER + GOOD.replace("MOBILE", "FAX"), text)
    assert isinstance(outcome, Skipped)
    assert (
        outcome.reason == "column 'Via': value 'FAX' is not in channel.map and "
        "channel.default is not set"
    )


@pytest.mark.parametrize(
    ("created", "expected"),
    [
        ("02/28/2023 11:45:00 PM", "2023-02-28T23:45:00-05:00"),  # EST
        ("07/04/2023 09:05:07 AM", "2023-07-04T09:05:07-04:00"),  # EDT
        ("03/12/2023 12:00:00 PM", "2023-03-12T12:00:00-04:00"),  # the day DST starts
    ],
)
def test_local_times_get_the_zones_offset_of_that_day(
    tmp_path: Path, created: str, expected: str
) -> None:
    [outcome] = run(tmp_path, HEADER + GOOD.replace("02/28/2023 11:45:00 PM", created))
    assert isinstance(outcome, Imported) and outcome.case["received_at"] == expected


def test_shanghai_time_with_single_digit_month_and_day(tmp_path: Path) -> None:
    text = MAPPING.replace('"%m/%d/%Y %I:%M:%S %p"', '"%Y/%m/%d %H:%M:%S"').replace(
        "America/New_York", "Asia/Shanghai"
    )
    [outcome] = run(
        tmp_path, HEADER + GOOD.replace("02/28/2023 11:45:00 PM", "2020/1/6 9:09:38"), text
    )
    assert isinstance(outcome, Imported)
    assert outcome.case["received_at"] == "2020-01-06T09:09:38+08:00"


def test_bad_rows_are_reported_with_the_line_where_they_start(tmp_path: Path) -> None:
    rows = [
        GOOD,  # line 2
        '2,02/28/2023 11:00:00 PM,PHONE,Noise,"two\nlines",X,NYPD\n',  # lines 3-4, good
        "3,yesterday,PHONE,Noise,x,y,NYPD\n",  # line 5: bad date
        ",02/28/2023 11:00:00 PM,PHONE,Noise,x,y,NYPD\n",  # line 6: no key
        "5,02/28/2023 11:00:00 PM,PHONE\n",  # line 7: short row
        "\n",  # line 8: blank, ignored
        "6,02/28/2023 11:00:00 PM,PHONE,,,,NYPD\n",  # line 9: empty title
        GOOD.replace("1,", "7,", 1),  # line 10
    ]
    outcomes = run(tmp_path, HEADER + "".join(rows))
    assert [(o.line, type(o).__name__) for o in outcomes] == [
        (2, "Imported"),
        (3, "Imported"),
        (5, "Skipped"),
        (6, "Skipped"),
        (7, "Skipped"),
        (9, "Skipped"),
        (10, "Imported"),
    ]
    reasons = {o.line: o.reason for o in outcomes if isinstance(o, Skipped)}
    assert reasons[5] == "column 'Created': 'yesterday' does not match '%m/%d/%Y %I:%M:%S %p'"
    assert reasons[6] == "column 'Key' is empty"
    assert reasons[7] == "3 fields where the header has 7"
    assert reasons[9] == "title renders empty (its columns are empty)"
    kinds = {o.line: o.kind for o in outcomes if isinstance(o, Skipped)}
    assert kinds[5] == "column 'Created': does not match '%m/%d/%Y %I:%M:%S %p'"
    assert kinds[6] == reasons[6]
    assert kinds[7] == "not as many fields as the header's 7"


def test_a_produced_case_that_breaks_the_contract_is_a_bad_row(tmp_path: Path) -> None:
    [outcome] = run(tmp_path, HEADER + GOOD.replace("1,", "x" * 129 + ",", 1))
    assert isinstance(outcome, Skipped)
    assert outcome.reason.startswith("not a valid contract-v1 case: external_id")


def test_long_text_is_clipped_to_the_contract_limits(tmp_path: Path) -> None:
    [outcome] = run(tmp_path, HEADER + GOOD.replace("Loud Music", "y" * 30_000))
    assert isinstance(outcome, Imported)
    assert len(outcome.case["title"]) == 200 and outcome.case["title"].endswith("…")
    assert len(outcome.case["content"]) == 20_000


def test_templates_leave_out_lines_whose_columns_are_all_empty() -> None:
    template = "{A}: {B}\nAddress: {C}\nLiteral {{braces}}"
    row = {"A": "Noise", "B": "", "C": " "}
    assert render_template(template, row) == "Noise: \nLiteral {braces}"


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("HEAT/HOT WATER", "heat_hot_water"),
        ("Noise - Residential", "noise_residential"),
        ("311", "c_311"),
        ("///", None),
    ],
)
def test_free_text_categories_become_taxonomy_keys(value: str, key: str | None) -> None:
    assert slug(value) == key


def test_category_without_map_is_slugged_and_with_map_falls_back_to_default(tmp_path: Path) -> None:
    text = MAPPING.replace(
        "category: {column: Type, map: {Noise: environment}}", "category: {column: Type}"
    )
    [outcome] = run(tmp_path, HEADER + GOOD.replace("Noise", "HEAT/HOT WATER", 1), text)
    assert isinstance(outcome, Imported) and outcome.case["category"] == "heat_hot_water"
    [outcome] = run(tmp_path, HEADER + GOOD.replace("Noise", "Rodent", 1))
    assert isinstance(outcome, Imported) and "category" not in outcome.case


def test_region_from_a_column_map_code_or_default(tmp_path: Path) -> None:
    text = MAPPING.replace(
        'region: {constant: "360000"}',
        'region: {column: Address, map: {"1 MAIN ST": "360061"}, default: "360000"}',
    )
    csv_text = HEADER + GOOD + GOOD.replace("1 MAIN ST", "360047") + GOOD.replace("1 MAIN", "2")
    regions = [o.case["region"] for o in run(tmp_path, csv_text, text) if isinstance(o, Imported)]
    assert regions == ["360061", "360047", "360000"]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("source: test-311\n", ""), "source: required field is missing"),
        (
            ("America/New_York", "Mars/Olympus"),
            "received_at.timezone: 'Mars/Olympus' is not an IANA time zone (e.g. Asia/Shanghai)",
        ),
        (("MOBILE: online", "MOBILE: pigeon"), "channel.map.MOBILE: Input should be 'letter'"),
        (('{constant: "360000"}', '{constant: "36"}'), "region.constant: String should match"),
        (
            ('{constant: "360000"}', '{constant: "360000", column: Address}'),
            "region: give exactly one of constant, column",
        ),
        (
            ('title: "[{Type}] {Detail}"', 'title: "[{Type] {Detail}"'),
            "title: unbalanced or empty brace at position",
        ),
        (("extra: {agency", "extras: {agency"), "extras: unknown field"),
    ],
)
def test_mapping_errors_name_the_file_and_the_field(
    tmp_path: Path, change: tuple[str, str], problem: str
) -> None:
    with pytest.raises(MappingError) as raised:
        mapping_from(tmp_path, MAPPING.replace(*change))
    assert any(
        p.startswith(f"{tmp_path / 'mapping.yaml'}: {problem}") for p in raised.value.problems
    ), raised.value.problems


def test_a_mapping_that_is_not_yaml_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(MappingError) as raised:
        mapping_from(tmp_path, "source: [unclosed\n")
    assert raised.value.problems == [
        f"{tmp_path / 'mapping.yaml'}: YAML error at line 2, column 1: "
        "expected ',' or ']', but got '<stream end>'"
    ]


def invoke(tmp_path: Path, csv_bytes: bytes, *extra: str) -> tuple[int, str, str]:
    (tmp_path / "mapping.yaml").write_text(MAPPING, encoding="utf-8")
    (tmp_path / "in.csv").write_bytes(csv_bytes)
    result = CliRunner().invoke(
        cli,
        [
            "import",
            "csv",
            "--map",
            str(tmp_path / "mapping.yaml"),
            str(tmp_path / "in.csv"),
            *extra,
        ],
    )
    return result.exit_code, result.stdout, result.stderr


def test_command_reads_a_bom_and_writes_valid_jsonl_to_stdout(tmp_path: Path) -> None:
    csv_bytes = ("\ufeff" + HEADER + GOOD + GOOD.replace("1,", "2,", 1)).encode("utf-8")
    code, out, err = invoke(tmp_path, csv_bytes)
    assert code == 0, err
    cases = [json.loads(line) for line in out.splitlines()]
    assert [c["external_id"] for c in cases] == ["1", "2"]
    assert all(isinstance(validate(case), Valid) for case in cases)
    assert err.strip().splitlines()[-1] == "imported 2 of 2 rows"


def test_command_reports_bad_rows_on_stderr_and_exits_1(tmp_path: Path) -> None:
    csv_bytes = (HEADER + GOOD + "2,never,PHONE,Noise,x,y,NYPD\n").encode("utf-8")
    out_file = tmp_path / "out.jsonl"
    code, out, err = invoke(tmp_path, csv_bytes, "--out", str(out_file))
    assert code == 1 and out == ""
    assert err.splitlines()[-3:] == [
        "imported 1 of 2 rows; skipped 1:",
        "  1  column 'Created': does not match '%m/%d/%Y %I:%M:%S %p' — line 3",
        "xinfang: error: 1 row skipped; --errors FILE writes every one with its reason",
    ]
    assert len(out_file.read_text(encoding="utf-8").splitlines()) == 1


def test_command_refuses_a_file_without_the_mapped_columns(tmp_path: Path) -> None:
    code, out, err = invoke(tmp_path, b"Key,Created\n1,x\n")
    assert code == 1 and out == ""
    assert "in.csv: the header lacks column(s) the mapping needs: Via, Type, Detail" in err


def test_command_refuses_a_bad_mapping_naming_file_and_field(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(MAPPING.replace("source: test-311\n", ""), "utf-8")
    (tmp_path / "in.csv").write_text(HEADER + GOOD, "utf-8")
    result = CliRunner().invoke(
        cli, ["import", "csv", "--map", str(tmp_path / "bad.yaml"), str(tmp_path / "in.csv")]
    )
    assert result.exit_code == 1
    assert f"{tmp_path / 'bad.yaml'}: source: required field is missing" in result.stderr
