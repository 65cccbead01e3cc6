"""The org directory: the shipped Chongqing data and the lookups over it."""

from __future__ import annotations

from pathlib import Path

import pytest

from rules import OrgDirectory, RuleFileError, default_directory_path, load_directory

DISTRICTS = {
    "500101": "万州区",
    "500102": "涪陵区",
    "500103": "渝中区",
    "500104": "大渡口区",
    "500105": "江北区",
    "500106": "沙坪坝区",
    "500107": "九龙坡区",
    "500108": "南岸区",
    "500109": "北碚区",
    "500110": "綦江区",
    "500111": "大足区",
    "500112": "渝北区",
    "500113": "巴南区",
    "500114": "黔江区",
    "500115": "长寿区",
    "500116": "江津区",
    "500117": "合川区",
    "500118": "永川区",
    "500119": "南川区",
    "500120": "璧山区",
    "500151": "铜梁区",
    "500152": "潼南区",
    "500153": "荣昌区",
    "500154": "开州区",
    "500155": "梁平区",
    "500156": "武隆区",
    "500229": "城口县",
    "500230": "丰都县",
    "500231": "垫江县",
    "500233": "忠县",
    "500235": "云阳县",
    "500236": "奉节县",
    "500237": "巫山县",
    "500238": "巫溪县",
    "500240": "石柱土家族自治县",
    "500241": "秀山土家族苗族自治县",
    "500242": "酉阳土家族苗族自治县",
    "500243": "彭水苗族土家族自治县",
}
DEPARTMENTS = {
    "petition_bureau",
    "housing",
    "public_security",
    "labour",
    "education",
    "health",
    "transport",
    "environment",
    "market",
    "civil_affairs",
    "land",
    "agriculture",
    "urban_management",
    "emergency",
    "commerce",
    "culture_tourism",
}


@pytest.fixture(scope="module")
def cq() -> OrgDirectory:
    return load_directory(default_directory_path())


def test_all_38_districts_and_counties_with_their_names(cq: OrgDirectory) -> None:
    assert len(DISTRICTS) == 38
    assert {code: cq.region_name(code) for code in cq.regions_at("district")} == DISTRICTS


def test_city_is_the_root_and_500100_does_not_exist(cq: OrgDirectory) -> None:
    assert cq.region_name("500000") == "重庆市"
    assert cq.root == "500000"
    assert not cq.knows("500100")
    assert cq.parent("500103") == "500000"


def test_towns_sample_covers_at_least_eight_districts(cq: OrgDirectory) -> None:
    towns = cq.regions_at("town")
    assert {code[:6] for code in towns} >= {
        "500103",
        "500105",
        "500106",
        "500107",
        "500108",
        "500109",
        "500116",
        "500229",
    }
    assert cq.region_name("500103001") == "七星岗街道"
    assert cq.region_name("500103002") == "解放碑街道"
    assert all(len(code) == 9 and cq.knows(code[:6]) for code in towns)


def test_villages_sit_under_known_towns(cq: OrgDirectory) -> None:
    villages = cq.regions_at("village")
    assert villages
    assert all(len(code) == 12 and cq.level_of(code[:9]) == "town" for code in villages)


def test_nearest_known_for_an_unknown_village_code(cq: OrgDirectory) -> None:
    assert cq.nearest_known("500103999123") == "500103"  # unknown town too
    assert cq.nearest_known("500103001777") == "500103001"
    assert cq.nearest_known("500103") == "500103"
    assert cq.nearest_known("500199") == "500000"
    assert cq.nearest_known("110101") is None
    assert cq.nearest_known("not-a-code") is None
    assert not cq.knows("500103999123")


def test_ancestor_at_each_level(cq: OrgDirectory) -> None:
    village = "500103001001"
    assert cq.ancestor_at(village, "village") == village
    assert cq.ancestor_at(village, "town") == "500103001"
    assert cq.ancestor_at(village, "district") == "500103"
    assert cq.ancestor_at(village, "city") == "500000"
    assert cq.ancestor_at("500103", "town") is None
    assert cq.ancestor_at("500103001999", "village") is None


def test_unit_ids_names_and_levels(cq: OrgDirectory) -> None:
    housing = cq.unit("500103", "housing")
    assert housing is not None
    assert (housing.id, housing.level, housing.name) == (
        "500103:housing",
        "district",
        "渝中区住房和城乡建设委员会",
    )
    police = cq.unit("500105", "public_security")
    assert police is not None and police.name == "重庆市公安局江北区分局"
    city = cq.unit("500000", "petition_bureau")
    assert city is not None and city.name == "重庆市信访办公室"
    county = cq.unit("500229", "petition_bureau")
    assert county is not None and county.name == "城口县信访办公室"


