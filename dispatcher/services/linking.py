"""Repeat and collective petitions at intake: find the existing case a valid new message joins
and record the link, inside the intake's transaction. The domain (dispatcher.domain.repeats)
decides; this loads candidates and stores the outcome. No plain identity is written anywhere
but cases.petitioner: parties are keyed hashes, events carry none."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
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


@dataclass
class Nearby:
    """The existing cases a batch of new petitions may join, by party key and by place;
    the batch's own new cases are added as they are opened, so that a later petition of the
    batch finds an earlier one."""

    by_party: dict[str, dict[str, Candidate]] = field(default_factory=dict)
    by_place: dict[tuple[str, str | None], dict[str, Candidate]] = field(default_factory=dict)

    def of_parties(self, keys: Sequence[PartyKey]) -> list[Candidate]:
        found = {cid: c for key in keys for cid, c in self.by_party.get(key.value, {}).items()}
        return list(found.values())

    def at_place(self, matter: Matter) -> list[Candidate]:
        return list(self.by_place.get((matter.region.code, matter.category), {}).values())

    def add_at_place(self, candidate: Candidate) -> None:
        place = (candidate.matter.region.code, candidate.matter.category)
        self.by_place.setdefault(place, {})[candidate.case_id] = candidate

    def add(self, candidate: Candidate, keys: Sequence[PartyKey]) -> None:
        """A case this batch opened."""
        for key in keys:
            self.by_party.setdefault(key.value, {})[candidate.case_id] = candidate
        self.add_at_place(candidate)

    def joined(self, case_id: str, keys: Sequence[PartyKey], people_count: int) -> None:
        """A collective case gained parties and people: later petitions of the batch see
        them (its people count decides what else it may be joined by)."""
        places = [cases for cases in self.by_place.values() if case_id in cases]
        for cases in places:
            before = cases[case_id]
            after = replace(before, matter=replace(before.matter, people_count=people_count))
            self.add(after, keys)
            for party in self.by_party.values():
                if case_id in party:
                    party[case_id] = after


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

    def nearby(
        self, conn: Connection, petitions: Sequence[tuple[Matter, Sequence[PartyKey]]]
    ) -> Nearby:
        """Every case a batch of new petitions may join, in at most three indexed queries:
        the cases of their party keys (the repeat search) and the cases of their places and
        categories in the window (the collective search). Nothing else of a region is read."""
        found = Nearby()
        if not petitions:
            return found
        earliest = min(matter.received_at for matter, _keys in petitions)
        latest = max(matter.received_at for matter, _keys in petitions)
        keys = sorted({key.value for _matter, ks in petitions for key in ks})
        window = self._config.repeat_window
        if keys and window > timedelta(0):
            rows = self._store.cases_of_parties(conn, keys, earliest - window, latest + window)
            for row in rows:
                found.by_party.setdefault(row["party_key"], {})[row["case_id"]] = self._candidate(
                    conn, row
                )
        window = self._config.collective_window
        places = sorted({(m.region.code, m.category) for m, _ks in petitions if m.category})
        if places and window > timedelta(0):
            crowded = sorted(
                {
                    (m.region.code, m.category)
                    for m, _ks in petitions
                    if m.category and m.people_count > 1
                }
            )
            since, until = earliest - window, latest + window
            terminal = [stage.value for stage in TERMINAL]
            rows = [
                *self._store.collective_candidates(conn, places, since, until, terminal, True),
                *self._store.collective_candidates(conn, crowded, since, until, terminal, False),
            ]
            for row in rows:
                found.add_at_place(self._candidate(conn, row))
        return found

    def find(self, matter: Matter, keys: Sequence[PartyKey], nearby: Nearby) -> Link | None:
        """A repeat of the same petitioner first (anonymous petitions have none), then a
        collective case of the same place and matter. A window of 0 days turns either off."""
        if keys and self._config.repeat_window > timedelta(0):
            link = repeats.find_repeat(matter, nearby.of_parties(keys), self._config.repeat_window)
            if link is not None:
                return link
        if self._config.collective_window <= timedelta(0) or not matter.category:
            return None  # without a category no petition is collective
        return repeats.find_collective(
            matter, nearby.at_place(matter), self._config.collective_window
        )

    def record(
        self,
        conn: Connection,
        link: Link,
        via: Via,
        keys: Sequence[PartyKey],
        people: int,
        now: datetime,
        nearby: Nearby,
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
            nearby.joined(link.case_id, keys, people_now)
        return repeats.link_event(link, (row["source"], row["external_id"]), via, now, people_now)

    def add_parties(
        self,
        conn: Connection,
        case_id: str,
        keys: Sequence[PartyKey],
        role: str,
        at: datetime,
    ) -> None:
        self._store.add_parties(
            conn, case_id, [(key.kind.value, key.value) for key in keys], role, at
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
