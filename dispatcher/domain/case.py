"""A case (信访事项) and the decisions that move it between stages.

Functions here are pure: they take the case, the decision and the time, and return the events
that record the change. Persistence applies the events; nothing here touches I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dispatcher.domain.channels import Channel
from dispatcher.domain.clock import parse_timestamp
from dispatcher.domain.errors import XinfangError
from dispatcher.domain.events import Event, EventType
from dispatcher.domain.policy import DEFAULT_POLICY
from dispatcher.domain.regions import Region
from dispatcher.domain.stages import Stage

# Fields of the intake contract that identify a petitioner: they are stored with the case,
# and never copied into events, logs, metrics or notifications.
IDENTITY_FIELDS = ("name", "id_number", "phone", "address")


@dataclass(frozen=True)
class Assignment:
    """A routing decision, with the rule that made it and why."""

    outcome: Stage  # ASSIGNED or TRIAGE
    org_unit_id: str
    org_unit_name: str
    org_kind: str
    rule_id: str | None
    reasons: tuple[str, ...]
    warnings: tuple[str, ...]
    ruleset_version: str
    policy: str = DEFAULT_POLICY  # the clock policy the rule chose
    priority: str = "normal"
    co_handlers: tuple[dict[str, str], ...] = ()  # 协办 units: id, name, kind
    tags: tuple[str, ...] = ()
    fast_lane: bool = False  # major or urgent: leadership is told at once
    ladder: str | None = None
    divert: dict[str, str | None] | None = None  # a legal channel the bureau should point to


@dataclass
class Case:
    case_id: str
    source: str
    external_id: str
    channel: Channel
    received_at: datetime
    region: Region
    title: str
    content: str
    registered_at: datetime
    category: str | None = None
    people_count: int = 1
    urgent: bool = False
    petitioner: dict[str, str] | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    stage: Stage = Stage.REGISTERED
    assignment: Assignment | None = None
    assigned_at: datetime | None = None

    @property
    def is_collective(self) -> bool:
        return self.people_count > 1

    def facts(self) -> dict[str, Any]:
        """The contract fields the rules may look at (no petitioner identity, only its presence)."""
        return {
            "source": self.source,
            "channel": self.channel.value,
            "received_at": self.received_at,
            "region": self.region.code,
            "category": self.category,
            "title": self.title,
            "content": self.content,
            "people_count": self.people_count,
            "urgent": self.urgent,
            "petitioner_present": bool(self.petitioner),
            "extra": self.extra,
        }


class IllegalTransition(XinfangError):
    def __init__(self, case_id: str, stage: Stage, action: str) -> None:
        super().__init__(f"case {case_id} is {stage.value}: cannot {action}")
        self.case_id, self.stage, self.action = case_id, stage, action


def register(message: dict[str, Any], case_id: str, now: datetime) -> tuple[Case, Event]:
    """A valid contract-v1 message becomes a registered case (Art 22: registration)."""
    case = Case(
        case_id=case_id,
        source=message["source"],
        external_id=message["external_id"],
        channel=Channel(message["channel"]),
        received_at=parse_timestamp(message["received_at"]),
        region=Region(message["region"]),
        title=message["title"],
        content=message["content"],
        registered_at=now,
        category=message.get("category"),
        people_count=message.get("people_count", 1),
        urgent=message.get("urgent", False),
        petitioner=message.get("petitioner"),
        attachments=message.get("attachments", []),
        extra=message.get("extra", {}),
    )
    event = Event(
        EventType.REGISTERED,
        now,
        case.case_id,
        case.source,
        case.external_id,
        {
            "channel": case.channel.value,
            "region": case.region.code,
            "category": case.category,
            "received_at": case.received_at.isoformat(),
            "people_count": case.people_count,
            "urgent": case.urgent,
            **source_times(case.extra),
        },
    )
    return case, event


def source_times(extra: Mapping[str, Any]) -> dict[str, Any]:
    """The source's own deadline and closing time (extra.due_at, extra.closed_at), when they
    are RFC 3339 times with an offset: a system that tracks the case itself, such as a 311
    export or a hotline platform that writes a time limit on every work order. A `due_at`
    of null says the source tracks the case and set it no deadline."""
    found: dict[str, Any] = {}
    if "due_at" in extra:  # even null: the source tracks the case, and set no deadline
        found["source_tracked"] = True
    for name in ("due_at", "closed_at"):
        value = extra.get(name)
        try:
            moment = parse_timestamp(value) if isinstance(value, str) else None
        except ValueError:
            moment = None
        if moment is not None and moment.utcoffset() is not None:
            found[f"source_{name}"] = moment.isoformat()
    return found


def assign(case: Case, assignment: Assignment, now: datetime) -> Event:
    """Record a routing decision: to an org unit, or to the petition bureau's triage queue.
    Both are `assigned` events (triage is an assignment to the bureau's triage desk), told
    apart by `data.outcome`, so a subscriber sees every routed case on case.assigned."""
    if case.stage is not Stage.REGISTERED:
        raise IllegalTransition(case.case_id, case.stage, "route")
    case.stage = assignment.outcome
    case.assignment = assignment
    case.assigned_at = now
    outcome = (
        "triage"
        if assignment.outcome is Stage.TRIAGE
        else ("diverted" if assignment.divert else "assigned")
    )
    return Event(
        EventType.ASSIGNED,
        now,
        case.case_id,
        case.source,
        case.external_id,
        {
            "outcome": outcome,
            "org_unit": {
                "id": assignment.org_unit_id,
                "name": assignment.org_unit_name,
                "kind": assignment.org_kind,
            },
            "rule": {
                "id": assignment.rule_id,
                "reasons": list(assignment.reasons),
                "ruleset_version": assignment.ruleset_version,
            },
            "warnings": list(assignment.warnings),
            "dispatch_seconds": (now - case.received_at).total_seconds(),
            "policy": assignment.policy,
            "priority": assignment.priority,
            "co_handlers": list(assignment.co_handlers),
            "tags": list(assignment.tags),
            "fast_lane": assignment.fast_lane,
            "ladder": assignment.ladder,
            "divert": assignment.divert,
        },
    )


def rejected(
    code: str,
    reason: str,
    source: str | None,
    external_id: str | None,
    routing_key: str,
    now: datetime,
) -> Event:
    """An intake message that is not a valid case; the message itself is dead-lettered."""
    return Event(
        EventType.REJECTED,
        now,
        None,
        source,
        external_id,
        {"code": code, "reason": reason, "routing_key": routing_key},
    )
