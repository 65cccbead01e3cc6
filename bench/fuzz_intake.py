"""Fuzzing intake at scale: the strategies of tests/contract/test_fuzz_intake.py, through the
real consumer, on RabbitMQ + PostgreSQL (--real) or on the in-process twin.

    python -m bench.fuzz_intake [--messages 100000] [--real] [--seed 1] [--chunk 1000]
                                [--show 5] [--logs]

Messages are drawn from `contract.strategies.samples()` by hypothesis itself (a seeded @given
run of generation only, one chunk at a time), published as a foreign pika client would, with a
sentinel case behind each chunk (one consumer takes them in order), then judged: a message
`parse` finds valid must be exactly one case, an invalid one exactly one dead-lettered row of
rejected_messages with parse's code and its bytes unchanged in xinfang.intake.rejected. With
--real the run has a RabbitMQ vhost and a PostgreSQL database of its own (rabbitmqctl and
CREATE DATABASE, as tests/conftest.py does), removed at the end. Prints the outcomes; exits 1
if any message was lost or judged wrongly, or the intake role died.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import logging
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as seeded
from hypothesis import strategies as st
from sqlalchemy import create_engine, func, select, text

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))  # the shared strategies and the ports harness live there

from contract.strategies import (  # noqa: E402
    SENTINEL_SOURCE,
    Sample,
    Wire,
    code_of,
    samples,
    sentinel,
)
from ports import Outgoing, Ports  # noqa: E402

from dispatcher.adapters.db.tables import case_links, cases, rejected_messages  # noqa: E402
from dispatcher.contract.intake import Valid, parse  # noqa: E402

PG_ADMIN_URL = os.environ.get(
    "XINFANG_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
AMQP_HOST = os.environ.get("XINFANG_TEST_AMQP_HOST", "127.0.0.1:5672")
INTAKE, REJECTED = "xinfang.intake", "xinfang.intake.rejected"
ROLES = {"intake", "worker"}
PER_EXAMPLE = 10  # messages hypothesis draws in one example
JUDGE_TIMEOUT = 120.0  # seconds a chunk may take to be judged before the rest count as lost


# ---- drawing -------------------------------------------------------------------------------


def draw_chunk(size: int, seed: int) -> list[Sample]:
    """About `size` samples from one seeded hypothesis run (generation only: no shrinking,
    no example database)."""
    drawn: list[Sample] = []

    @settings(
        max_examples=max(1, size // PER_EXAMPLE),
        phases=[Phase.generate],
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @seeded(seed)
    @given(
        st.lists(
            samples(),
            min_size=PER_EXAMPLE,
            max_size=PER_EXAMPLE,
        )
    )
    def collect(batch: list[Sample]) -> None:
        drawn.extend(batch)

    collect()
    return drawn


# ---- the services --------------------------------------------------------------------------


@contextmanager
def real_ports() -> Iterator[Ports]:
    """A vhost and a database of this run's own, removed afterwards."""
    suffix = uuid.uuid4().hex[:12]
    vhost, database = f"xinfang-fuzz-{suffix}", f"xinfang_fuzz_{suffix}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    _rabbitmqctl("add_vhost", vhost)
    ports = None
    try:
        _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        ports = Ports(
            "real",
            f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{database}",
            f"amqp://guest:guest@{AMQP_HOST}/{vhost}",
            vhost,
        )
        yield ports
    finally:
        if ports is not None:
            ports.close()
        _rabbitmqctl("delete_vhost", vhost)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def twin_ports() -> Iterator[Ports]:
    with tempfile.TemporaryDirectory() as folder:
        ports = Ports("twin", f"sqlite:///{Path(folder) / 'xinfang.db'}", None)
        try:
            yield ports
        finally:
            ports.close()


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


# ---- judging -------------------------------------------------------------------------------


