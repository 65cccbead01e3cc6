"""docker/compose.yaml and docker/Dockerfile: health checks, restarts, limits, one image.

Static checks (no Docker): every xinfang role is health-checked by `xinfang health` on its
own probe port, restarts unless stopped, has resource limits that `docker compose` honours,
waits for a healthy broker and database and for the one-shot `migrate`; the image is built
once and shared by every role; the Dockerfile is multi-stage on one pinned slim base, runs as a
non-root user and keeps no compiler, sources or caches in its final stage.

`docker compose config`: where Docker Compose v2 is installed (`docker compose`, or a
standalone `docker-compose` v2 on PATH) the file must also pass Compose's own validation, and
what Compose makes of it must agree with the static reading. Where it is not (the Docker
client without its compose plugin, as on this project's machines today), the static checks
above are all there is: the test does not fail for a missing tool, and it is not skipped, since
its static half always runs.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from dispatcher.bootstrap.roles import ROLES
from dispatcher.cli import COMMANDS

DOCKER = Path(__file__).resolve().parents[2] / "docker"
COMPOSE_FILE = DOCKER / "compose.yaml"
ROLE_SERVICES = (*ROLES, "metrics")  # each runs `xinfang <service name>`
GATEWAY = "api"  # `xinfang api`: a long-running service of the image, though not a role
BACKING = ("rabbitmq", "postgres")
MONITORING = ("prometheus", "grafana")
LONG_RUNNING = (*BACKING, *ROLE_SERVICES, GATEWAY, *MONITORING)
HEALTH_DEFAULT_TIMEOUT = 5.0  # `xinfang health --timeout` (dispatcher/cli/health.py)
UNITS = {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


def _seconds(duration: str) -> float:
    """A Compose duration such as 10s, 1m30s or 500ms, in seconds."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, duration
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(float(number) * scale[unit] for number, unit in parts)


def _bytes(size: str | int) -> int:
    """A Compose memory size such as 256M or 1G (powers of 2, as Compose reads them)."""
    match = re.fullmatch(r"(\d+)([bkmg]?)b?", str(size).lower())
    assert match, size
    return int(match.group(1)) * UNITS[match.group(2)]


# --- the roles -------------------------------------------------------------------------------


def test_every_role_of_the_code_has_a_service_that_runs_it(services: dict):
    for role in ROLE_SERVICES:
        assert role in COMMANDS, f"{role} is no xinfang command"
        assert services[role]["command"] == [role]
        assert "entrypoint" not in services[role]  # the image's `xinfang` chooses by command
    xinfang = {name for name, s in services.items() if s.get("image") == "xinfang:dev"}
    assert xinfang == {*ROLE_SERVICES, GATEWAY, "migrate"}  # the gateway: tests below


@pytest.mark.parametrize("role", ROLE_SERVICES)
def test_each_role_is_probed_on_its_own_port(services: dict, role: str):
    service = services[role]
    check = service["healthcheck"]
    # No --url: `xinfang health` asks 127.0.0.1:$XINFANG_METRICS_PORT inside the role's own
    # container, the very port the role serves /readyz on, so the two cannot drift apart.
    assert check["test"] == ["CMD", "xinfang", "health"]
    port = service["environment"]["XINFANG_METRICS_PORT"]
    assert isinstance(port, str) and port.isdigit()  # YAML would otherwise pass a number
    assert port in service["expose"]
    assert _seconds(check["timeout"]) > HEALTH_DEFAULT_TIMEOUT  # the command gives up first
    assert _seconds(check["interval"]) >= _seconds(check["timeout"])
    assert check["retries"] >= 2
    assert _seconds(check["start_period"]) >= 10  # imports, connections, the first /readyz


@pytest.mark.parametrize("role", ROLE_SERVICES)
def test_each_role_restarts_and_waits_for_what_it_needs(services: dict, role: str):
    service = services[role]
    assert service["restart"] == "unless-stopped"
    assert service["depends_on"] == {
        "migrate": {"condition": "service_completed_successfully"},
        "rabbitmq": {"condition": "service_healthy"},
        "postgres": {"condition": "service_healthy"},
    }
    assert service.get("init") is True  # signals reach xinfang, zombies are reaped


