"""xinfang under faults at size: the fault suite of tests/faults at 10,000 cases or more, run
side by side with a calm run of the same cases, on this machine's RabbitMQ and PostgreSQL.

    python -m bench.faults [--cases 10000] [--roles run | --roles intake,worker,relay,scheduler]

Each run gets its own vhost and database (made with rabbitmqctl and dropped afterwards). The
faulted run SIGKILLs the role processes repeatedly (a supervisor restarts them), closes every
broker connection twice, terminates every database session once, restarts RabbitMQ's
application once and PostgreSQL once. The RabbitMQ and PostgreSQL restarts hit the whole
servers: run it on a machine where nothing else uses them.

It prints, for both runs: cases registered and routed exactly once, events stored, reaching a
subscriber bound before start-up, missing and redelivered, the intake queue's depth and
consumers at the end, and the throughput; then the faulted/calm throughput ratio.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the fault harness and the sample generator

from faults import fleet  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from support import valid_cases, wait_for  # noqa: E402

AMQP_HOST = "127.0.0.1:5672"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def fresh_stack(logs: Path) -> Iterator[fleet.Stack]:
    name = f"xinfang_bench_{uuid.uuid4().hex[:10]}"
    fleet.rabbitmqctl("add_vhost", name)
    fleet.rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield fleet.Stack(
            f"amqp://guest:guest@{AMQP_HOST}/{name}",
            name,
            f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}",
            logs,
        )
    finally:
        fleet.rabbitmqctl("delete_vhost", name)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def restart_postgres() -> None:
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[0]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        capture_output=True,
        timeout=120,
    )


def schedule(
    stack: fleet.Stack, supervisor: fleet.Supervisor, roles: list[str]
) -> list[tuple[float, str, Callable[[], object]]]:
    engine = stack.engine()
    kill: list[tuple[float, str, Callable[[], object]]] = []
    for index, share in enumerate((0.05, 0.15, 0.3, 0.45, 0.6)):
        victim = roles[index % min(2, len(roles))]  # intake and worker, or `run`
        kill.append((share, f"SIGKILL {victim}", lambda v=victim: supervisor.kill(v)))
    return sorted(
        [
            *kill,
            (0.20, "close_all_connections", lambda: fleet.close_all_connections(stack)),
            (
                0.35,
                "pg_terminate_backend",
                lambda: fleet.terminate_database_sessions(stack, engine),
            ),
            (0.50, "close_all_connections", lambda: fleet.close_all_connections(stack)),
            (0.70, "RabbitMQ stop_app/start_app", fleet.restart_broker_app),
            (0.85, "PostgreSQL restart", restart_postgres),
        ],
        key=lambda step: step[0],
    )


def one_run(cases: int, roles: list[str], faulted: bool, seed: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as logs, fresh_stack(Path(logs)) as stack:
        stack.upgrade()
        fleet.declare_subscriber(stack.amqp_url)
        batch = valid_cases(cases, seed=seed)
        engine = stack.engine()
        started = time.perf_counter()
        with fleet.fleet(stack, roles) as supervisor:
            producer = fleet.Producer(stack.amqp_url, fleet.messages_for(batch))
            producer.start()
            for share, what, fault in schedule(stack, supervisor, roles) if faulted else []:
                fleet.wait_progress(engine, int(cases * share), what, timeout=3600)
                print(f"  {time.perf_counter() - started:6.1f}s  {what}", flush=True)
                fault()
            producer.join()
            wait_for(lambda: fleet.settled(engine, stack.amqp_url, cases), "settled", 3600)
            elapsed = time.perf_counter() - started
            result = asdict(fleet.outcome(engine, stack.amqp_url))
        restarts = sum(process.starts - 1 for process in supervisor.processes)
        engine.dispose()
    return {
        **result,
        "restarts": restarts,
        "seconds": round(elapsed, 1),
        "cases/s": round(cases / elapsed, 1),
        "producer resends": producer.resends,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument(
        "--roles", default="run", help="`run` (one process) or a comma-separated list of roles"
    )
    parser.add_argument("--seed", type=int, default=41)
    args = parser.parse_args()
    roles = [role.strip() for role in args.roles.split(",") if role.strip()]
    print(f"{args.cases} cases, roles {roles}, {sys.version.split()[0]}")
    print("calm run")
    calm = one_run(args.cases, roles, faulted=False, seed=args.seed)
    print("faulted run")
    faulted = one_run(args.cases, roles, faulted=True, seed=args.seed)
    width = max(map(len, calm))
    print(f"\n{'':{width}}  {'calm':>10}  {'faulted':>10}")
    for key in calm:
        print(f"{key:{width}}  {calm[key]!s:>10}  {faulted[key]!s:>10}")
    ratio = float(faulted["cases/s"]) / float(calm["cases/s"])  # type: ignore[arg-type]
    print(f"\nthroughput faulted/calm = {ratio:.2f}x")
    ok = all(
        run["cases"] == args.cases
        and run["registered_once"]
        and run["routed_once"]
        and run["events_missing"] == 0
        and run["intake_consumers"]
        for run in (calm, faulted)
    )
    print("every case registered and routed once, every event delivered:", "yes" if ok else "NO")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
