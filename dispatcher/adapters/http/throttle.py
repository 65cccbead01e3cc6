"""The gateway's rate limits, counted by the `limits` library in a moving window: each
producer key at its own rate, and wrong query codes per case number and per client address.

Only wrong codes are counted: a petitioner who reloads their own case's page with the right
code is never held back by it. A guess is let through while neither count is full; when one is,
every try, right or wrong, waits until the window has room again (else a guesser would learn
from the answer which code was right). Where the counts are kept is a `limits` storage URI
(XINFANG_RATE_LIMIT_STORAGE): memory:// counts in this process, redis://… across processes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TypeVar

from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.requests import Request

PRODUCER = "producer"
CODE_PER_CASE = "code-case"
CODE_PER_CLIENT = "code-client"
T = TypeVar("T")


@dataclass(frozen=True)
class Wait:
    """Too many wrong codes: the seconds until a code may be tried again (Retry-After)."""

    seconds: int


def client_of(request: Request) -> str:
    """The address wrong codes are counted against."""
    return request.client.host if request.client else "-"


@cache
def _rates(text: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(text))


class Throttle:
    def __init__(self, storage_uri: str, guesses_per_case: str, guesses_per_client: str) -> None:
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self._per_case = _rates(guesses_per_case)
        self._per_client = _rates(guesses_per_client)

    def producer_wait(self, key_id: str, rate: str) -> int | None:
        """Counts one request of a key: None while its rate allows it, else the seconds to
        wait (Retry-After)."""
        for item in _rates(rate):
            if not self._limiter.hit(item, PRODUCER, key_id):
                return self._wait(item, PRODUCER, key_id)
        return None

    def guess_wait(self, case_id: str, client: str) -> int | None:
        """None while a code may be tried on this case from this client, else the seconds to
        wait. Counts nothing: only a wrong code is counted (`guessed_wrong`)."""
        for items, ids in (
            (self._per_case, (CODE_PER_CASE, case_id)),
            (self._per_client, (CODE_PER_CLIENT, client)),
        ):
            for item in items:
                if not self._limiter.test(item, *ids):
                    return self._wait(item, *ids)
        return None

    def guarded(
        self, case_id: str, client: str, attempt: Callable[[], T | None]
    ) -> T | Wait | None:
        """The answer of `attempt` (None: not the case's code) within the limits of wrong
        codes, or how long to wait; a wrong code counts against the case and the client."""
        if (wait := self.guess_wait(case_id, client)) is not None:
            return Wait(wait)
        answer = attempt()
        if answer is None:
            self.guessed_wrong(case_id, client)
        return answer

    def guessed_wrong(self, case_id: str, client: str) -> None:
        for item in self._per_case:
            self._limiter.hit(item, CODE_PER_CASE, case_id)
        for item in self._per_client:
            self._limiter.hit(item, CODE_PER_CLIENT, client)

    def _wait(self, item: RateLimitItem, *ids: str) -> int:
        reset_at, _remaining = self._limiter.get_window_stats(item, *ids)
        return max(1, math.ceil(reset_at - time.time()))