@pytest.mark.parametrize("name", [*LONG_RUNNING, "migrate"])
def test_every_service_has_limits_that_compose_honours(services: dict, name: str):
    resources = services[name]["deploy"]["resources"]
    limits = resources["limits"]
    assert 0 < float(limits["cpus"]) <= 2  # the machine has 2 cores
    memory = _bytes(limits["memory"])
    assert 64 * 2**20 <= memory <= 2 * 2**30
    reservations = resources.get("reservations", {})
    # Compose maps a memory reservation to --memory-reservation; a CPU reservation is
    # swarm-only and would be silently ignored, so none is written.
    assert set(reservations) <= {"memory"}
    if "memory" in reservations:
        assert _bytes(reservations["memory"]) < memory


def test_the_workers_scale_and_keep_their_limits(services: dict):
    deploy = services["worker"]["deploy"]
    assert deploy["replicas"] == 2
    assert _bytes(deploy["resources"]["limits"]["memory"]) >= _bytes(
        services["intake"]["deploy"]["resources"]["limits"]["memory"]
    )


# --- the HTTP gateway ------------------------------------------------------------------------


def _gateway_port(service: dict) -> str:
    command = service["command"]
    options = dict(zip(command[1::2], command[2::2], strict=True))
    return str(options["--port"])


def test_the_gateway_serves_http_from_the_one_image(services: dict):
    api = services[GATEWAY]
    assert GATEWAY in COMMANDS
    assert api["image"] == "xinfang:dev" and "build" not in api and "entrypoint" not in api
    assert api.get("init") is True
    command = api["command"]
    assert command[0] == GATEWAY
    # 0.0.0.0: the default 127.0.0.1 would be unreachable from outside its own container.
    assert dict(zip(command[1::2], command[2::2], strict=True)) == {
        "--host": "0.0.0.0",
        "--port": "8000",
    }
    port = _gateway_port(api)
    assert api["ports"] == [f"127.0.0.1:{port}:{port}"]  # the host side on the loopback only
    assert api["expose"] == [port]  # no metrics port: it serves none
    assert api["restart"] == "unless-stopped"
    assert api["depends_on"] == {
        "migrate": {"condition": "service_completed_successfully"},
        "rabbitmq": {"condition": "service_healthy"},
        "postgres": {"condition": "service_healthy"},
    }
    env = api["environment"]
    # Its own broker user (docker/rabbitmq/definitions.json), the roles' database.
    assert env["XINFANG_BROKER_URL"] == "amqp://xinfang-api:xinfang-api-dev@rabbitmq:5672/xinfang"
    assert env["XINFANG_DATABASE_URL"] == services["intake"]["environment"]["XINFANG_DATABASE_URL"]
    assert "XINFANG_METRICS_PORT" not in env


def test_the_gateway_is_health_checked_over_its_own_http(services: dict):
    api = services[GATEWAY]
    check = api["healthcheck"]
    # `xinfang health` asks a metrics port the gateway does not serve; the image's Python asks
    # the gateway itself (the slim image has neither curl nor wget).
    kind, python, flag, code = check["test"]
    assert (kind, python, flag) == ("CMD", "python", "-c")
    compile(code, "<healthcheck>", "exec")  # a syntax error would only show as "unhealthy"
    (url,) = re.findall(r"urlopen\('([^']+)'", code)
    assert url == f"http://127.0.0.1:{_gateway_port(api)}/openapi.json"
    (given_up,) = re.findall(r"timeout=(\d+(?:\.\d+)?)", code)
    assert _seconds(check["timeout"]) > float(given_up)  # the check gives up by itself first
    assert _seconds(check["interval"]) >= _seconds(check["timeout"])
    assert check["retries"] >= 2
    assert _seconds(check["start_period"]) >= 10


# --- the one-shot migration, the image -------------------------------------------------------


def test_migrate_runs_once_and_builds_the_one_image(services: dict):
    migrate = services["migrate"]
    assert migrate["command"] == ["db", "upgrade"]
    assert "db" in COMMANDS
    assert migrate["restart"] == "no"  # a one-shot: service_completed_successfully waits for it
    assert "healthcheck" not in migrate
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    builds = {name: s["build"] for name, s in services.items() if "build" in s}
    assert builds == {"migrate": {"context": "..", "dockerfile": "docker/Dockerfile"}}
    assert (DOCKER.parent / builds["migrate"]["dockerfile"]).is_file()  # relative to the context


