"""`xinfang demo` as a user runs it: the bundled sample through the real embedded pipeline."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def test_demo_replays_the_sample_and_reports_kpis(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "dispatcher.cli", "demo", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["cases"] == 600 and report["rejected"] == 0
    # the 12 follow-ups of the sample join earlier cases: repeats and collective co-signers
    assert report["linked"] == {"repeat": 8, "collective": 4}
    assert set(report["per_channel"]) == {"letter", "visit", "online", "phone", "video"}
    assert len(report["per_department"]) > 100 and report["triage"]
    assert report["commands"].get("applied", 0) > 1500
    assert report["commands"].get("refused", 0) == 0  # the simulated offices act lawfully
    assert report["reviews_opened"] > 0
    kpis = report["kpis"]
    assert kpis["online_share"]["rate"] == pytest.approx(0.70)
    for name in ("timely_acceptance", "on_time_completion", "satisfaction"):
        assert 0.5 < kpis[name]["rate"] < 1.0, name  # some are late or unhappy on purpose
    # Departments that miss deadlines climb the ladders; every step is told.
    escalated = report["escalations"]
    assert escalated["steps"] > 0 and escalated["cases"] > 0
    assert set(escalated["per_step"]) == {"预警", "催办", "督办", "挂牌督办"}
    assert set(escalated["per_level"]) == {"district", "city"}
    assert sum(escalated["per_district"].values()) == escalated["steps"]
    assert {key.split()[1] for key in escalated["notifications"]} == {"sent"}
    assert not list(tmp_path.iterdir()), "the demo leaves nothing behind in the working dir"