@dataclass
class Tally:
    published: int = 0
    valid: int = 0
    registered: int = 0  # valid, a case of a new (source, external_id)
    duplicates: int = 0  # valid, a key already registered (a byte flip can make one)
    invalid: int = 0
    rejected: Counter[str] = field(default_factory=Counter)  # by code, as parse gave it
    wrong: Counter[str] = field(default_factory=Counter)  # how a message was judged wrongly
    lost: int = 0
    crashes: int = 0  # checks that found the intake role dead or not ready
    contract: int = 0  # parse disagreeing with what the contract says
    partial: int = 0  # cases beyond the valid messages' keys
    dead_letters_changed: int = 0  # invalid messages not in the rejected queue byte for byte
    examples: list[str] = field(default_factory=list)

    def note(self, what: str, wire: Wire, show: int) -> None:
        if len(self.examples) < show:
            self.examples.append(f"{what}: {wire.describe()[:1500]}")


@dataclass
class Fuzzer:
    ports: Ports
    running: Any
    show: int
    tally: Tally = field(default_factory=Tally)
    serials: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    keys: set[tuple[str, str]] = field(default_factory=set)
    # Dead-lettered rows of rejected_messages already accounted for, by (digest, code): the
    # same bytes (an empty body) come again in later chunks.
    seen: Counter[tuple[str, str]] = field(default_factory=Counter)
    seen_by_digest: Counter[str] = field(default_factory=Counter)

    def run_chunk(self, chunk: list[Sample]) -> None:
        wires = [sample.wire(next(self.serials)) for sample in chunk]
        verdicts = [parse(wire.body, wire.content_type) for wire in wires]
        tally = self.tally
        for wire, verdict in zip(wires, verdicts, strict=True):
            if wire.expect is not None and code_of(verdict) != wire.expect:
                tally.contract += 1
                tally.note(
                    f"parse gives {code_of(verdict)}, the contract {wire.expect}", wire, self.show
                )
        cases_before = self.ports.count(cases)
        sentinel = self._publish(wires)
        tally.published += len(wires)
        valid = [
            (w, (v.case["source"], v.case["external_id"]))
            for w, v in zip(wires, verdicts, strict=True)
            if isinstance(v, Valid)
        ]
        invalid = [
            (w, v.code) for w, v in zip(wires, verdicts, strict=True) if not isinstance(v, Valid)
        ]
        new_keys = {key for _, key in valid} - self.keys
        self._wait(valid, invalid, sentinel)
        self._judge(valid, invalid, new_keys)
        grown = self.ports.count(cases) - cases_before
        if grown > len(new_keys) + 1:
            tally.partial += grown - len(new_keys) - 1
        self.keys |= new_keys | {sentinel}
        self._check_dead_letters(invalid)
        if self.running.status()["intake"] != {"alive": True, "ready": True}:
            tally.crashes += 1

    def _publish(self, wires: list[Wire]) -> tuple[str, str]:
        """Publish in order, then the sentinel behind them."""
        external_id = f"S~{next(self.serials)}"
        self.ports.publish_each([*wires, Outgoing(sentinel(external_id), "case.online")])
        return SENTINEL_SOURCE, external_id

    def _wait(self, valid: list, invalid: list, sentinel: tuple[str, str]) -> None:
        deadline = time.monotonic() + JUDGE_TIMEOUT
        while time.monotonic() < deadline:
            if self._registered([sentinel]) and self._all_judged(valid, invalid):
                return
            time.sleep(0.05)

    def _all_judged(self, valid: list, invalid: list) -> bool:
        """Every message is a case or a dead letter (right or wrong: _judge says which)."""
        dead = self._dead([w for w, _ in valid + invalid])
        owed = Counter(_digest(w) for w, _ in invalid)
        if any(dead[d] - self.seen_by_digest[d] < n for d, n in owed.items()):
            return False
        registered = self._registered([key for _, key in valid])
        return all(registered[key] or dead[_digest(w)] for w, key in valid)

    def _judge(self, valid: list, invalid: list, new_keys: set) -> None:
        tally = self.tally
        registered = self._registered([key for _, key in valid])
        dead_valid = self._dead_codes([w for w, _ in valid])
        for wire, key in valid:
            tally.valid += 1
            if registered[key] == 1:
                tally.registered += key in new_keys
                tally.duplicates += key not in new_keys
            elif dead_valid.get(_digest(wire)):
                code = dead_valid[_digest(wire)]
                tally.wrong[f"valid -> dead-lettered as {code}"] += 1
                tally.note(f"valid, dead-lettered as {code}", wire, self.show)
            elif registered[key] > 1:
                tally.wrong["valid -> more than one case"] += 1
            else:
                tally.lost += 1
                tally.note("valid, lost", wire, self.show)
        codes = self._dead_code_counts([w for w, _ in invalid])
        owed: dict[str, Counter[str]] = {}
        example: dict[tuple[str, str], Wire] = {}
        for wire, code in invalid:
            owed.setdefault(_digest(wire), Counter())[code] += 1
            example.setdefault((_digest(wire), code), wire)
        for digest, wanted in owed.items():
            got = Counter({c: n - self.seen[(d, c)] for (d, c), n in codes.items() if d == digest})
            tally.invalid += sum(wanted.values())
            for code, count in wanted.items():
                tally.rejected[code] += min(count, got[code])
            deficit, surplus = +(wanted - got), +(got - wanted)
            wrongly = min(sum(deficit.values()), sum(surplus.values()))
            for code, count in deficit.items():
                wire = example[(digest, code)]
                if wrongly:  # the same bytes went out with another code
                    others = ",".join(sorted(surplus))
                    tally.wrong[f"{code} -> {others}"] += count
                    tally.note(f"invalid ({code}), dead-lettered as {others}", wire, self.show)
                else:
                    tally.lost += count
                    tally.note(f"invalid ({code}), never dead-lettered", wire, self.show)
        for (digest, code), count in codes.items():
            self.seen_by_digest[digest] += count - self.seen[(digest, code)]
            self.seen[(digest, code)] = count

    def _check_dead_letters(self, invalid: list) -> None:
        taken = Counter(m.body for m in self.ports.take(REJECTED))
        wanted = Counter(w.body for w, _ in invalid)
        missing = wanted - taken
        self.tally.dead_letters_changed += sum(missing.values())
        for wire, _ in invalid:
            if missing[wire.body]:
                self.tally.note("not in the rejected queue unchanged", wire, self.show)
                missing[wire.body] = 0

    # -- the database --------------------------------------------------------------------
    def _registered(self, keys: list[tuple[str, str]]) -> Counter[tuple[str, str]]:
        wanted, found = set(keys), Counter()
        ids = sorted({external_id for _, external_id in wanted})
        with self.ports.engine.connect() as conn:
            for start in range(0, len(ids), 500):
                query = select(cases.c.source, cases.c.external_id).where(
                    cases.c.external_id.in_(ids[start : start + 500])
                )
                found.update(key for key in map(tuple, conn.execute(query)) if key in wanted)
        return found

    def _dead_code_counts(self, wires: list[Wire]) -> Counter[tuple[str, str]]:
        digests = sorted({_digest(w) for w in wires})
        out: Counter[tuple[str, str]] = Counter()
        with self.ports.engine.connect() as conn:
            for start in range(0, len(digests), 500):
                query = (
                    select(rejected_messages.c.digest, rejected_messages.c.code, func.count())
                    .where(
                        rejected_messages.c.digest.in_(digests[start : start + 500]),
                        rejected_messages.c.dead_lettered_at.isnot(None),
                    )
                    .group_by(rejected_messages.c.digest, rejected_messages.c.code)
                )
                out.update({(d, c): int(n) for d, c, n in conn.execute(query)})
        return out

    def _dead(self, wires: list[Wire]) -> Counter[str]:
        out: Counter[str] = Counter()
        for (digest, _), count in self._dead_code_counts(wires).items():
            out[digest] += count
        return out

    def _dead_codes(self, wires: list[Wire]) -> dict[str, str]:
        return {digest: code for (digest, code) in self._dead_code_counts(wires)}


