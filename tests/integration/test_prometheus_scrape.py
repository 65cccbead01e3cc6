"""A real Prometheus (Debian's `prometheus` binary) scrapes a running `xinfang run` on the real
RabbitMQ and PostgreSQL every second. A known mix of petitions is published (valid ones, invalid
ones, a duplicate, a repeat), some of them received a month ago and so past their deadlines;
departments accept two; `xinfang sweep` takes the escalation steps due. Then every counter and
gauge read back through Prometheus' query API equals what plain SQL counts in the database.

`xinfang run` runs intake and worker only: no relay, so that the outbox keeps every event and
its backlog is known; no scheduler, so that no step is taken but the sweep's. The sweep and the
department commands are processes of their own: their counters reach the scrape through
PROMETHEUS_MULTIPROC_DIR, which every process here shares."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, text
from support import PETITIONER, free_port, phone_case, publish_raw, wait_for
from xinfang_processes import Xinfang, environment, get, run

from dispatcher.bootstrap.app import make_engine

pytestmark = pytest.mark.integration

Series = dict[frozenset[tuple[str, str]], float]

# What each query returns, as Prometheus and as plain SQL over the database would count it.
QUERIES = {
    "received": (
        "sum by (channel) (xinfang_cases_received_total)",
        "SELECT channel, count(*) FROM cases WHERE kind = 'original' GROUP BY channel",
        ("channel",),
    ),
    "rejected": (
        "sum by (reason) (xinfang_cases_rejected_total)",
        "SELECT code, count(*) FROM rejected_messages GROUP BY code",
        ("reason",),
    ),
    "linked": (
        "sum by (kind) (xinfang_cases_linked_total)",
        "SELECT kind, count(*) FROM case_links GROUP BY kind",
        ("kind",),
    ),
    "routed": (
        "sum by (outcome, org_kind, district) (xinfang_cases_routed_total)",
        """SELECT CASE WHEN e.data->>'outcome' = 'triage' THEN 'triage' ELSE 'assigned' END,
                  c.org_kind, substr(c.region, 1, 6), count(*)
           FROM events e JOIN cases c ON c.case_id = e.case_id
           WHERE e.type = 'assigned' GROUP BY 1, 2, 3""",
        ("outcome", "org_kind", "district"),
    ),
    "dispatched": (
        "sum by (channel) (xinfang_dispatch_latency_seconds_count)",
        """SELECT c.channel, count(*) FROM events e JOIN cases c ON c.case_id = e.case_id
           WHERE e.type = 'assigned' AND e.data->>'outcome' <> 'triage' GROUP BY 1""",
        ("channel",),
    ),
    "escalated": (
        "sum by (kind, level) (xinfang_escalation_steps_total)",
        "SELECT kind, level, count(*) FROM escalations GROUP BY 1, 2",
        ("kind", "level"),
    ),
    "notified": (
        "sum by (channel, outcome) (xinfang_notifications_total)",
        """SELECT channel, status, count(*) FROM notifications
           WHERE status = 'skipped' GROUP BY 1, 2""",
        ("channel", "outcome"),
    ),
    "open": (
        "sum by (clock) (xinfang_open_clocks)",
        "SELECT name, count(*) FROM clocks WHERE met_at IS NULL GROUP BY name",
        ("clock",),
    ),
    "overdue": (
        "sum by (clock) (xinfang_overdue_clocks)",
        """SELECT name, count(*) FILTER (WHERE due_at < now()) FROM clocks
           WHERE met_at IS NULL GROUP BY name""",
        ("clock",),
    ),
    "overdue cases": (
        "sum by (district, org_kind) (xinfang_overdue_cases)",
        """SELECT substr(c.region, 1, 6), coalesce(c.org_kind, 'unrouted'),
                  count(DISTINCT k.case_id)
           FROM clocks k JOIN cases c ON c.case_id = k.case_id
           WHERE k.met_at IS NULL AND k.due_at < now() GROUP BY 1, 2""",
        ("district", "org_kind"),
    ),
    "backlog": (
        "sum(xinfang_outbox_backlog)",
        "SELECT count(*) FROM events WHERE published_at IS NULL",
        (),
    ),
}

# The KPIs by their definitions (docs/kpis.md), in SQL of their own.
KPI_SQL = {
    "timely_acceptance": """
        WITH per_case AS (
          SELECT case_id,
                 max(CASE WHEN status = 'met_late' OR (met_at IS NULL AND due_at < now())
                          THEN 1 ELSE 0 END) AS late,
                 max(CASE WHEN name = 'acceptance' AND status = 'met' THEN 1 ELSE 0 END)
                   AS accepted
          FROM clocks WHERE name IN ('forwarding', 'acceptance') GROUP BY case_id)
        SELECT count(*) FILTER (WHERE accepted = 1 AND late = 0),
               count(*) FILTER (WHERE (accepted = 1 AND late = 0) OR late = 1)
        FROM per_case""",
    "on_time_completion": """
        SELECT count(*) FILTER (WHERE status = 'met'),
               count(*) FILTER (WHERE status IN ('met', 'met_late')
                                  OR (met_at IS NULL AND due_at < now()))
        FROM clocks WHERE name IN ('handling', 'review', 'rereview')""",
    "online_share": """
        SELECT count(*) FILTER (WHERE channel = 'online'), count(*)
        FROM cases WHERE kind = 'original'""",
    "satisfaction": """
        SELECT count(*) FILTER (WHERE data->>'rating' IN ('satisfied', 'basically_satisfied')),
               count(*)
        FROM events WHERE type = 'evaluated'""",
}


class Prometheus:
    """The prometheus binary on a free port, scraping `targets` every second."""

    def __init__(self, folder: Path, targets: list[str]) -> None:
        binary = shutil.which("prometheus")
        assert binary, "prometheus is missing: apt-get install prometheus (.ci/run does)"
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [{"job_name": "xinfang", "static_configs": [{"targets": targets}]}],
        }
        (folder / "prometheus.yml").write_text(yaml.safe_dump(config), "utf-8")
        self.port = free_port()
        self._log = (folder / "prometheus.log").open("ab")
        self.process = subprocess.Popen(
            [
                binary,
                f"--config.file={folder / 'prometheus.yml'}",
                f"--storage.tsdb.path={folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        wait_for(
            lambda: self.process.poll() is not None or get(self.url + "/-/ready")[0] == 200,
            "Prometheus to be ready",
            timeout=60,
        )
        assert self.process.poll() is None, (folder / "prometheus.log").read_text()

    def query(self, expr: str) -> Series:
        status, body = get(f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': expr})}")
        assert status == 200, body
        answer = json.loads(body)
        assert answer["status"] == "success", answer
        return {
            frozenset(item["metric"].items()): float(item["value"][1])
            for item in answer["data"]["result"]
        }

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)
        self._log.close()


# -- the petitions ---------------------------------------------------------------------------


def _petition(
    external_id: str, received: datetime, vague: bool = False, **fields: Any
) -> dict[str, Any]:
    """A housing petition of no named petitioner (so that nothing links it to another); a
    vague one has no category and says nothing a rule knows: it waits at triage."""
    case = phone_case(
        external_id,
        received_at=received.isoformat(),
        title=f"{external_id}号楼加装电梯施工受阻",
        content=f"{external_id}号楼加装电梯已获多数业主同意，施工因个别住户阻挠停工，请协调。",
    )
    del case["petitioner"]
    if vague:
        del case["category"]
        case |= {"title": "感谢信", "content": f"感谢工作人员的耐心解答（{external_id}）。"}
    return case | fields


def _mix(now: datetime) -> list[tuple[str, bytes]]:
    fresh, old = now - timedelta(hours=1), now - timedelta(days=30)
    cases = [
        _petition("F1", fresh, channel="online", region="500103"),
        _petition("F2", fresh, channel="online", region="500106"),
        _petition("F3", fresh, channel="online", region="500112001"),
        _petition("F4", fresh, channel="phone", region="500103"),
        _petition("F5", fresh, channel="letter", region="500112"),
        # A month old and past every period: forwarded late, or still in triage.
        _petition("O1", old, channel="visit", region="500106"),
        _petition("O2", old, vague=True, channel="online", region="500103"),
        _petition("O3", old, vague=True, channel="phone", region="500112"),
    ]
    # One petitioner twice on one matter: the second joins the first as a repeat.
    first = phone_case("R1", received_at=fresh.isoformat(), channel="video")
    second = phone_case("R2", received_at=(fresh + timedelta(minutes=5)).isoformat())
    assert first["petitioner"] == second["petitioner"] == PETITIONER
    cases += [first, second]
    valid = [(f"case.{c['channel']}", json.dumps(c, ensure_ascii=False).encode()) for c in cases]
    duplicate = valid[0]  # F1 again: the same (source, external_id)
    invalid = [
        ("case.phone", b"not json at all"),
        ("case.fax", json.dumps({**cases[0], "external_id": "X1", "channel": "fax"}).encode()),
        ("case.phone", json.dumps({**cases[0], "external_id": "X2", "region": "5001"}).encode()),
    ]
    return [*valid, duplicate, *invalid]


# -- what the database says --------------------------------------------------------------------


def _from_sql(engine: Engine, sql: str, labels: tuple[str, ...]) -> Series:
    with engine.connect() as conn:
        rows = conn.execute(text(sql)).all()
    return {
        frozenset(zip(labels, (str(v) for v in row[:-1]), strict=True)): float(row[-1])
        for row in rows
    }


def _kpis(engine: Engine) -> Series:
    found: Series = {}
    with engine.connect() as conn:
        for kpi, sql in KPI_SQL.items():
            good, total = conn.execute(text(sql)).one()
            if total:  # no cases for a KPI: no sample
                found[frozenset({("kpi", kpi)})] = good / total
    return found


def _settled(engine: Engine) -> bool:
    with engine.connect() as conn:
        originals, waiting, rejected, links = conn.execute(
            text(
                """SELECT (SELECT count(*) FROM cases WHERE kind = 'original'),
                          (SELECT count(*) FROM cases WHERE stage = 'registered'),
                          (SELECT count(*) FROM rejected_messages),
                          (SELECT count(*) FROM case_links)"""
            )
        ).one()
    return (originals, waiting, rejected, links) == (9, 0, 3, 1)


def _same(got: Series, expected: Series) -> bool:
    return got.keys() == expected.keys() and all(
        math.isclose(got[key], expected[key], rel_tol=1e-9) for key in expected
    )


def test_a_real_prometheus_reads_what_the_database_counts(
    migrated_pg_url: str, amqp_url: str, tmp_path: Path
) -> None:
    env = environment(
        migrated_pg_url,
        amqp_url,
        PROMETHEUS_MULTIPROC_DIR=tmp_path / "prometheus-multiproc",
        XINFANG_RULES_RELOAD=0,
        XINFANG_COLLECTIVE_WINDOW_DAYS=0,  # the petitions below share places and categories
    )
    xinfang = Xinfang(["run", "--roles", "intake,worker"], env, tmp_path / "run.log", free_port())
    engine = make_engine(migrated_pg_url)
    prometheus = None
    try:
        xinfang.wait_ready()
        prometheus = Prometheus(tmp_path, [f"127.0.0.1:{xinfang.port}"])
        publish_raw(amqp_url, _mix(datetime.now(UTC)))
        wait_for(lambda: _settled(engine), "the mix registered, linked, rejected and routed")
        _department_accepts(engine, env, ("F1", "F4"))
        run(["sweep", "--no-deliver"], env)

        expected = _expected(engine)
        assert expected["escalated"] and expected["notified"]  # the month-old cases in triage
        assert expected["overdue cases"] and expected["linked"] == {
            frozenset({("kind", "repeat")}): 1
        }
        _until_prometheus_says(prometheus, expected)

        _outbox_age_is_the_oldest_events(prometheus, engine)
        assert prometheus.query("min by (role) (xinfang_role_up)") == {
            frozenset({("role", role)}): 1.0 for role in ("intake", "worker", "metrics")
        }
        (build,) = prometheus.query("xinfang_build_info")
        assert ("version", "0.1.0") in build
        routes = prometheus.query('sum(dramatiq_messages_total{actor_name="xinfang.route"})')
        assert routes[frozenset()] >= 1  # dramatiq's own count of the route messages handled
        _promtool_accepts(xinfang.metrics())
    finally:
        if prometheus is not None:
            prometheus.stop()
        code = xinfang.stop()
        engine.dispose()
    assert code == 0, xinfang.text()[-3000:]


def _department_accepts(engine: Engine, env: dict[str, str], external_ids: tuple[str, ...]) -> None:
    with engine.connect() as conn:
        ids = (
            conn.execute(
                text(
                    "SELECT case_id FROM cases WHERE external_id = ANY(:ids) AND stage = 'assigned'"
                ),
                {"ids": list(external_ids)},
            )
            .scalars()
            .all()
        )
    assert len(ids) == len(external_ids)
    for case_id in ids:
        run(["case", "accept", case_id], env)


def _expected(engine: Engine) -> dict[str, Series]:
    expected = {name: _from_sql(engine, sql, labels) for name, (_, sql, labels) in QUERIES.items()}
    expected["kpis"] = _kpis(engine)
    expected["duplicates"] = {frozenset(): 1.0}  # as published: the database keeps no trace
    return expected


PROMQL = {name: query for name, (query, _, _) in QUERIES.items()} | {
    "kpis": "sum by (kpi) (xinfang_kpi_ratio)",
    "duplicates": "sum(xinfang_cases_duplicate_total)",
}


def _until_prometheus_says(prometheus: Prometheus, expected: dict[str, Series]) -> None:
    """Poll the query API (each scrape a second apart) until every answer equals the
    database's, or fail with the answers that differ."""
    differ: dict[str, tuple[Series, Series]] = {}

    def agree() -> bool:
        differ.clear()
        for name, query in PROMQL.items():
            got = prometheus.query(query)
            if not _same(got, expected[name]):
                differ[name] = (got, expected[name])
        return not differ

    try:
        wait_for(agree, "Prometheus' answers to equal the database's", timeout=60)
    except AssertionError:
        raise AssertionError(
            f"Prometheus (left) and the database (right) differ: {differ}"
        ) from None


def _outbox_age_is_the_oldest_events(prometheus: Prometheus, engine: Engine) -> None:
    (age,) = prometheus.query("max(xinfang_outbox_oldest_age_seconds)").values()
    with engine.connect() as conn:
        waited = conn.scalar(
            text(
                "SELECT extract(epoch FROM now() - at) FROM events "
                "WHERE published_at IS NULL ORDER BY id LIMIT 1"
            )
        )
    # Prometheus answers with the last scrape's value, taken a second or so before this query.
    assert float(waited) - 5 <= age <= float(waited) + 0.5, (age, waited)
    assert age > 0


def _promtool_accepts(exposition: str) -> None:
    """promtool's lint of xinfang's exposition finds nothing to say of xinfang's metrics. The
    only finding allowed is dramatiq's histogram, which dramatiq names in milliseconds."""
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: apt-get install prometheus (.ci/run does)"
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=exposition, capture_output=True, text=True, timeout=60
    )
    findings = [line for line in (checked.stdout + checked.stderr).splitlines() if line.strip()]
    assert all(line.startswith("dramatiq_message_duration_milliseconds") for line in findings), (
        findings
    )
