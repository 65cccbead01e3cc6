"""The Grafana dashboard asks only for metrics that exist (xinfang's, dramatiq's, RabbitMQ's),
from the provisioned data source, in PromQL that Prometheus parses, and shows what leaders
look at: every KPI against its target, throughput and latency, queues, dead letters, overdue
cases by district and department kind, escalations by level."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from metric_names import known_names, used_names

from monitoring.kpi import Kpis

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((ROOT / "monitoring" / "grafana").glob("*.json"))
DATASOURCES = ROOT / "docker" / "grafana" / "provisioning" / "datasources" / "prometheus.yml"


def _panels() -> list[dict[str, Any]]:
    return [p for path in DASHBOARDS for p in json.loads(path.read_text("utf-8"))["panels"]]


def _exprs(panels: list[dict[str, Any]]) -> list[str]:
    return [target["expr"] for panel in panels for target in panel["targets"]]


def test_every_panel_queries_known_metrics_from_the_provisioned_source() -> None:
    (source,) = yaml.safe_load(DATASOURCES.read_text("utf-8"))["datasources"]
    known = known_names()
    assert DASHBOARDS
    for panel in _panels():
        assert panel["datasource"] == {"type": "prometheus", "uid": source["uid"]}
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target.get("datasource", panel["datasource"]) == panel["datasource"]
            used = used_names(target["expr"])
            assert used and used <= known, f"{panel['title']}: {sorted(used - known)}"


def test_every_kpi_is_shown_against_its_target() -> None:
    panels = _panels()
    shown = {kpi for expr in _exprs(panels) for kpi in re.findall(r'kpi="([a-z_]+)"', expr)}
    assert shown == {field.name for field in dataclasses.fields(Kpis)}

    def threshold(kpi: str) -> float:
        (stat,) = [
            p
            for p in panels
            if p["type"] == "stat"
            and p["targets"][0]["expr"] == f'xinfang_kpi_ratio{{kpi="{kpi}"}}'
        ]
        steps = stat["fieldConfig"]["defaults"]["thresholds"]["steps"]
        assert steps[0]["color"] == "red" and steps[-1]["color"] == "green"
        return float(steps[-1]["value"])

    assert threshold("timely_acceptance") == threshold("on_time_completion") == 0.995
    assert 0.70 < threshold("online_share") <= 0.7001  # "more than 70 %": 70 % itself is red


@pytest.mark.parametrize(
    "needed",
    [
        "xinfang_cases_received_total",  # throughput
        "xinfang_cases_routed_total",
        "xinfang_dispatch_latency_seconds_bucket",  # latency
        "rabbitmq_queue_messages_ready",  # queue depth
        "rabbitmq_queue_consumers",  # consumers
        "rabbitmq_queue_messages",  # dead letters waiting
        "dramatiq_message_rejects_total",  # dead-lettered actor messages
        "xinfang_overdue_cases",
        "xinfang_escalation_steps_total",
        "xinfang_outbox_oldest_age_seconds",
        "xinfang_role_up",
    ],
)
def test_the_dashboard_shows(needed: str) -> None:
    assert any(needed in used_names(expr) for expr in _exprs(_panels()))


def test_overdue_cases_are_shown_by_district_and_by_department_kind() -> None:
    grouped = [
        expr for expr in _exprs(_panels()) if "xinfang_overdue_cases" in expr and "sum by" in expr
    ]
    assert any("by (district)" in expr for expr in grouped)
    assert any("by (org_kind)" in expr for expr in grouped)
    assert any(
        "by (level)" in expr and "xinfang_escalation_steps_total" in expr
        for expr in _exprs(_panels())
    )


def test_every_query_is_valid_promql(tmp_path: Path) -> None:
    # promtool parses rule expressions: each query becomes a recording rule.
    rules = [{"record": f"dashboard:query_{n}", "expr": e} for n, e in enumerate(_exprs(_panels()))]
    path = tmp_path / "dashboard_rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}), "utf-8")
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: apt-get install prometheus (.ci/run does)"
    checked = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
