"""Concurrent intake on PostgreSQL: messages on one matter that arrive at the same moment open
one case between them, the others link to it (repeat and collective petitions), and a message
delivered twice at once is still one case. Each round starts its threads together on a barrier
so that their searches really race."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select
from support import ELEVATOR

from dispatcher.adapters.db.tables import cases
from dispatcher.bootstrap.app import App
from dispatcher.domain.repeats import LinkKind
from dispatcher.services.intake import Duplicate, Linked, Outcome, Registered

pytestmark = pytest.mark.integration

JSON = "application/json"
THREADS = 4
ROUNDS = 25


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=THREADS) as executor:
        yield executor


def petition(external_id: str, phone: str, category: str, **fields: Any) -> bytes:
    message = {
        "schema": "xinfang.case/v1",
        "source": "cq-12345",
        "external_id": external_id,
        "channel": "phone",
        "received_at": "2026-05-26T09:30:00+08:00",
        "region": "500112",
        "category": category,
        "title": "金紫山小区加装电梯纠纷",
        "content": ELEVATOR,
        "petitioner": {"phone": phone},
    } | fields
    return json.dumps(message, ensure_ascii=False).encode()


def race(app: App, pool: ThreadPoolExecutor, bodies: list[bytes]) -> list[Outcome]:
    """Every body received by its own thread, all released at once."""
    barrier = threading.Barrier(len(bodies), timeout=30)

    def receive(body: bytes) -> Outcome:
        barrier.wait()
        return app.intake.receive(body, JSON, "case.phone")

    return [future.result(timeout=60) for future in [pool.submit(receive, b) for b in bodies]]


def opened(outcomes: list[Outcome]) -> list[str]:
    return [o.case_id for o in outcomes if isinstance(o, Registered)]


def cases_of(app: App, category: str) -> int:
    with app.engine.connect() as conn:
        return int(
            conn.scalar(select(func.count()).select_from(cases).where(cases.c.category == category))
            or 0
        )


def assert_one_case_per_round(app: App, rounds: dict[str, list[Outcome]], kind: LinkKind) -> None:
    extra = {category: len(opened(outcomes)) - 1 for category, outcomes in rounds.items()}
    duplicated = {category: n for category, n in extra.items() if n}
    assert not duplicated, (
        f"{len(duplicated)} of {len(rounds)} rounds opened {sum(duplicated.values())} "
        f"duplicate cases: {duplicated}"
    )
    for category, outcomes in rounds.items():
        (case_id,) = opened(outcomes)
        linked = [o for o in outcomes if not isinstance(o, Registered)]
        assert linked == [Linked(case_id, kind)] * (THREADS - 1)
        assert cases_of(app, category) == 1


def test_a_petitioners_simultaneous_repeats_open_one_case(
    app: App, pool: ThreadPoolExecutor
) -> None:
    rounds = {}
    for n in range(ROUNDS):
        category = f"housing_r{n}"
        phone = f"1392301{n:04d}"  # one petitioner per round, several channels' messages
        rounds[category] = race(
            app, pool, [petition(f"R{n}-{t}", phone, category) for t in range(THREADS)]
        )

    assert_one_case_per_round(app, rounds, LinkKind.REPEAT)


def test_simultaneous_collective_petitions_open_one_case(
    app: App, pool: ThreadPoolExecutor
) -> None:
    rounds = {}
    for n in range(ROUNDS):
        category = f"housing_c{n}"  # one matter per round, told by several petitioners
        rounds[category] = race(
            app,
            pool,
            [
                petition(f"C{n}-{t}", f"186{n:04d}{t:04d}", category, people_count=3)
                for t in range(THREADS)
            ],
        )

    assert_one_case_per_round(app, rounds, LinkKind.COLLECTIVE)
    with app.engine.connect() as conn:
        people = set(conn.scalars(select(cases.c.people_count)))
    assert people == {3 * THREADS}


def test_one_message_delivered_several_times_at_once_is_one_case(
    app: App, pool: ThreadPoolExecutor
) -> None:
    for n in range(ROUNDS):
        category = f"housing_d{n}"
        body = petition(f"D{n}", f"1772301{n:04d}", category, people_count=2)

        outcomes = race(app, pool, [body] * THREADS)

        (case_id,) = opened(outcomes)
        assert [o for o in outcomes if not isinstance(o, Registered)] == [
            Duplicate(case_id, needs_routing=True)
        ] * (THREADS - 1)
        assert cases_of(app, category) == 1
