"""The Grafana dashboard asks only for metrics xinfang exposes, from the provisioned source."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import yaml

from monitoring.kpi import Kpis
from monitoring.metrics import Metrics

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "monitoring" / "grafana" / "xinfang-overview.json"
COLLECTED = {"xinfang_kpi_ratio", "xinfang_open_clocks", "xinfang_overdue_clocks"}


def _exposed() -> set[str]:
    names = set(COLLECTED)
    for metric in Metrics().registry.collect():
        names |= {
            metric.name,
            *(f"{metric.name}_{suffix}" for suffix in ("total", "bucket", "sum", "count")),
        }
    return names


def test_every_panel_queries_exposed_metrics_from_the_provisioned_source() -> None:
    dashboard = json.loads(DASHBOARD.read_text("utf-8"))
    source = yaml.safe_load(
        (ROOT / "docker" / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text(
            "utf-8"
        )
    )
    uid = source["datasources"][0]["uid"]
    exposed = _exposed()
    kpis = set()
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == uid
        for target in panel["targets"]:
            used = set(re.findall(r"xinfang_[a-z_]+", target["expr"]))
            assert used and used <= exposed, f"{panel['title']}: {used - exposed}"
            kpis |= set(re.findall(r'kpi="([a-z_]+)"', target["expr"]))
    assert kpis == {field.name for field in dataclasses.fields(Kpis)}  # every KPI shown
