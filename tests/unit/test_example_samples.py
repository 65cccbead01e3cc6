"""The small samples of public 311 data shipped in examples/, so that a clone can run the
README's example commands: each imports whole, validates, and routes as the full data does."""

from __future__ import annotations

from collections import Counter

import pytest
from support import EXAMPLES

from dispatcher.adapters.files.importer import Imported, import_rows
from dispatcher.adapters.files.importer_mapping import load_mapping
from dispatcher.contract.intake import Valid, validate
from rules import load_directory, load_rules

ROWS = 300


@pytest.mark.parametrize("example", ["nyc311", "baltimore311"])
def test_a_shipped_sample_imports_whole_and_routes_to_the_agencies_of_the_data(
    example: str,
) -> None:
    folder = EXAMPLES / example
    with (folder / "sample-300.csv").open(encoding="utf-8-sig", newline="") as lines:
        outcomes = list(import_rows(lines, load_mapping(folder / "mapping.yaml")))
    cases = [o.case for o in outcomes if isinstance(o, Imported)]
    ruleset = load_rules(folder / "rules.yaml", load_directory(folder / "directory.yaml"))

    assert len(outcomes) == len(cases) == ROWS
    assert all(isinstance(validate(case), Valid) for case in cases)
    verdicts = Counter(_verdict(ruleset.decide(case), case) for case in cases)
    assert verdicts["right"] >= 0.9 * ROWS, verdicts
    assert verdicts["wrong"] <= 0.01 * ROWS, verdicts


def _verdict(decision: object, case: dict[str, object]) -> str:
    unit = getattr(decision, "org_unit", None)
    if unit is None or getattr(decision, "rule_id", None) is None:
        return "triage"
    agency = case["extra"]["agency"]  # type: ignore[index]
    return "right" if agency in (unit.id, unit.name, unit.id.removeprefix("nyc:")) else "wrong"
