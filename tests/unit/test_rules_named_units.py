"""Named org units and the list form of regions, as the NYC and Baltimore 311 examples use them."""

from __future__ import annotations

from pathlib import Path

import pytest

from rules import OrgDirectory, RuleFileError, load_directory, load_rules

NYC = """\
version: nyc-test-1
regions:
  - {code: "360100", name: New York City, level: city}
kinds:
  city:
    petition_bureau: "311 Triage"
units:
  - {id: "nyc:HPD", name: Housing Preservation and Development, kind: agency, region: "360100"}
  - {id: "nyc:NYPD", name: New York City Police Department, kind: agency, region: "360100"}
  - {id: "nyc:DSNY", name: Department of Sanitation, kind: agency, region: "360100"}
"""

RULES = """\
version: nyc-rules-1
rules:
  - id: heat
    owner: nyc
    changed: 2026-11-20
    when: {keywords: {any: [HEAT, HOT WATER], in: [title]}}
    assign: {unit: "nyc:HPD"}
  - id: noise
    owner: nyc
    changed: 2026-11-20
    when: {keywords: {any: [Noise]}}
    assign: {unit: "nyc:NYPD"}
    co_handlers: [{unit: "nyc:DSNY"}]
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def nyc(tmp_path: Path) -> OrgDirectory:
    return load_directory(_write(tmp_path, "directory.yaml", NYC))


def test_one_root_region_and_named_units_load(nyc: OrgDirectory) -> None:
    assert nyc.root == "360100" and len(nyc) == 1
    hpd = nyc.named_unit("nyc:HPD")
    assert hpd is not None
    assert (hpd.id, hpd.kind, hpd.level, hpd.region) == ("nyc:HPD", "agency", "city", "360100")
    assert hpd.name == "Housing Preservation and Development"
    assert nyc.named_unit("nyc:NOPE") is None
    assert len(nyc.named_units()) == 3
    triage = nyc.unit("360100", "petition_bureau")
    assert triage is not None and triage.name == "311 Triage"


def test_rules_assign_named_units_and_triage_the_unknown(tmp_path: Path, nyc: OrgDirectory) -> None:
    ruleset = load_rules(_write(tmp_path, "rules.yaml", RULES), nyc)
    base = {"channel": "phone", "region": "360100", "content": ""}
    heat = ruleset.decide(base | {"title": "HEAT/HOT WATER"})
    assert (heat.outcome, heat.org_unit.id, heat.rule_id) == ("assigned", "nyc:HPD", "heat")
    noise = ruleset.decide(base | {"title": "Noise - Residential"})
    assert noise.org_unit.id == "nyc:NYPD"
    assert [u.id for u in noise.co_handlers] == ["nyc:DSNY"]
    other = ruleset.decide(base | {"title": "Taxi Complaint"})
    assert (other.outcome, other.org_unit.id) == ("triage", "360100:petition_bureau")
    assert other.org_unit.name == "311 Triage"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ('region: "360100"}\n  - {id: "nyc:NYPD"', 'region: "360101"}\n  - {id: "nyc:NYPD"'),
            "units[0] (nyc:HPD).region: 360101 is not a region of this directory",
        ),
        (('id: "nyc:NYPD"', 'id: "nyc:HPD"'), "units[1] (nyc:HPD).id: duplicate unit id"),
        (('id: "nyc:DSNY"', 'id: "360100:petition_bureau"'), "clashes with the id"),
        (('id: "nyc:DSNY"', 'id: "bad id"'), "units[2].id"),
        (("kind: agency, region", "kind: Agency, region"), "units[0].kind"),
        ((", level: city}", "}"), "regions: [0].level: required in a list of regions"),
        ((", level: city}", ", level: county}"), "regions.county"),
    ],
)
def test_broken_named_units_name_the_field(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    assert change[0] in NYC
    path = _write(tmp_path, "directory.yaml", NYC.replace(change[0], change[1], 1))
    with pytest.raises(RuleFileError) as info:
        load_directory(path)
    assert str(path) in str(info.value)
    assert expected in str(info.value)


def test_changing_the_directory_changes_the_ruleset_version(tmp_path: Path) -> None:
    rules = _write(tmp_path, "rules.yaml", RULES)
    first = load_rules(rules, load_directory(_write(tmp_path, "d.yaml", NYC)))
    renamed = NYC.replace("Department of Sanitation", "DSNY")
    second = load_rules(rules, load_directory(_write(tmp_path, "d.yaml", renamed)))
    assert first.version.split("+")[0] == second.version.split("+")[0] == "nyc-rules-1"
    assert first.version != second.version
