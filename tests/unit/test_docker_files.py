"""Static checks of docker/: the compose file, the RabbitMQ definitions, the Prometheus rules.

No Docker engine is needed: the files are parsed and compared with the code they must agree
with (the topology in dispatcher/adapters/messaging/topology.py, the metrics in
monitoring/metrics.py, dramatiq's and RabbitMQ's: tests/metric_names.py).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from metric_names import known_names, used_names

from dispatcher.adapters.messaging import topology

DOCKER = Path(__file__).resolve().parents[2] / "docker"
VHOST = "xinfang"
ROLES = ("intake", "commands", "worker", "relay")
ROLE_USERS = {
    f"xinfang-{role}" for role in (*ROLES, "scheduler", "producer", "department", "reader", "api")
}
DRAMATIQ_QUEUES = ("xinfang.route", "xinfang.route.DQ", "xinfang.route.XQ")
# The escalation actors' queues: the worker consumes them, the scheduler enqueues to them.
ESCALATION_QUEUES = tuple(
    f"xinfang.{actor}{suffix}" for actor in ("escalate", "notify") for suffix in ("", ".DQ", ".XQ")
)


def _yaml(relative: str) -> Any:
    return yaml.safe_load((DOCKER / relative).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return _yaml("compose.yaml")


@pytest.fixture(scope="module")
def definitions() -> dict[str, Any]:
    return json.loads((DOCKER / "rabbitmq" / "definitions.json").read_text(encoding="utf-8"))


def _permissions(definitions: dict[str, Any], user: str) -> dict[str, str]:
    (found,) = [p for p in definitions["permissions"] if p["user"] == user and p["vhost"] == VHOST]
    return found


def _allowed(regex: str, name: str) -> bool:
    """RabbitMQ's check: the regex matches the resource name; '' means '^$'; the default
    exchange is checked under the name amq.default."""
    return re.search(regex or "^$", name or "amq.default") is not None


# --- compose.yaml ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_each_role_runs_its_command_with_the_distributed_settings(compose: dict, role: str):
    service = compose["services"][role]
    assert service["command"] == [role]
    env = service["environment"]
    assert env["XINFANG_BROKER_URL"] == (
        f"amqp://xinfang-{role}:xinfang-{role}-dev@rabbitmq:5672/{VHOST}"
    )
    assert re.fullmatch(
        r"postgresql\+psycopg://xinfang:[^@]+@postgres:5432/xinfang", env["XINFANG_DATABASE_URL"]
    )
    assert str(env["XINFANG_METRICS_PORT"]) == "9100"
    assert service["depends_on"] == {
        "migrate": {"condition": "service_completed_successfully"},
        "rabbitmq": {"condition": "service_healthy"},
        "postgres": {"condition": "service_healthy"},
    }


def test_workers_scale_out(compose: dict):
    assert compose["services"]["worker"]["deploy"]["replicas"] == 2


def test_migrate_upgrades_the_schema_once(compose: dict):
    migrate = compose["services"]["migrate"]
    assert migrate["command"] == ["db", "upgrade"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert (
        migrate["environment"]["XINFANG_DATABASE_URL"]
        == (compose["services"]["intake"]["environment"]["XINFANG_DATABASE_URL"])
    )


def test_services_and_health_checks(compose: dict):
    services = compose["services"]
    assert {"rabbitmq", "postgres", "migrate", *ROLES, "prometheus", "grafana"} <= set(services)
    assert services["rabbitmq"]["image"] == "rabbitmq:3.13-management"
    assert services["rabbitmq"]["healthcheck"]["test"][1:] == ["rabbitmq-diagnostics", "-q", "ping"]
    assert services["postgres"]["image"] == "postgres:16"
    assert services["postgres"]["environment"]["POSTGRES_DB"] == "xinfang"
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    database_url = services["intake"]["environment"]["XINFANG_DATABASE_URL"]
    password = re.search(r"xinfang:([^@]+)@", database_url).group(1)
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == password


@pytest.mark.parametrize("role", [*ROLES, "scheduler", "metrics"])
def test_each_role_is_health_checked_by_xinfang_health_on_its_metrics_port(
    compose: dict, role: str
):
    service = compose["services"][role]
    assert service["healthcheck"]["test"] == ["CMD", "xinfang", "health"]
    assert service["environment"]["XINFANG_METRICS_PORT"] == "9100"
    assert service["restart"] == "unless-stopped"  # a role that exits non-zero comes back


def test_bind_mounts_point_at_files_in_the_repository(compose: dict):
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith("."):
                continue  # a named volume
            if source == "../monitoring/grafana":
                continue  # the dashboards folder; Docker creates it empty when it is missing
            assert (DOCKER / source).exists(), f"service {name}: {source} does not exist"


# The Dockerfile (stages, base, user, no build tools), the shared image, the limits and
# `docker compose config` itself: tests/unit/test_compose.py.


# --- rabbitmq/definitions.json -------------------------------------------------------------


def test_one_vhost_and_the_expected_users(definitions: dict):
    assert [vhost["name"] for vhost in definitions["vhosts"]] == [VHOST]
    users = {user["name"]: user for user in definitions["users"]}
    assert set(users) == ROLE_USERS | {"admin"}
    for name in ROLE_USERS:
        assert users[name]["tags"] in ([], ""), f"{name} must have no tags"
    assert users["admin"]["tags"] in (["administrator"], "administrator")
    assert {p["user"] for p in definitions["permissions"]} == set(users)


@pytest.mark.parametrize("user", sorted(ROLE_USERS | {"admin"}))
def test_password_hashes_are_rabbitmq_sha256_of_the_dev_passwords(definitions: dict, user: str):
    (record,) = [u for u in definitions["users"] if u["name"] == user]
    assert record["hashing_algorithm"] == "rabbit_password_hashing_sha256"
    raw = base64.b64decode(record["password_hash"], validate=True)
    assert len(raw) == 4 + 32
    salt, digest = raw[:4], raw[4:]
    password = f"xinfang-{user.removeprefix('xinfang-')}-dev"  # see docker/README.md
    assert digest == hashlib.sha256(salt + password.encode("utf-8")).digest()


def test_every_exchange_of_the_topology_is_declared_identically(definitions: dict):
    declared = {e["name"]: e for e in definitions["exchanges"]}
    for exchange in topology.EXCHANGES:
        found = declared.pop(exchange.name)
        assert found["vhost"] == VHOST
        assert found["type"] == exchange.type
        assert found["durable"] is exchange.durable
        assert found["auto_delete"] is exchange.auto_delete
        assert found["internal"] is False
        assert found["arguments"] == (exchange.arguments or {})
    assert not declared, f"exchanges the code does not declare: {sorted(declared)}"


def test_every_queue_and_binding_of_the_topology_is_declared_identically(definitions: dict):
    queues = {q["name"]: q for q in definitions["queues"]}
    bindings = [
        (b["source"], b["destination"], b["destination_type"], b["routing_key"], b["arguments"])
        for b in definitions["bindings"]
    ]
    expected_bindings = []
    for queue in topology.QUEUES:
        found = queues.pop(queue.name)
        assert found["vhost"] == VHOST
        assert found["durable"] is queue.durable
        assert found["auto_delete"] is queue.auto_delete
        assert not queue.exclusive
        # RabbitMQ refuses a re-declaration whose arguments differ (PRECONDITION_FAILED).
        assert found["arguments"] == (queue.queue_arguments or {})
        assert "type" not in found or found["type"] == "classic"
        expected_bindings.append(
            (
                queue.exchange.name,
                queue.name,
                "queue",
                queue.routing_key,
                queue.binding_arguments or {},
            )
        )
    assert not queues, f"queues the code does not declare: {sorted(queues)}"
    assert sorted(bindings) == sorted(expected_bindings)
    assert all(b["vhost"] == VHOST for b in definitions["bindings"])


def test_the_producer_can_only_publish_to_the_intake_exchange(definitions: dict):
    perms = _permissions(definitions, "xinfang-producer")
    # The default exchange's blank name is checked as amq.default, so no resource is named "".
    names = [
        "xinfang.intake",
        "xinfang.intake.rejected",
        "xinfang.events",
        *DRAMATIQ_QUEUES,
        "amq.default",
        "amq.topic",
        "xinfang.intakeX",
        "xxinfang.intake",
    ]
    assert not any(re.fullmatch(perms["configure"] or "^$", name) for name in names)
    assert not any(re.fullmatch(perms["read"] or "^$", name) for name in names)
    writable = [name for name in names if re.fullmatch(perms["write"], name)]
    assert writable == ["xinfang.intake"]
    # RabbitMQ uses re.search semantics: the regexes must be anchored to mean the same.
    assert [name for name in names if _allowed(perms["write"], name)] == ["xinfang.intake"]


def _check(definitions: dict, user: str, kind: str, names: list[str], allowed: bool) -> None:
    regex = _permissions(definitions, user)[kind]
    for name in names:
        assert _allowed(regex, name) is allowed, f"{user} {kind} {name!r} should be {allowed}"


def test_each_role_may_do_what_its_code_does_and_no_more(definitions: dict):
    every = [
        "xinfang.intake",
        "xinfang.intake.rejected",
        "xinfang.events",
        *DRAMATIQ_QUEUES,
        *ESCALATION_QUEUES,
        "",
    ]

    # intake: the consumer declares its queue and the rejected one, and dramatiq enqueues
    # route (queue.declare with a DLX on ""); xinfang.events is the relay's to declare.
    intake_configure = ["xinfang.intake", "xinfang.intake.rejected", *DRAMATIQ_QUEUES]
    intake_write = ["xinfang.intake", "xinfang.intake.rejected", ""]
    intake_read = ["xinfang.intake", "xinfang.intake.rejected", "xinfang.route", "xinfang.route.DQ"]
    _check(definitions, "xinfang-intake", "configure", intake_configure, True)
    _check(definitions, "xinfang-intake", "write", intake_write, True)
    _check(definitions, "xinfang-intake", "read", intake_read, True)
    for kind, names in (
        ("configure", intake_configure),
        ("write", intake_write),
        ("read", intake_read),
    ):
        _check(definitions, "xinfang-intake", kind, [n for n in every if n not in names], False)

    # worker and scheduler: dramatiq only, the queues of its three actors (route, escalate,
    # notify), publishing through the default exchange; the worker consumes them, the
    # scheduler enqueues to them. A queue with a DLX needs read on it to be declared.
    actors = [*DRAMATIQ_QUEUES, *ESCALATION_QUEUES]
    readable = [name for name in actors if not name.endswith(".XQ")]
    xinfang = ["xinfang.intake", "xinfang.intake.rejected", "xinfang.events", "xinfang.commands"]
    for user in ("xinfang-worker", "xinfang-scheduler"):
        _check(definitions, user, "configure", actors, True)
        _check(definitions, user, "write", [""], True)
        _check(definitions, user, "read", readable, True)
        _check(definitions, user, "configure", [*xinfang, ""], False)
        _check(definitions, user, "write", [*xinfang, *actors], False)
        _check(definitions, user, "read", [*xinfang, ""], False)

    # relay: declare and publish to xinfang.events, nothing else.
    _check(definitions, "xinfang-relay", "configure", ["xinfang.events"], True)
    _check(definitions, "xinfang-relay", "write", ["xinfang.events"], True)
    _check(
        definitions,
        "xinfang-relay",
        "configure",
        [n for n in every if n != "xinfang.events"],
        False,
    )
    _check(
        definitions, "xinfang-relay", "write", [n for n in every if n != "xinfang.events"], False
    )
    _check(definitions, "xinfang-relay", "read", every, False)

    # api (the HTTP gateway): registers cases in the database and enqueues route through
    # dramatiq, as the intake does, and nothing more: no intake queue, no events, no commands.
    api = {"configure": list(DRAMATIQ_QUEUES), "write": [""], "read": list(DRAMATIQ_QUEUES[:2])}
    others = [*every, "xinfang.commands", "xinfang.commands.rejected"]
    for kind, names in api.items():
        _check(definitions, "xinfang-api", kind, names, True)
        _check(definitions, "xinfang-api", kind, [n for n in others if n not in names], False)

    # commands: declares and binds its two queues (binding needs write on the queue and read
    # on the exchange), consumes commands, dead-letters refused ones.
    commands = ["xinfang.commands", "xinfang.commands.rejected"]
    for kind in ("configure", "write", "read"):
        _check(definitions, "xinfang-commands", kind, commands, True)
        _check(definitions, "xinfang-commands", kind, every, False)

    # department systems: publish commands, nothing else.
    _check(definitions, "xinfang-department", "write", ["xinfang.commands"], True)
    _check(definitions, "xinfang-department", "write", ["xinfang.commands.rejected", *every], False)
    for kind in ("configure", "read"):
        _check(definitions, "xinfang-department", kind, [*commands, *every], False)


def test_the_reader_may_only_read_events_through_server_named_queues(definitions: dict):
    # RabbitMQ names a queue declared without a name amq.gen-…; nobody may declare an
    # exchange or a queue of that prefix, so write on it allows binding and nothing else.
    own = ["amq.gen-JzTY20BRgKO-HjmUJj0wLg"]
    _check(definitions, "xinfang-reader", "configure", own, True)
    _check(definitions, "xinfang-reader", "write", own, True)
    _check(definitions, "xinfang-reader", "read", ["xinfang.events", *own], True)
    everything = [
        "xinfang.intake",
        "xinfang.intake.rejected",
        "xinfang.events",
        "xinfang.commands",
        "xinfang.commands.rejected",
        *DRAMATIQ_QUEUES,
        "",
        "amq.topic",
        "reader.events",
    ]
    _check(definitions, "xinfang-reader", "configure", everything, False)
    _check(definitions, "xinfang-reader", "write", everything, False)
    _check(
        definitions,
        "xinfang-reader",
        "read",
        [name for name in everything if name != "xinfang.events"],
        False,
    )


def test_the_broker_loads_the_definitions():
    conf = (DOCKER / "rabbitmq" / "rabbitmq.conf").read_text(encoding="utf-8")
    settings = dict(
        (key.strip(), value.strip())
        for key, _, value in (line.partition("=") for line in conf.splitlines())
        if key.strip() and not key.strip().startswith("#")
    )
    assert settings["load_definitions"] == "/etc/rabbitmq/definitions.json"


# --- Prometheus ------------------------------------------------------------------------------


def _jobs() -> dict[str, dict[str, Any]]:
    config = _yaml("prometheus/prometheus.yml")
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    names = [job["job_name"] for job in config["scrape_configs"]]
    assert len(names) == len(set(names)), f"a job is listed twice: {names}"
    return {
        job["job_name"]: job | {"interval": config["global"]["scrape_interval"]}
        for job in config["scrape_configs"]
    }


def _targets(job: dict[str, Any]) -> list[tuple[str, int]]:
    found = [
        (name, int(sd["port"])) for sd in job.get("dns_sd_configs", []) for name in sd["names"]
    ]
    for static in job.get("static_configs", []):
        found += [(t.rsplit(":", 1)[0], int(t.rsplit(":", 1)[1])) for t in static["targets"]]
    return found


@pytest.mark.parametrize("role", [*ROLES, "scheduler", "metrics"])
def test_prometheus_scrapes_every_role_every_15_seconds(role: str):
    job = _jobs()[f"xinfang-{role}"]
    assert job.get("scrape_interval", job["interval"]) == "15s"
    targets = _targets(job)
    assert targets and all(target == (role, 9100) for target in targets)


def test_prometheus_scrapes_rabbitmqs_own_plugin_per_queue():
    job = _jobs()["rabbitmq"]
    assert _targets(job) == [("rabbitmq", 15692)]
    # /metrics aggregates the queues unless the broker says otherwise; per-object never does.
    assert job["metrics_path"] == "/metrics/per-object"


def test_alert_rules_use_only_metrics_that_exist():
    rules = [rule for group in _yaml("prometheus/alerts.yml")["groups"] for rule in group["rules"]]
    assert rules
    known = known_names()
    used: set[str] = set()
    for rule in rules:
        assert rule["alert"] and rule["expr"] and rule["labels"]["severity"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        names = used_names(rule["expr"])
        assert names, f"{rule['alert']} reads no known metric"
        used |= names
    assert used <= known, f"unknown metrics in alerts.yml: {sorted(used - known)}"
    for needed in (
        "xinfang_kpi_ratio",  # a KPI under its target
        "rabbitmq_queue_messages",  # dead letters growing
        "dramatiq_message_rejects_total",
        "xinfang_outbox_oldest_age_seconds",  # the outbox stuck
        "xinfang_cases_received_total",  # no intake for a while
        "xinfang_role_up",  # a role down
        "up",
        "xinfang_escalation_steps_total",  # the high escalation levels rising
    ):
        assert needed in used


def test_grafana_is_provisioned_with_prometheus_and_the_dashboards_folder(compose: dict):
    datasources = _yaml("grafana/provisioning/datasources/prometheus.yml")["datasources"]
    assert [d["url"] for d in datasources if d["type"] == "prometheus"] == [
        "http://prometheus:9090"
    ]
    providers = _yaml("grafana/provisioning/dashboards/xinfang.yml")["providers"]
    assert [p["options"]["path"] for p in providers] == ["/var/lib/grafana/dashboards"]
    assert (
        "../monitoring/grafana:/var/lib/grafana/dashboards:ro"
        in compose["services"]["grafana"]["volumes"]
    )


@pytest.mark.parametrize("role", [*ROLES, "scheduler"])
def test_each_role_that_uses_the_broker_logs_in_as_its_own_user(
    compose: dict, definitions: dict, role: str
):
    url = compose["services"][role]["environment"].get("XINFANG_BROKER_URL")
    if url is None:
        assert role == "metrics"  # reads the database only
        return
    user = re.match(r"amqp://([^:]+):", url).group(1)
    assert user == f"xinfang-{role}"
    assert user in {u["name"] for u in definitions["users"]}
