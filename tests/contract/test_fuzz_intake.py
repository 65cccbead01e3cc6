"""Fuzzing intake through the real consumer, on the twin and on RabbitMQ + PostgreSQL.

Hypothesis draws batches of 1-20 messages (tests/contract/strategies.py): valid contract-v1
messages and mutations of them, with odd content types, content encodings and headers. Each
batch is published as a foreign producer would, to intake and worker roles that keep running
across examples, then a sentinel case behind it (one consumer takes messages in order, so when
the sentinel is registered the batch has been judged). For every message:

- what `parse(body, content_type)` says agrees with what the contract says (strategies.py
  knows the expected code of most mutations from the documented order of the checks);
- a message `parse` finds valid is exactly one case (by source and external_id);
- an invalid one is exactly one row of rejected_messages with parse's code, dead-lettered
  (dead_lettered_at set), and is in xinfang.intake.rejected byte for byte, with that code,
  a reason, its routing key and its own headers;
- nothing is written for an invalid message but its rejection: no case, no registered event;
- after every batch the intake role is alive and ready; at the end it is still the one
  consumer of the queue, the queue is empty and the worker has routed every case.

Repeat and collective linking are off (windows of 0 days), so that every valid message with a
new (source, external_id) opens a case of its own.

What fuzzing found is pinned at the end of this file, each fixed and kept as a regression test:
a number beyond a double (refused by parse), one number given as ID number and as phone (one
party key, recorded once), content encodings whose decoding does not round-trip and codecs of
bytes on an empty body (consumers take the bytes as sent). The strategies draw all of them.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ports import Outgoing, Ports
from sqlalchemy import func, select
from support import wait_for

from contract.malformed import case as valid_case
from contract.malformed import encode
from contract.strategies import (
    BYTES_CODECS,
    LOSSY_ENCODINGS,
    REASON_HEADERS,
    SENTINEL_SOURCE,
    Sample,
    Wire,
    batches,
    code_of,
    samples,
    sentinel,
    stamped,
    valid_messages,
)
from dispatcher.adapters.db.tables import case_links, cases, events, rejected_messages
from dispatcher.bootstrap.roles import RunningRoles
from dispatcher.contract.intake import Valid, parse
from dispatcher.domain.clock import parse_timestamp

INTAKE, REJECTED = "xinfang.intake", "xinfang.intake.rejected"
NO_LINKING = {"repeat_window_days": 0, "collective_window_days": 0}

# 80 batches (some 400 messages, the same every run): about 15 s on RabbitMQ + PostgreSQL and
# 10 s on the twin on a 2-core machine, with headroom for a loaded one (100 batches took 19 s
# alone and 25 s beside other test runs). bench/fuzz_intake.py runs the strategies at scale.
THROUGH_THE_CONSUMER = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
PARSE_ONLY = settings(THROUGH_THE_CONSUMER, max_examples=400)


# ---- the contract alone: cheap, many examples ----------------------------------------------


@PARSE_ONLY
@given(valid_messages(), st.booleans())
def test_every_drawn_valid_message_is_valid(message: dict[str, Any], ascii: bool) -> None:
    body = json.dumps(stamped(message, 1), ensure_ascii=ascii).encode("utf-8")
    assert isinstance(parse(body), Valid), parse(body)


@PARSE_ONLY
@given(samples())
def test_parse_gives_the_code_the_contract_gives(sample: Sample) -> None:
    wire = sample.wire(1)
    if wire.expect is not None:
        got = parse(wire.body, wire.content_type)
        assert code_of(got) == wire.expect, f"{got} for {wire.describe()}"


# ---- through the consumer ------------------------------------------------------------------


def test_fuzzed_messages_through_the_consumer(ports: Ports) -> None:
    with fuzzing(ports) as judge:

        @THROUGH_THE_CONSUMER
        @given(batches())
        def one_batch(batch: list[Sample]) -> None:
            judge.check(batch)

        one_batch()


@contextmanager
def fuzzing(ports: Ports) -> Iterator[Judge]:
    """xinfang's intake and worker roles running for a whole hypothesis run; afterwards the
    checks of the run as a whole."""
    with ports.running(roles={"intake", "worker"}, **NO_LINKING) as (_app, running):
        judge = Judge(ports, running)
        yield judge
        wait_for(
            lambda: ports.count(cases, cases.c.stage == "registered") == 0,
            "the worker to route every case",
            timeout=60,
        )
        assert running.status()["intake"] == {"alive": True, "ready": True}
        assert ports.consumers("xinfang.intake") in (None, 1)
        assert ports.depth("xinfang.intake") == 0
        assert ports.count(case_links) == 0


@dataclass
class Snapshot:
    cases: int
    registered: int
    rejected_events: int
    rows: Counter[tuple[str, str]]  # (digest, code) of rejected_messages, dead-lettered or not


@dataclass
class Judge:
    """Publishes one batch, waits until each message is judged, checks what became of it."""

    ports: Ports
    running: RunningRoles
    serials: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    keys: set[tuple[str, str]] = field(default_factory=set)  # (source, external_id) registered

    def check(self, batch: list[Sample]) -> None:
        wires = [sample.wire(next(self.serials)) for sample in batch]
        verdicts = [parse(wire.body, wire.content_type) for wire in wires]
        for wire, verdict in zip(wires, verdicts, strict=True):
            assert wire.expect is None or code_of(verdict) == wire.expect, (
                f"parse gives {verdict}, the contract {wire.expect}: {wire.describe()}"
            )
        valid = [(w, v.case) for w, v in zip(wires, verdicts, strict=True) if isinstance(v, Valid)]
        invalid = [
            (w, v.code) for w, v in zip(wires, verdicts, strict=True) if not isinstance(v, Valid)
        ]
        before = self._snapshot(invalid)
        sentinel = self._publish(wires)
        new_keys = {_key(case) for _, case in valid} - self.keys
        wait_for(
            lambda: self._judged(valid, invalid, before, sentinel),
            f"{len(wires)} messages judged",
            timeout=60,
        )
        self._check_cases(valid, invalid, before, new_keys)
        self._check_stored(valid, new_keys)
        self._check_rejections(invalid, before)
        self._check_dead_letters(invalid)
        assert self.running.status()["intake"] == {"alive": True, "ready": True}, (
            f"intake after {[w.describe() for w in wires]}"
        )
        self.keys |= new_keys | {sentinel}

    # -- publishing ----------------------------------------------------------------------
    def _publish(self, wires: list[Wire]) -> tuple[str, str]:
        """Publish in order, then the sentinel behind them."""
        external_id = f"S~{next(self.serials)}"
        self.ports.publish_each([*wires, Outgoing(sentinel(external_id), "case.online")])
        return SENTINEL_SOURCE, external_id

    # -- waiting -------------------------------------------------------------------------
    def _judged(
        self,
        valid: list[tuple[Wire, dict]],
        invalid: list[tuple[Wire, str]],
        before: Snapshot,
        sentinel: tuple[str, str],
    ) -> bool:
        """The sentinel is registered and every message is a case or a dead letter (right or
        wrong: the checks after say which)."""
        registered = self._registered([_key(case) for _, case in valid] + [sentinel])
        if not registered[sentinel]:
            return False
        dead = self._rows([w for w, _ in valid] + [w for w, _ in invalid], dead_lettered=True)
        new: Counter[str] = Counter()
        for (digest, code), count in dead.items():
            new[digest] += count - before.rows[(digest, code)]
        owed = Counter(_digest(w) for w, _ in invalid)
        if any(new[digest] < count for digest, count in owed.items()):
            return False
        return all(registered[_key(case)] or new[_digest(w)] > 0 for w, case in valid)

    # -- checks --------------------------------------------------------------------------
    def _check_cases(
        self,
        valid: list[tuple[Wire, dict]],
        invalid: list[tuple[Wire, str]],
        before: Snapshot,
        new_keys: set[tuple[str, str]],
    ) -> None:
        registered = self._registered([_key(case) for _, case in valid])
        for wire, case in valid:
            assert registered[_key(case)] == 1, (
                f"{registered[_key(case)]} cases for valid {_key(case)}: {wire.describe()}"
            )
        after = self._snapshot(invalid)
        assert after.cases - before.cases == len(new_keys) + 1, (
            f"{after.cases - before.cases} new cases for {len(new_keys)} new keys and the "
            f"sentinel; the invalid messages: {[w.describe() for w, _ in invalid]}"
        )
        assert after.registered - before.registered == len(new_keys) + 1
        assert after.rejected_events - before.rejected_events == len(invalid)

    def _check_stored(self, valid: list[tuple[Wire, dict]], new_keys: set[tuple[str, str]]) -> None:
        """A new case holds what its message said (the first message of its key: one
        consumer registers in order), every character and number of it."""
        first: dict[tuple[str, str], tuple[Wire, dict]] = {}
        for wire, message in valid:
            first.setdefault(_key(message), (wire, message))
        wanted = {key: first[key] for key in new_keys}
        if not wanted:
            return
        with self.ports.engine.connect() as conn:
            rows = conn.execute(
                select(cases).where(cases.c.external_id.in_(sorted(e for _, e in wanted)))
            ).mappings()
            stored = {(row["source"], row["external_id"]): dict(row) for row in rows}
        for key, (wire, message) in wanted.items():
            row = stored[key]
            expected = {
                "channel": message["channel"],
                "region": message["region"],
                "title": message["title"],
                "content": message["content"],
                "category": message.get("category"),
                "petitioner": message.get("petitioner"),
                "people_count": message.get("people_count", 1),
                "urgent": message.get("urgent", False),
                "attachments": message.get("attachments", []),
                "extra": message.get("extra", {}),
                "received_at": parse_timestamp(message["received_at"]),
            }
            got = {name: row[name] for name in expected}
            assert got == expected, (
                f"stored {[n for n in expected if got[n] != expected[n]]} differ: {wire.describe()}"
            )

    def _check_rejections(self, invalid: list[tuple[Wire, str]], before: Snapshot) -> None:
        owed = Counter((_digest(w), code) for w, code in invalid)
        rows = self._rows([w for w, _ in invalid], dead_lettered=False)
        dead = self._rows([w for w, _ in invalid], dead_lettered=True)
        for wire, code in invalid:
            digest = _digest(wire)
            got = {
                c: n - before.rows[(d, c)]
                for (d, c), n in rows.items()
                if d == digest and n > before.rows[(d, c)]
            }
            assert got == {code: owed[(digest, code)]}, (
                f"rejections {got} instead of {{{code!r}: {owed[(digest, code)]}}}: "
                f"{wire.describe()}"
            )
            assert dead[(digest, code)] == rows[(digest, code)], (
                f"not all dead-lettered: {wire.describe()}"
            )

    def _check_dead_letters(self, invalid: list[tuple[Wire, str]]) -> None:
        taken = self.ports.take(REJECTED)
        assert Counter((m.body, m.headers.get("x-xinfang-reason-code")) for m in taken) == Counter(
            (w.body, code) for w, code in invalid
        ), (
            "the rejected queue holds "
            + f"{[(m.body[:80], m.headers) for m in taken]}, not the invalid messages "
            + f"{[w.describe() for w, _ in invalid]}"
        )
        by_body = Counter(w.body for w, _ in invalid)
        for wire, _ in invalid:
            if by_body[wire.body] > 1:
                continue  # the same bytes twice (an empty body): their properties may differ
            message = next(m for m in taken if m.body == wire.body)
            assert message.headers.get("x-xinfang-reason"), wire.describe()
            assert message.headers.get("x-xinfang-routing-key") == wire.routing_key
            for name, value in (wire.headers or {}).items():
                if name not in REASON_HEADERS:
                    assert _plain(message.headers.get(name)) == _plain(value), (
                        f"header {name!r} changed: {wire.describe()}"
                    )
            if wire.content_type:
                assert message.content_type == wire.content_type, wire.describe()
            if wire.message_id:
                assert message.message_id == wire.message_id, wire.describe()

    # -- the database --------------------------------------------------------------------
    def _snapshot(self, invalid: list[tuple[Wire, str]]) -> Snapshot:
        with self.ports.engine.connect() as conn:
            counts = dict(
                conn.execute(
                    select(events.c.type, func.count())
                    .where(events.c.type.in_(("registered", "rejected")))
                    .group_by(events.c.type)
                ).all()
            )
            total = conn.scalar(select(func.count()).select_from(cases))
        return Snapshot(
            int(total or 0),
            counts.get("registered", 0),
            counts.get("rejected", 0),
            self._rows([w for w, _ in invalid], dead_lettered=False),
        )

    def _rows(self, wires: Iterable[Wire], dead_lettered: bool) -> Counter[tuple[str, str]]:
        digests = sorted({_digest(w) for w in wires})
        if not digests:
            return Counter()
        query = (
            select(rejected_messages.c.digest, rejected_messages.c.code, func.count())
            .where(rejected_messages.c.digest.in_(digests))
            .group_by(rejected_messages.c.digest, rejected_messages.c.code)
        )
        if dead_lettered:
            query = query.where(rejected_messages.c.dead_lettered_at.isnot(None))
        with self.ports.engine.connect() as conn:
            return Counter({(d, c): int(n) for d, c, n in conn.execute(query)})

    def _registered(self, keys: list[tuple[str, str]]) -> Counter[tuple[str, str]]:
        wanted = set(keys)
        ids = sorted({external_id for _, external_id in wanted})
        if not ids:
            return Counter()
        with self.ports.engine.connect() as conn:
            rows = conn.execute(
                select(cases.c.source, cases.c.external_id).where(cases.c.external_id.in_(ids))
            ).all()
        return Counter(key for key in ((s, e) for s, e in rows) if key in wanted)


def _key(case: dict[str, Any]) -> tuple[str, str]:
    return case["source"], case["external_id"]


def _digest(wire: Wire) -> str:
    return hashlib.sha256(wire.body).hexdigest()


def _plain(value: Any) -> Any:
    """A header value as it compares across AMQP clients: py-amqp writes a byte string back
    as a long string, which pika reads as text when it is UTF-8."""
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return bytes(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    return value


# ---- what fuzzing found --------------------------------------------------------------------


def _judged(ports: Ports, count: int) -> bool:
    dead = ports.count(rejected_messages, rejected_messages.c.dead_lettered_at.isnot(None))
    return ports.count(cases) + dead >= count


def test_a_number_beyond_a_double_is_refused_where_it_would_break_the_database(
    ports: Ports,
) -> None:
    """1e400 decodes to infinity: SQLite stored it as the non-JSON token Infinity, PostgreSQL
    refused the row, and the message went to internal_error after three tries. Now parse
    refuses it, as the field that holds it."""
    bodies = [
        encode(valid_case(f"FZ-inf-{i}", extra={"v": "@"})).replace(b'"@"', raw)
        for i, raw in enumerate((b"1e400", b"-1E309", b"[1, 2e999]"))
    ]
    with ports.running(roles={"intake"}, **NO_LINKING) as (_app, running):
        ports.publish_many(bodies)
        wait_for(lambda: _judged(ports, len(bodies)), "the three messages judged")
        assert running.status()["intake"] == {"alive": True, "ready": True}
    assert ports.count(cases) == 0
    dead = ports.take(REJECTED)
    assert sorted((m.body, m.headers["x-xinfang-reason-code"]) for m in dead) == sorted(
        (body, "extra") for body in bodies
    )


def test_the_same_number_as_id_number_and_phone_is_one_case(ports: Ports) -> None:
    numbers = [
        {"id_number": "500112880321446", "phone": "500112880321446"},
        {"id_number": "500112880321447", "phone": "+86 500112880321447"},
    ]
    bodies = [
        encode(valid_case(f"FZ-same-number-{i}", petitioner=petitioner))
        for i, petitioner in enumerate(numbers)
    ]
    with ports.running(roles={"intake"}, **NO_LINKING) as (_app, running):
        ports.publish_many(bodies)
        wait_for(lambda: _judged(ports, len(bodies)), "both messages judged")
        assert ports.count(cases) == len(bodies), ports.take(REJECTED)
        assert running.status()["intake"] == {"alive": True, "ready": True}


def test_a_content_encoding_never_changes_the_bytes_judged(ports: Ports) -> None:
    """xinfang judges the bytes that were sent, whatever content_encoding says. py-amqp
    decodes a body with its content_encoding and Delivery.of encodes it back, which gives
    other bytes for these codecs: a BOM added (utf-8-sig, utf-16), escapes undone
    (unicode_escape), a different but equal spelling (utf-7). Consumers now take the bytes."""
    valid = [
        encode(valid_case(f"FZ-lossy-{codec}", content='他说："请尽快处理\\\\"'))
        for codec in LOSSY_ENCODINGS
    ]
    invalid = [
        encode(valid_case(f"FZ-lossy-bad-{codec}", channel="fax")) for codec in LOSSY_ENCODINGS
    ]
    with ports.running(roles={"intake"}, **NO_LINKING):
        for codec, good, bad in zip(LOSSY_ENCODINGS, valid, invalid, strict=True):
            ports.publish(good, content_encoding=codec)
            ports.publish(bad, content_encoding=codec)
        wait_for(lambda: _judged(ports, 2 * len(LOSSY_ENCODINGS)), "every message judged")
    assert ports.count(cases) == len(valid)
    assert sorted(m.body for m in ports.take(REJECTED)) == sorted(invalid)


def test_an_empty_body_is_dead_lettered_whatever_its_content_encoding(ports: Ports) -> None:
    """py-amqp handed an empty body over as '', which a codec of bytes (zlib, base64) or of
    text to text (rot13) cannot encode back: the delivery failed before it was judged, and
    went back to the queue forever."""
    codecs = (*BYTES_CODECS, *LOSSY_ENCODINGS)  # utf-16 would add a BOM to nothing
    with ports.running(roles={"intake"}, **NO_LINKING) as (_app, running):
        for codec in codecs:
            ports.publish(b"", content_encoding=codec)
        wait_for(lambda: _judged(ports, len(codecs)), "the empty bodies judged", timeout=5)
        assert running.status()["intake"] == {"alive": True, "ready": True}
    dead = ports.take(REJECTED)
    assert [(m.body, m.headers["x-xinfang-reason-code"]) for m in dead] == [(b"", "json")] * len(
        codecs
    )