def test_every_other_image_is_pinned(services: dict):
    for name, service in services.items():
        image = service["image"]
        if image == "xinfang:dev":
            continue
        repository, _, tag = image.rpartition(":")
        assert repository and tag and tag != "latest", f"{name}: {image} is not pinned"


# --- the broker, the database, Prometheus, Grafana -------------------------------------------


@pytest.mark.parametrize("name", [*BACKING, *MONITORING])
def test_backing_and_monitoring_services_are_health_checked_and_restart(services: dict, name: str):
    service = services[name]
    assert service["restart"] == "unless-stopped"
    check = service["healthcheck"]
    assert check["test"][0] == "CMD" and len(check["test"]) > 1
    assert check["retries"] >= 3


def test_the_health_checks_ask_each_service_itself(services: dict):
    assert services["rabbitmq"]["healthcheck"]["test"][1:] == ["rabbitmq-diagnostics", "-q", "ping"]
    assert services["postgres"]["healthcheck"]["test"][1] == "pg_isready"
    prometheus = services["prometheus"]["healthcheck"]["test"]
    assert prometheus[1] == "wget" and prometheus[-1] == "http://127.0.0.1:9090/-/ready"
    grafana = services["grafana"]["healthcheck"]["test"]
    assert grafana[1] == "wget" and grafana[-1] == "http://127.0.0.1:3000/api/health"
    assert services["grafana"]["depends_on"] == {"prometheus": {"condition": "service_healthy"}}


def test_rabbitmq_enables_its_prometheus_plugin(services: dict):
    volumes = services["rabbitmq"]["volumes"]
    assert "./rabbitmq/enabled_plugins:/etc/rabbitmq/enabled_plugins:ro" in volumes
    text = (DOCKER / "rabbitmq" / "enabled_plugins").read_text(encoding="utf-8")
    # An Erlang term file: one list of atoms and a full stop.
    match = re.fullmatch(r"\s*\[([a-z_,\s]*)\]\.\s*", text)
    assert match, text
    plugins = {p.strip() for p in match.group(1).split(",")}
    assert plugins == {"rabbitmq_management", "rabbitmq_prometheus"}
    assert "15692" in services["rabbitmq"]["expose"]  # what prometheus.yml scrapes


def test_rabbitmqs_memory_alarm_is_under_its_limit(services: dict):
    conf = (DOCKER / "rabbitmq" / "rabbitmq.conf").read_text(encoding="utf-8")
    (watermark,) = re.findall(r"^vm_memory_high_watermark\.absolute\s*=\s*(\S+)$", conf, re.M)
    match = re.fullmatch(r"(\d+)([KMG])iB", watermark)
    assert match, f"{watermark}: give it in KiB, MiB or GiB"
    alarm = int(match.group(1)) * UNITS[match.group(2).lower()]
    limit = _bytes(services["rabbitmq"]["deploy"]["resources"]["limits"]["memory"])
    assert alarm <= limit * 0.6  # Erlang's garbage collection may briefly need twice as much


# --- the Dockerfile ------------------------------------------------------------------------


def _stages() -> list[tuple[str, str]]:
    """(FROM line, body) per stage of docker/Dockerfile."""
    text = (DOCKER / "Dockerfile").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    stages: list[tuple[str, list[str]]] = []
    for line in lines:
        if line.startswith("FROM "):
            stages.append((line, []))
        elif stages:
            stages[-1][1].append(line)
    return [(head, "\n".join(body)) for head, body in stages]


def test_the_image_is_multi_stage_on_one_pinned_slim_base():
    stages = _stages()
    assert len(stages) >= 2
    bases = {head.split()[1] for head, _ in stages}
    # The virtualenv made in the build stage links to the base's interpreter: one base.
    assert len(bases) == 1, bases
    (base,) = bases
    assert re.fullmatch(r"python:3\.11\.\d+-slim-[a-z]+", base), f"{base}: pin patch and Debian"


