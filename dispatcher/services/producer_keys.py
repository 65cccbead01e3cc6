"""Producers' API keys: issue one for a source, list them, revoke one, and admit a request by
the key it carries. A key's secret is shown once, when it is issued, and kept only as a hash
(dispatcher/domain/api_keys.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from dispatcher.domain import api_keys
from dispatcher.domain.clock import Clock
from dispatcher.services.ports import Store

DEFAULT_RATE = "600/minute"


@dataclass(frozen=True)
class Producer:
    """Who a request's key says sent it: the key, the source it may submit, and its rate."""

    key_id: str
    source: str
    rate: str


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    source: str
    label: str | None
    rate: str
    created_at: datetime
    revoked_at: datetime | None


class ProducerKeys:
    def __init__(self, engine: Engine, store: Store, clock: Clock) -> None:
        self._engine, self._store, self._clock = engine, store, clock

    def issue(self, source: str, rate: str = DEFAULT_RATE, label: str | None = None) -> str:
        """A new key for `source`: its text, which nothing keeps, is returned this once."""
        key = api_keys.new_key()
        row = {
            "key_id": key.key_id,
            "source": source,
            "digest": api_keys.digest(key.secret),
            "label": label,
            "rate": rate,
            "created_at": self._clock(),
        }
        with self._engine.begin() as conn:
            self._store.insert_api_key(conn, row)
        return key.text

    def listed(self) -> list[KeyInfo]:
        with self._engine.connect() as conn:
            return [_info(row) for row in self._store.all_api_keys(conn)]

    def revoke(self, key_id: str) -> bool:
        """Whether a live key of that id was revoked (False: none, or revoked before)."""
        with self._engine.begin() as conn:
            return self._store.revoke_api_key(conn, key_id, self._clock())

    def admit(self, text: str | None) -> Producer | None:
        """The producer of a live key; None for no key, a malformed, unknown or revoked one,
        or a wrong secret: the caller answers each the same way."""
        presented = api_keys.parsed(text)
        if presented is None:
            return None
        with self._engine.connect() as conn:
            row = self._store.api_key(conn, presented.key_id)
        if row is None or row["revoked_at"] is not None:
            return None
        if not api_keys.matches(presented.secret, row["digest"]):
            return None
        return Producer(row["key_id"], row["source"], row["rate"])


def _info(row: dict[str, Any]) -> KeyInfo:
    return KeyInfo(
        row["key_id"],
        row["source"],
        row["label"],
        row["rate"],
        row["created_at"],
        row["revoked_at"],
    )
