"""Administrative division codes: levels, ancestors and what is not a code."""

from __future__ import annotations

import pytest

from dispatcher.domain.regions import InvalidRegion, Level, Region


def codes(regions: list[Region]) -> list[str]:
    return [region.code for region in regions]


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("500000", Level.PROVINCE),  # the municipality of Chongqing
        ("510000", Level.PROVINCE),  # Sichuan
        ("500100", Level.CITY),  # Chongqing's 市辖区
        ("500200", Level.CITY),  # Chongqing's 县
        ("510100", Level.CITY),  # Chengdu
        ("500103", Level.DISTRICT),  # 渝中区
        ("500243", Level.DISTRICT),  # 彭水苗族土家族自治县
        ("510104", Level.DISTRICT),  # 锦江区, Chengdu
        ("500103001", Level.TOWN),
        ("500103001002", Level.VILLAGE),
    ],
)
def test_level_follows_length_and_trailing_zeros(code: str, level: Level) -> None:
    assert Region(code).level is level


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("500103001002", ["500103001", "500103", "500100", "500000"]),
        ("500103001", ["500103", "500100", "500000"]),
        ("500103", ["500100", "500000"]),
        ("500229", ["500200", "500000"]),  # 城口县 under Chongqing's 县
        ("510104", ["510100", "510000"]),
        ("500100", ["500000"]),
        ("500000", []),
    ],
)
def test_ancestors_are_nearest_first(code: str, expected: list[str]) -> None:
    assert codes(Region(code).ancestors()) == expected


def test_ancestors_never_repeat_or_include_the_region_itself() -> None:
    for code in ("500103001002", "500103001", "500103", "500100", "500000"):
        chain = codes(Region(code).ancestors())
        assert code not in chain
        assert len(chain) == len(set(chain))


def test_ancestors_climb_one_level_at_a_time() -> None:
    order = list(Level)  # village, town, district, city, province
    levels = [r.level for r in Region("500103001002").lineage()]
    assert levels == order


def test_lineage_starts_with_the_region() -> None:
    lineage = Region("500103001").lineage()
    assert lineage[0] == Region("500103001")
    assert lineage[1:] == Region("500103001").ancestors()


def test_region_is_a_value() -> None:
    assert Region("500103") == Region("500103")
    assert len({Region("500103"), Region("500103"), Region("500105")}) == 2
    assert sorted([Region("500105"), Region("500103")]) == [Region("500103"), Region("500105")]
    assert str(Region("500103001")) == "500103001"


@pytest.mark.parametrize(
    "code",
    [
        "",
        "5",
        "50010",  # 5 digits
        "5001031",  # 7
        "50010300",  # 8
        "5001030010",  # 10
        "50010300100",  # 11
        "5001030010011",  # 13
        "50010a",
        "50O103",  # a letter O
        " 500103",
        "500103 ",
        "500-103",
        "+500103",
        "500103.0",
    ],
)
def test_invalid_codes_raise_invalid_region(code: str) -> None:
    with pytest.raises(InvalidRegion, match="6, 9 or 12 digits"):
        Region(code)


def test_invalid_region_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        Region("abc")


@pytest.mark.parametrize("code", ["500103\n", "５００１０３", "٥٠٠١٠٣"])
def test_only_ascii_digits_without_newline_are_codes(code: str) -> None:
    with pytest.raises(InvalidRegion):
        Region(code)
