"""The lines of a cases file (JSON lines) as the demo publishes them: one intake message each.

A line is published as its bytes, whatever they hold, so that the intake judges it exactly as
it judges a message from a channel system; the contract's validation is asked here only for
the receipt time that places a valid case on the simulated clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from dispatcher.contract.intake import Invalid, parse
from dispatcher.domain.clock import parse_timestamp
from dispatcher.domain.errors import XinfangError

# Where a line that is not a valid case goes: the intake reads the channel from the body
# (the routing key only lets subscribers filter), and an invalid body may hold any channel.
UNREADABLE_ROUTING_KEY = "case.unknown"


class CasesFileError(XinfangError):
    """A cases file that was read but holds nothing to replay."""


@dataclass(frozen=True)
class CaseLine:
    number: int  # in the file, from 1, blank lines counted
    body: bytes
    received_at: datetime | None  # None: not a valid case, the intake will say why
    routing_key: str

    @classmethod
    def of(cls, number: int, body: bytes) -> CaseLine:
        parsed = parse(body)
        if isinstance(parsed, Invalid):
            return cls(number, body, None, UNREADABLE_ROUTING_KEY)
        case = parsed.case
        return cls(number, body, parse_timestamp(case["received_at"]), f"case.{case['channel']}")


def read_lines(path: Path) -> list[CaseLine]:
    """Every non-blank line of the file. Lines are split on bytes, not text: a JSON string may
    hold U+2028, which str.splitlines would take for a line break."""
    lines = [
        CaseLine.of(number, body)
        for number, body in enumerate(path.read_bytes().splitlines(), start=1)
        if body.strip()
    ]
    if not lines:
        raise CasesFileError(f"{path} holds no case: give one JSON case (contract v1) per line")
    return lines


def first_receipt(lines: Sequence[CaseLine]) -> datetime | None:
    """When the simulated clock starts: the earliest receipt of a valid case."""
    return min((line.received_at for line in lines if line.received_at), default=None)
