"""The Prometheus configuration and alert rules, checked by Prometheus' own promtool (Debian's
`prometheus` package; .ci/run installs it): the rules and the scrape configuration are valid,
and the rules fire as tests/prometheus/alerts_test.yml says they should."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "docker" / "prometheus" / "alerts.yml"
CONFIG = ROOT / "docker" / "prometheus" / "prometheus.yml"
ALERT_TESTS = ROOT / "tests" / "prometheus" / "alerts_test.yml"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    found = shutil.which("promtool")
    assert found, "promtool is missing: apt-get install prometheus (.ci/run does)"
    return subprocess.run(
        [found, *args], capture_output=True, text=True, timeout=120, check=False, cwd=ROOT
    )


def test_promtool_accepts_the_alert_rules() -> None:
    checked = promtool("check", "rules", str(ALERTS))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout


def test_the_alert_rules_fire_as_their_unit_tests_say() -> None:
    tested = promtool("test", "rules", str(ALERT_TESTS))
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_every_alert_is_unit_tested() -> None:
    alerts = {
        rule["alert"]
        for group in yaml.safe_load(ALERTS.read_text("utf-8"))["groups"]
        for rule in group["rules"]
    }
    tests = yaml.safe_load(ALERT_TESTS.read_text("utf-8"))["tests"]
    tested = {case["alertname"] for test in tests for case in test["alert_rule_test"]}
    assert alerts == tested


def test_promtool_accepts_the_scrape_configuration(tmp_path: Path) -> None:
    # The compose file mounts the rules at /etc/prometheus/alerts.yml: point there at ours.
    config = yaml.safe_load(CONFIG.read_text("utf-8"))
    config["rule_files"] = [str(ALERTS)]
    copy = tmp_path / "prometheus.yml"
    copy.write_text(yaml.safe_dump(config), "utf-8")
    checked = promtool("check", "config", str(copy))
    assert checked.returncode == 0, checked.stdout + checked.stderr