def test_town_and_village_templates_follow_the_name(cq: OrgDirectory) -> None:
    street, town = cq.unit("500103001", "town_government"), cq.unit("500105100", "town_government")
    assert street is not None and street.name == "七星岗街道办事处"
    assert town is not None and town.name == "鱼嘴镇人民政府"
    community = cq.unit("500103001001", "village_committee")
    village = cq.unit("500109100201", "village_committee")
    assert community is not None and community.name.endswith("社区居民委员会")
    assert village is not None and village.name.endswith("村村民委员会")


def test_kind_absent_at_a_level_gives_none(cq: OrgDirectory) -> None:
    assert cq.unit("500103001", "housing") is None
    assert cq.unit("500103", "town_government") is None
    assert cq.unit("500103999", "housing") is None  # unknown region
    assert cq.unit("500103", "no_such_kind") is None


def test_kinds_per_level(cq: OrgDirectory) -> None:
    assert cq.kinds_at("city") == DEPARTMENTS
    assert cq.kinds_at("district") == DEPARTMENTS
    assert cq.kinds_at("town") == {"town_government", "petition_office"}
    assert cq.kinds_at("village") == {"village_committee"}
    assert cq.kinds_at("galaxy") == frozenset()
    assert cq.all_kinds() == DEPARTMENTS | {
        "town_government",
        "petition_office",
        "village_committee",
    }


def test_leaders_of_city_and_district_petition_bureaus(cq: OrgDirectory) -> None:
    city_roles = {leader.role for leader in cq.leaders("500000")}
    assert {"head", "petition_chief"} <= city_roles
    chiefs = [
        code
        for code in cq.regions_at("district")
        if any(leader.unit_id == f"{code}:petition_bureau" for leader in cq.leaders(code))
    ]
    assert len(chiefs) >= 5
    yuzhong = {leader.role: leader for leader in cq.leaders("500103")}
    assert yuzhong["petition_chief"].email == "xfb@yuzhong.cq.example"
    assert yuzhong["petition_chief"].webhook is not None
    assert yuzhong["petition_chief"].webhook.startswith("http://")
    assert cq.leaders("500104") == []
    assert cq.leaders("999999") == []


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "dir.yaml"
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = """\
version: t1
kinds:
  city: {petition_bureau: "{region}信访办"}
  district: {petition_bureau: "{region}信访办"}
regions:
  city: [{code: "500000", name: 重庆市}]
  district: [{code: "500103", name: 渝中区}]
"""


def test_minimal_directory_loads(tmp_path: Path) -> None:
    directory = load_directory(_write(tmp_path, MINIMAL))
    assert directory.version == "t1"
    assert directory.nearest_known("500103001001") == "500103"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('district: [{code: "500103"', 'district: [{code: "5001030"'), "regions.district[0].code"),
        (("name: 渝中区}", "name: 渝中区, mayor: x}"), "regions.district[0].mayor: unknown field"),
        (("city: {petition_bureau", "city: {housing"), "kinds.city.petition_bureau: required"),
        (('district: [{code: "500103"', 'district: [{code: "510103"'), "no known ancestor"),
        (
            ("name: 渝中区}", "name: 渝中区, leaders: [{role: head, name: x}]}"),
            "at least one of email, webhook",
        ),
        (
            (
                "name: 渝中区}",
                "name: 渝中区, leaders: [{role: head, name: x, unit: housing, "
                "email: a@b.example}]}",
            ),
            "no kind 'housing' at district level",
        ),
        (
            (
                'district: [{code: "500103", name: 渝中区}]',
                'district: [{code: "500103", name: 渝中区}, {code: "500103", name: 又一个}]',
            ),
            "duplicate region code",
        ),
    ],
)
def test_broken_directory_names_file_and_field(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    assert change[0] in MINIMAL
    path = _write(tmp_path, MINIMAL.replace(change[0], change[1]))
    with pytest.raises(RuleFileError) as info:
        load_directory(path)
    assert str(path) in str(info.value)
    assert expected in str(info.value)


def test_directory_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL + "  - {code: [\n")
    with pytest.raises(RuleFileError, match=r"dir\.yaml: line \d+, column \d+: YAML error"):
        load_directory(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("重庆市渝中区解放碑街道民生路1号", "500103002"),  # the town, inside its district
        ("渝中区民生路1号", "500103"),
        ("江北区观音桥街道建新北路", "500105006"),
        ("江北区观音桥步行街", "500105"),  # a town is known by its whole name only
        ("重庆市某小区楼道堆放杂物", "500000"),  # only the city is named
        ("1234 5th street", None),  # nothing it knows
    ],
)
def test_the_region_an_address_names(cq: OrgDirectory, text: str, expected: str | None) -> None:
    assert cq.region_named_in(text) == expected


def test_two_districts_named_leave_the_city_they_share(cq: OrgDirectory) -> None:
    assert cq.region_named_in("重庆市渝中区或江北区") == "500000"
    assert cq.region_named_in("渝中区或江北区") is None  # and nothing when it is not named