def _digest(wire: Wire) -> str:
    return hashlib.sha256(wire.body).hexdigest()


# ---- the report ----------------------------------------------------------------------------


def report(
    tally: Tally, seconds: float, drawing: float, routed: int, links: int, consumers: int | None
) -> bool:
    judging = max(seconds - drawing, 1e-9)
    print(
        f"{tally.published:,} messages in {seconds:.1f} s: drawing them {drawing:.1f} s, "
        f"publishing and judging {judging:.1f} s ({tally.published / judging:,.0f} messages/s)"
    )
    print(
        f"  valid   -> case         {tally.registered:8,}  (+{tally.duplicates:,} valid "
        f"re-sends of a known key: no second case)   of {tally.valid:,} valid"
    )
    print(
        f"  invalid -> rejected     {sum(tally.rejected.values()):8,}  of {tally.invalid:,} "
        "invalid, by code:"
    )
    for code, count in sorted(tally.rejected.items(), key=lambda item: (-item[1], item[0])):
        print(f"      {code:24s} {count:8,}")
    print(f"  lost                    {tally.lost:8,}  (must be 0)")
    print(
        f"  crashes                 {tally.crashes:8,}  (must be 0; intake role dead or "
        "not ready after a chunk)"
    )
    wrong = sum(tally.wrong.values())
    print(f"  judged wrongly          {wrong:8,}  (must be 0) {dict(tally.wrong) or ''}")
    print(f"  partial writes          {tally.partial:8,}  (must be 0: cases beyond the valid keys)")
    print(f"  dead letters changed    {tally.dead_letters_changed:8,}  (must be 0)")
    print(
        f"  parse vs contract       {tally.contract:8,}  (must be 0: codes the contract predicts)"
    )
    print(
        f"  routed by the worker    {routed:8,}  cases; links {links} (linking is off); "
        f"intake consumers {consumers if consumers is not None else 'n/a (twin)'}"
    )
    for example in tally.examples:
        print(f"  - {example}")
    return not (
        tally.lost
        or tally.crashes
        or wrong
        or tally.partial
        or tally.dead_letters_changed
        or tally.contract
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument(
        "--real",
        action="store_true",
        help="RabbitMQ + PostgreSQL (a vhost and database of its own)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--chunk", type=int, default=1000, help="messages judged together")
    parser.add_argument("--show", type=int, default=5, help="failures to print")
    parser.add_argument("--logs", action="store_true", help="xinfang's log lines too")
    args = parser.parse_args(argv)
    # Received times reach 2199: one warning per year without holiday data is only noise, and
    # what goes wrong is counted and shown below; --logs shows xinfang's own account of it.
    logging.getLogger("dispatcher.adapters.files.calendar").setLevel(logging.ERROR)
    if not args.logs:
        logging.getLogger("dispatcher").setLevel(logging.CRITICAL)
    with (
        real_ports() if args.real else twin_ports() as ports,
        ports.running(roles=ROLES, repeat_window_days=0, collective_window_days=0) as (
            _app,
            running,
        ),
    ):
        fuzzer = Fuzzer(ports, running, args.show)
        started, drawing = time.perf_counter(), 0.0
        for number in itertools.count():
            if fuzzer.tally.published >= args.messages or fuzzer.tally.crashes:
                break
            began = time.perf_counter()
            chunk = draw_chunk(
                min(args.chunk, args.messages - fuzzer.tally.published),
                args.seed * 1_000_003 + number,
            )
            drawing += time.perf_counter() - began
            fuzzer.run_chunk(chunk)
            print(
                f"  … {fuzzer.tally.published:,} published, {fuzzer.tally.lost} lost, "
                f"{sum(fuzzer.tally.wrong.values())} wrong",
                file=sys.stderr,
                flush=True,
            )
        seconds = time.perf_counter() - started
        deadline = time.monotonic() + 300
        while ports.count(cases, cases.c.stage == "registered") and time.monotonic() < deadline:
            time.sleep(0.2)
        routed = ports.count(cases, cases.c.stage != "registered")
        ok = report(
            fuzzer.tally,
            seconds,
            drawing,
            routed,
            ports.count(case_links),
            ports.consumers("xinfang.intake"),
        )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
