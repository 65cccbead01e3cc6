"""RulesReloader: a valid new rule set goes live at once; an invalid one is logged, the old stays.
No sleeping: the tests call poll() and reload_now() directly."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

import pytest

from dispatcher.adapters.files.rules import RuleDecider
from dispatcher.adapters.files.rules_reload import RulesReloader
from rules import default_directory_path, default_rules_path, load_directory, load_rules

CASE = {
    "source": "web",
    "channel": "letter",
    "region": "500103",
    "title": "小区加装电梯纠纷",
    "content": "请处理",
    "people_count": 1,
    "urgent": False,
}


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    shutil.copy(default_rules_path(), folder / "50-default.yaml")
    return folder


@pytest.fixture
def reloader(rules_dir: Path) -> RulesReloader:
    decider = RuleDecider(load_rules(rules_dir, load_directory(default_directory_path())))
    return RulesReloader(decider, rules_dir, default_directory_path(), interval=3600)


def _prepend_elevator_rule(rules_dir: Path) -> None:
    (rules_dir / "10-override.yaml").write_text(
        "version: override-1\nrules:\n"
        "  - {id: elevator-emergency, owner: t, changed: 2026-11-20,\n"
        "     when: {channel: [letter], keywords: {any: [电梯]}},\n"
        "     assign: {kind: emergency, level: district}}\n",
        encoding="utf-8",
    )


def test_unchanged_files_do_not_reload(reloader: RulesReloader) -> None:
    assert reloader.poll() is False
    assert reloader.reload_now() is False  # same content: same version, nothing to swap


def test_a_new_valid_rule_set_is_swapped_in(rules_dir: Path, reloader: RulesReloader) -> None:
    old = reloader.decider.ruleset
    assert reloader.decider(CASE).org_kind == "housing"
    _prepend_elevator_rule(rules_dir)
    assert reloader.poll() is True
    new = reloader.decider.ruleset
    assert new is not old
    assert re.fullmatch(r"override-1\+default-2026\.11\+[0-9a-f]{8}", new.version)
    decided = reloader.decider(CASE)
    assert (decided.org_kind, decided.rule_id) == ("emergency", "elevator-emergency")
    assert decided.ruleset_version == new.version
    assert reloader.poll() is False  # nothing changed since


def test_an_edit_without_a_version_bump_still_changes_the_version(
    rules_dir: Path, reloader: RulesReloader
) -> None:
    old = reloader.decider.ruleset.version
    path = rules_dir / "50-default.yaml"
    text = path.read_text(encoding="utf-8").replace("owner: 市教委", "owner: 市教育委员会")
    path.write_text(text, encoding="utf-8")
    assert reloader.reload_now() is True
    new = reloader.decider.ruleset.version
    assert new != old and new.split("+")[0] == old.split("+")[0] == "default-2026.11"


def test_an_invalid_rule_set_is_logged_and_the_old_one_stays(
    rules_dir: Path, reloader: RulesReloader, caplog: pytest.LogCaptureFixture
) -> None:
    old = reloader.decider.ruleset
    bad = rules_dir / "10-bad.yaml"
    bad.write_text(
        "version: bad-1\nrules:\n  - {id: oops, owner: t, changed: 2026-11-20,\n"
        "     when: {chanel: [phone]}, assign: {kind: housing, level: district}}\n",
        encoding="utf-8",
    )
    with caplog.at_level(logging.ERROR, logger="xinfang.rules"):
        assert reloader.poll() is False
    assert reloader.decider.ruleset is old
    assert f"{bad}: rule 'oops' (#1, line 3): when.chanel: unknown field" in caplog.text
    assert "keeping default-2026.11+" in caplog.text
    caplog.clear()
    assert reloader.poll() is False  # the same broken files are not reported again
    assert caplog.text == ""
    bad.unlink()
    _prepend_elevator_rule(rules_dir)
    assert reloader.poll() is True  # fixed: the next valid set goes live


def test_an_invalid_directory_keeps_the_old_set(tmp_path: Path, rules_dir: Path) -> None:
    directory = tmp_path / "dir.yaml"
    shutil.copy(default_directory_path(), directory)
    decider = RuleDecider(load_rules(rules_dir, load_directory(directory)))
    reloader = RulesReloader(decider, rules_dir, directory, interval=3600)
    old = decider.ruleset
    directory.write_text("version: broken\n", encoding="utf-8")
    assert reloader.reload_now() is False
    assert decider.ruleset is old


def test_the_thread_starts_and_stops(reloader: RulesReloader) -> None:
    reloader.start()
    reloader.stop(timeout=5)
    assert reloader._thread is not None and not reloader._thread.is_alive()
