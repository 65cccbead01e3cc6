"""Clock policies as data: the bundled cn-2022 and hotline-12345, and validation errors that
name the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dispatcher.adapters.files.policies import (
    POLICY_DIR,
    Extension,
    PolicyError,
    available_policies,
    load_policy,
)
from dispatcher.domain.clocks import CLOCK_NAMES, ClockSpec, Unit

CN_2022 = {  # clock: (days, unit, article) — 信访工作条例 2022
    "forwarding": (15, Unit.CALENDAR_DAYS, "Art 22"),
    "acceptance": (15, Unit.CALENDAR_DAYS, "Art 23"),
    "objection": (5, Unit.WORKING_DAYS, "Art 23"),
    "handling": (60, Unit.CALENDAR_DAYS, "Art 34"),
    "review_request": (30, Unit.CALENDAR_DAYS, "Art 35"),
    "review": (30, Unit.CALENDAR_DAYS, "Art 35"),
    "rereview_request": (30, Unit.CALENDAR_DAYS, "Art 36"),
    "rereview": (30, Unit.CALENDAR_DAYS, "Art 36"),
}


def test_available_policies() -> None:
    assert available_policies() == ["cn-2022", "hotline-12345"]


@pytest.mark.parametrize("name", list(CN_2022))
def test_cn_2022_clocks_follow_the_regulation(name: str) -> None:
    spec = load_policy("cn-2022").clock(name)
    assert isinstance(spec, ClockSpec) and spec.name == name
    assert (spec.days, spec.unit, spec.article) == CN_2022[name]
    assert spec.basis


def test_cn_2022_outcomes_and_extension() -> None:
    policy = load_policy("cn-2022")
    assert list(policy.clocks) == list(CLOCK_NAMES)
    assert policy.handling_extension == Extension(max_days=30, times=1, approver="head")
    assert policy.on_dissatisfied == "review_window"
    assert policy.final_after == "rereview"
    assert [name for name, spec in policy.clocks.items() if spec.pausable] == ["rereview"]


def test_hotline_policy_works_in_working_days_and_rehandles() -> None:
    policy = load_policy("hotline-12345")
    handling = policy.clock("handling")
    assert (handling.days, handling.unit) == (5, Unit.WORKING_DAYS)
    assert "Art 13" in handling.article
    assert policy.on_dissatisfied == "rehandle" and policy.final_after is None
    assert all(spec.unit is Unit.WORKING_DAYS for spec in policy.clocks.values())


def test_policies_are_immutable() -> None:
    policy = load_policy("cn-2022")
    with pytest.raises(TypeError):
        policy.clocks["handling"] = policy.clocks["review"]  # type: ignore[index]


def test_load_by_path_equals_load_by_id() -> None:
    assert load_policy(POLICY_DIR / "cn-2022.yaml") == load_policy("cn-2022")
    assert load_policy(str(POLICY_DIR / "hotline-12345.yaml")).id == "hotline-12345"


def test_unknown_policy_and_clock() -> None:
    with pytest.raises(PolicyError, match=r"unknown policy 'cn-2099'.*cn-2022"):
        load_policy("cn-2099")
    with pytest.raises(PolicyError, match="has no clock 'review'"):
        load_policy("hotline-12345").clock("review")


def _write(tmp_path: Path, changes: dict[str, object], drop: str | None = None) -> Path:
    raw = yaml.safe_load((POLICY_DIR / "cn-2022.yaml").read_text(encoding="utf-8"))
    raw.update(changes)
    if drop:
        del raw[drop]
    path = tmp_path / "custom.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def _clocks_with(**handling: object) -> dict[str, object]:
    raw = yaml.safe_load((POLICY_DIR / "cn-2022.yaml").read_text(encoding="utf-8"))
    raw["clocks"]["handling"].update(handling)
    return {"clocks": raw["clocks"]}


@pytest.mark.parametrize(
    ("changes", "drop", "mentions"),
    [
        (_clocks_with(days=0), None, "clocks.handling.days"),
        (_clocks_with(days="60"), None, "clocks.handling.days"),
        (_clocks_with(unit="weeks"), None, "clocks.handling.unit"),
        (
            _clocks_with(extension={"max_days": 30, "times": 0, "approver": "head"}),
            None,
            "clocks.handling.extension.times",
        ),
        (_clocks_with(colour="red"), None, "clocks.handling.colour"),
        (
            {
                "clocks": {
                    "handlnig": {"days": 1, "unit": "calendar_days", "article": "a", "basis": "b"}
                }
            },
            None,
            "clocks.handlnig",
        ),
        ({"on_dissatisfied": "shrug"}, None, "on_dissatisfied"),
        ({"final_after": "review"}, "clocks", "clocks"),
        ({}, "title", "title"),
        (
            {
                "clocks": {
                    "handling": {"days": 60, "unit": "calendar_days", "article": "a", "basis": "b"}
                },
                "final_after": None,
            },
            None,
            "review_request",
        ),
    ],
    ids=[
        "zero-days",
        "string-days",
        "bad-unit",
        "zero-times",
        "unknown-field",
        "typo-clock",
        "bad-outcome",
        "no-clocks",
        "no-title",
        "review-window-without-review-clock",
    ],
)
def test_invalid_policy_names_file_and_field(
    tmp_path: Path, changes: dict[str, object], drop: str | None, mentions: str
) -> None:
    path = _write(tmp_path, changes, drop)
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert str(path) in str(caught.value)
    assert mentions in str(caught.value)


def test_final_after_must_name_a_clock_of_the_policy(tmp_path: Path) -> None:
    clocks = {"handling": {"days": 5, "unit": "working_days", "article": "a", "basis": "b"}}
    path = _write(
        tmp_path, {"clocks": clocks, "on_dissatisfied": "rehandle", "final_after": "rereview"}
    )
    with pytest.raises(PolicyError, match="final_after names clock 'rereview'"):
        load_policy(path)


def test_unreadable_policy_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("clocks: [\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="cannot read policy"):
        load_policy(path)