def test_the_final_stage_runs_xinfang_as_a_non_root_user_without_build_tools():
    build_head, build = _stages()[0]
    final_head, final = _stages()[-1]
    assert "AS build" in build_head and "AS runtime" in final_head
    assert re.search(r"^RUN pip install --no-deps \.", build, re.M)
    assert "pip check" in build
    assert re.findall(r"^COPY\b.*$", final, re.M) == ["COPY --from=build /opt/venv /opt/venv"]
    for tool in ("apt-get", "apt ", "gcc", "g++", "build-essential", "make ", "pip install"):
        assert tool not in final, f"the final stage has {tool.strip()}"
    users = re.findall(r"^USER\s+(\S+)", final, re.M)
    assert users, "no USER in the final stage"
    user, _, group = users[-1].partition(":")
    assert user not in ("root", "0") and group not in ("root", "0")
    assert re.search(rf"useradd\b.*--uid {user}\b", final)
    for variable in ("PYTHONDONTWRITEBYTECODE=1", "PIP_NO_CACHE_DIR=1", "PYTHONUNBUFFERED=1"):
        assert variable in final
    assert "PIP_NO_CACHE_DIR=1" in build
    assert "--mount=type=cache" not in build  # nothing depends on BuildKit's cache mounts
    assert 'ENTRYPOINT ["xinfang"]' in final
    assert 'CMD ["run"]' in final
    assert "EXPOSE 9100" in final


def test_the_build_context_sends_what_pip_install_needs():
    ignore = (DOCKER / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    kept = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    root = DOCKER.parent
    packages = re.findall(
        r"include = \[([^\]]*)\]", (root / "pyproject.toml").read_text(encoding="utf-8")
    )[0]
    for package in re.findall(r'"(\w+)\*"', packages):
        assert package in kept, f"{package} is not sent to the build"
    assert {"pyproject.toml", "README.md"} <= kept
    patterns = [line.strip() for line in ignore if line.strip() and not line.startswith("#")]
    assert patterns[0] == "*"  # everything else stays out: no .venv, .git or databases


# --- Compose's own reading -------------------------------------------------------------------


def _compose_command() -> list[str] | None:
    """`docker compose` (the plugin), else a standalone `docker-compose` of version 2 or later;
    None when neither is installed."""
    docker = shutil.which("docker")
    if docker:
        found = subprocess.run(
            [docker, "compose", "version", "--short"], capture_output=True, text=True, timeout=60
        )
        if found.returncode == 0:
            return [docker, "compose"]
    standalone = shutil.which("docker-compose")
    if standalone:
        found = subprocess.run(
            [standalone, "version", "--short"], capture_output=True, text=True, timeout=60
        )
        if found.returncode == 0 and re.match(r"v?([2-9]|\d\d+)\.", found.stdout.strip()):
            return [standalone]
    return None


def test_compose_accepts_the_file_where_it_is_installed(services: dict):
    command = _compose_command()
    if command is None:
        return  # no Compose here: the static checks above are the whole check (see the top)
    quiet = subprocess.run(
        [*command, "-f", str(COMPOSE_FILE), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert quiet.returncode == 0, f"docker compose config refused compose.yaml:\n{quiet.stderr}"
    # The resolved model, parsed: a wrapper that lost the exit code cannot pass an error off.
    resolved = subprocess.run(
        [*command, "-f", str(COMPOSE_FILE), "config", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert resolved.returncode == 0, resolved.stderr
    model = json.loads(resolved.stdout)
    assert model["name"] == "xinfang"
    assert set(model["services"]) == set(services)
    for name in LONG_RUNNING:
        service = model["services"][name]
        assert service["restart"] == "unless-stopped"
        assert service["healthcheck"]["test"] == services[name]["healthcheck"]["test"]
        limits = service["deploy"]["resources"]["limits"]
        assert float(limits["cpus"]) > 0 and int(limits["memory"]) > 0
    for role in (*ROLE_SERVICES, GATEWAY):
        service = model["services"][role]
        assert "build" not in service and service["image"] == "xinfang:dev"
        assert {d: v["condition"] for d, v in service["depends_on"].items()} == {
            "migrate": "service_completed_successfully",
            "rabbitmq": "service_healthy",
            "postgres": "service_healthy",
        }
    build = model["services"]["migrate"]["build"]
    assert Path(build["context"]) == DOCKER.parent
    assert build["dockerfile"] == "docker/Dockerfile"
