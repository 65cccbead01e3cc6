"""Repeat and collective petitions at intake: find the existing case a valid new message joins
and record the link, inside the intake's transaction. The domain (dispatcher.domain.repeats)
decides; this loads candidates and stores the outcome. No plain identity is written anywhere
but cases.petitioner: parties are keyed hashes, events carry none."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from dispatcher.domain import repeats
from dispatcher.domain.events import Event
from dispatcher.domain.regions import Region
from dispatcher.domain.repeats import Candidate, Link, LinkKind, Matter, PartyKey, Via
from dispatcher.domain.stages import TERMINAL, Stage
from dispatcher.domain.state import fold
from dispatcher.services.ports import Store


@dataclass(frozen=True)
class RepeatConfig:
    identity_key: bytes = field(repr=False)
    repeat_window: timedelta = timedelta(days=90)
    collective_window: timedelta = timedelta(days=7)


class Linker:
    def __init__(self, config: RepeatConfig, store: Store) -> None:
        self._config, self._store = config, store

    def keys(self, message: Mapping[str, Any]) -> tuple[PartyKey, ...]:
        return repeats.party_keys(message.get("petitioner"), self._config.identity_key)

    def lock_names(self, message: Mapping[str, Any], keys: Sequence[PartyKey]) -> list[str]:
        """What find() looks up, as names for store.lock_matter: each party key (the repeat
        search) and the region code with the category (the collective search; without a
        category no petition is collective). Any petition of that place and category takes the
        second, a one-person one too, since it can join or be joined by a collective one; and
        whatever its day, since the search spans a window either side of it."""
        names: list[str] = []
        if self._config.repeat_window > timedelta(0):
            names += [f"party:{key.value}" for key in keys]
        if message.get("category") and self._config.collective_window > timedelta(0):
            names.append(f"matter:{message['region']}:{message['category']}")
        return names

    def find(self, conn: Connection, matter: Matter, keys: Sequence[PartyKey]) -> Link | None:
        """A repeat of the same petitioner first (anonymous petitions have none), then a
        collective case of the same place and matter. A window of 0 days turns either off."""
        if keys and self._config.repeat_window > timedelta(0):
            link = repeats.find_repeat(
                matter, self._repeat_candidates(conn, matter, keys), self._config.repeat_window
            )
            if link is not None:
                return link
        if self._config.collective_window <= timedelta(0) or not matter.category:
            return None  # without a category no petition is collective
        return repeats.find_collective(
            matter, self._collective_candidates(conn, matter), self._config.collective_window
        )

    def record(
        self,
        conn: Connection,
        link: Link,
        via: Via,
        keys: Sequence[PartyKey],
        people: int,
        now: datetime,
    ) -> Event:
        """Store the link (unique on the message's (source, external_id)) and, for a
        collective case, its new party and people; the event on the existing case, which the
        caller appends with the other events of its batch, in order."""
        row = self._store.lock_case(conn, link.case_id)
        assert row is not None, f"case {link.case_id} vanished while linking"
        self._store.insert_link(
            conn, via.source, via.external_id, link.case_id, link.kind.value, now
        )
        people_now = None
        if link.kind is LinkKind.COLLECTIVE:
            self.add_parties(conn, link.case_id, keys, "party", now)
            people_now = self._store.add_people(conn, link.case_id, people)
        return repeats.link_event(link, (row["source"], row["external_id"]), via, now, people_now)

    def _repeat_candidates(
        self, conn: Connection, matter: Matter, keys: Sequence[PartyKey]
    ) -> list[Candidate]:
        window = self._config.repeat_window
        rows = self._store.cases_of_parties(
            conn,
            [key.value for key in keys],
            matter.received_at - window,
            matter.received_at + window,
        )
        return [self._candidate(conn, row) for row in rows]

    def _collective_candidates(self, conn: Connection, matter: Matter) -> list[Candidate]:
        """Cases of the same region code, category and days; for a one-person petition only
        those of many petitioners, the only ones it can join (same_collective_matter). Indexed
        on these keys: the cost does not grow with the open cases of the region."""
        assert matter.category is not None
        window = self._config.collective_window
        rows = self._store.collective_candidates(
            conn,
            matter.region.code,
            matter.category,
            matter.received_at - window,
            matter.received_at + window,
            [stage.value for stage in TERMINAL],
            collective_only=matter.people_count <= 1,
        )
        return [self._candidate(conn, row) for row in rows]

    def add_parties(
        self,
        conn: Connection,
        case_id: str,
        keys: Sequence[PartyKey],
        role: str,
        at: datetime,
        fresh: bool = False,
    ) -> None:
        self._store.add_parties(
            conn, case_id, [(key.kind.value, key.value) for key in keys], role, at, fresh
        )

    def _candidate(self, conn: Connection, row: Any) -> Candidate:
        stage = Stage(row["stage"])
        final = (
            fold(self._store.history(conn, row["case_id"])).final_case_id
            if stage is Stage.FINAL
            else None
        )
        return Candidate(
            case_id=row["case_id"],
            matter=Matter(
                Region(row["region"]),
                row["category"],
                row["title"],
                row["content"],
                row["received_at"],
                row["people_count"],
            ),
            stage=stage,
            org_unit_id=row["org_unit_id"],
            final_case_id=final,
        )
