"""Deciding what a department's command does to a case (信访工作条例 2022, Arts 22–36):
`Action`, `Command`, `Limits`, `decide` and its per-action handlers, `CommandRefused`, the
Art 31 `Diversion`s and the Art 32 `REPLY_FIELDS`.

Pure functions of (state, command, limits, deadlines): the service loads the history, folds it
(`state.py`), calls `decide`, and stores the events it returns; nothing here touches I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from dispatcher.domain.clocks import shanghai_text
from dispatcher.domain.errors import XinfangError
from dispatcher.domain.events import EventType
from dispatcher.domain.stages import CaseKind, Stage
from dispatcher.domain.state import Lifecycle, Rating


class Action(StrEnum):
    ASSIGN = "assign"  # the dispatching office assigns a case from triage
    ACCEPT = "accept"  # Art 23: the handling body accepts
    REJECT = "reject"  # not accepted; Art 31 (1)–(4): diverted to a legal channel
    OBJECT = "object"  # Art 23: not our matter, within 5 working days
    REROUTE = "reroute"  # the dispatching office agrees with an objection and re-routes
    CONFIRM = "confirm"  # the dispatching office confirms the assignment after an objection
    EXTEND = "extend"  # Art 34: once, at most 30 days, approved by the head, reason told
    HEARING_START = "hearing_start"  # Art 31 (6), Art 36: hearing time is not counted
    HEARING_END = "hearing_end"
    REPLY = "reply"  # Art 32: request, facts and reasons, decision, legal basis
    EVALUATE = "evaluate"  # the petitioner's evaluation
    REQUEST_REVIEW = "request_review"  # Art 35: 复查 at the next-higher body
    REQUEST_REREVIEW = "request_rereview"  # Art 36: 复核 at the next-higher body


class Diversion(StrEnum):
    """Where Art 31 (1)–(4) sends a matter that petitioning cannot decide."""

    LITIGATION = "litigation"
    ARBITRATION = "arbitration"
    PARTY_APPEAL = "party_appeal"
    ADMINISTRATIVE_PROCEDURE = "administrative_procedure"
    DISCIPLINE_INSPECTION = "discipline_inspection"


DIVERSION_NOTICE = {
    Diversion.LITIGATION: "请依法向人民法院提起诉讼或向有关政法部门反映（第三十一条第一项）",
    Diversion.ARBITRATION: "请依法向劳动人事争议或其他仲裁机构申请仲裁（第三十一条第二项）",
    Diversion.PARTY_APPEAL: "请通过党员申诉、申请复审等程序解决（第三十一条第三项）",
    Diversion.ADMINISTRATIVE_PROCEDURE: (
        "请依法申请行政复议、行政裁决、行政确认等行政程序解决（第三十一条第四项）"
    ),
    Diversion.DISCIPLINE_INSPECTION: "检举控告事项已转纪检监察机关依规依纪依法处理（第二十二条）",
}


REPLY_FIELDS = ("request", "facts", "reasons", "decision", "legal_basis")  # Art 32
MAX_TEXT = 10_000


@dataclass(frozen=True)
class Command:
    action: Action
    case_id: str
    actor: str
    at: datetime | None = None  # when it happened; None: now (the service fills it in)
    data: Mapping[str, Any] = field(default_factory=dict)


class CommandRefused(XinfangError):
    """An illegal or invalid command. The message names the case, its stage and the action."""

    def __init__(self, case_id: str, stage: Stage, action: str, why: str) -> None:
        super().__init__(f"case {case_id} is {stage.value}: cannot {action}: {why}")
        self.case_id, self.stage, self.action, self.why = case_id, stage, action, why


Change = tuple[EventType, dict[str, Any]]


@dataclass(frozen=True)
class Limits:
    """What the case's policy allows (from the policy file)."""

    extension_max_days: int
    extension_times: int
    on_dissatisfied: str  # "rehandle" or "review_window"


def decide(
    case_id: str,
    state: Lifecycle,
    command: Command,
    limits: Limits,
    due: Mapping[str, datetime | None],
) -> list[Change]:
    """The events a command produces, or CommandRefused naming case, stage and action.
    `due` holds the current deadline of each clock of the case (see timeline.clocks_of)."""
    ctx = _Context(case_id, state, command, limits, due)
    if command.at is not None and state.last_at is not None and command.at < state.last_at:
        # A back-dated command could otherwise slip inside a period that has ended.
        raise ctx.refuse(
            f"'at' {shanghai_text(command.at)} is before the case's last event "
            f"({shanghai_text(state.last_at)})"
        )
    return _HANDLERS[command.action](ctx)


@dataclass(frozen=True)
class _Context:
    case_id: str
    state: Lifecycle
    command: Command
    limits: Limits
    due: Mapping[str, datetime | None]

    def refuse(self, why: str) -> CommandRefused:
        return CommandRefused(self.case_id, self.state.stage, self.command.action.value, why)

    def require_stage(self, *stages: Stage) -> None:
        if self.state.stage not in stages:
            allowed = " or ".join(stage.value for stage in stages)
            raise self.refuse(f"only a case that is {allowed} can be asked to do this")

    def text(self, name: str) -> str:
        value = self.optional_text(name)
        if value is None:
            raise self.refuse(f"'{name}' is required")
        return value

    def optional_text(self, name: str) -> str | None:
        value = self.command.data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise self.refuse(f"'{name}' must be text of at most {MAX_TEXT} characters")
        return value.strip()

    def within(self, clock: str) -> None:
        deadline, at = self.due.get(clock), self.command.at
        if deadline is not None and at is not None and at > deadline:
            raise self.refuse(f"the {clock} period ended at {shanghai_text(deadline)}")

    def base(self) -> dict[str, Any]:
        return {"actor": self.command.actor}


def _assign(ctx: _Context) -> list[Change]:
    ctx.require_stage(Stage.TRIAGE)
    return [
        (
            EventType.ASSIGNED,
            ctx.base() | {"org_unit": _unit(ctx), "reason": ctx.text("reason"), "manual": True},
        )
    ]


def _unit(ctx: _Context) -> dict[str, str]:
    unit = ctx.command.data.get("org_unit")
    if not isinstance(unit, Mapping) or not all(
        isinstance(unit.get(key), str) and unit[key] for key in ("id", "name", "kind")
    ):
        raise ctx.refuse("'org_unit' with id, name and kind is required")
    return {key: unit[key] for key in ("id", "name", "kind")}


def _accept(ctx: _Context) -> list[Change]:
    ctx.require_stage(Stage.ASSIGNED)
    note = ctx.optional_text("note")
    return [(EventType.ACCEPTED, ctx.base() | ({"note": note} if note else {}))]


def _reject(ctx: _Context) -> list[Change]:
    ctx.require_stage(Stage.ASSIGNED)
    data = ctx.base() | {"reason": ctx.text("reason")}
    divert = ctx.command.data.get("divert_to")
    if divert is not None:
        try:
            diversion = Diversion(divert)
        except ValueError:
            raise ctx.refuse(
                f"'divert_to' must be one of {', '.join(d.value for d in Diversion)}"
            ) from None
        data |= {
            "divert_to": diversion.value,
            "notice": ctx.optional_text("notice") or DIVERSION_NOTICE[diversion],
        }
    return [(EventType.NOT_ACCEPTED, data)]


def _object(ctx: _Context) -> list[Change]:
    ctx.require_stage(Stage.ASSIGNED)
    if ctx.state.objection_used:
        raise ctx.refuse("the assignment was already objected to and confirmed")
    ctx.within("objection")
    return [(EventType.OBJECTED, ctx.base() | {"reason": ctx.text("reason")})]


def _reroute(ctx: _Context) -> list[Change]:
    ctx.require_stage(Stage.OBJECTED)
    unit = _unit(ctx)
    if ctx.state.org_unit and unit["id"] == ctx.state.org_unit.get("id"):
        raise ctx.refuse("re-routing must name another org unit (use confirm to keep it)")
    return [(EventType.REROUTED, ctx.base() | {"org_unit": unit, "reason": ctx.text("reason")})]


def _confirm(ctx: _Context) -> list[Change]:
    ctx.require_stage(Stage.OBJECTED)
    return [
        (
            EventType.ASSIGNMENT_CONFIRMED,
            ctx.base() | {"org_unit": dict(ctx.state.org_unit or {}), "reason": ctx.text("reason")},
        )
    ]


def _times(count: int) -> str:
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def _extend(ctx: _Context) -> list[Change]:
    ctx.require_stage(Stage.ACCEPTED)
    if ctx.state.kind is not CaseKind.ORIGINAL:
        raise ctx.refuse("only the handling period of an original case can be extended")
    if ctx.state.extensions >= ctx.limits.extension_times:
        raise ctx.refuse(
            f"the handling period may be extended {_times(ctx.limits.extension_times)} "
            "only (Art 34)"
        )
    days = ctx.command.data.get("days")
    if (
        not isinstance(days, int)
        or isinstance(days, bool)
        or not (1 <= days <= ctx.limits.extension_max_days)
    ):
        raise ctx.refuse(
            f"'days' must be a whole number from 1 to {ctx.limits.extension_max_days} (Art 34)"
        )
    ctx.within("handling")
    return [
        (
            EventType.EXTENDED,
            ctx.base()
            | {"days": days, "approved_by": ctx.text("approved_by"), "reason": ctx.text("reason")},
        )
    ]


def _hearing_start(ctx: _Context) -> list[Change]:
    ctx.require_stage(Stage.ACCEPTED)
    if ctx.state.hearing_open:
        raise ctx.refuse("a hearing is already open")
    return [(EventType.HEARING_STARTED, ctx.base())]


def _hearing_end(ctx: _Context) -> list[Change]:
    ctx.require_stage(Stage.ACCEPTED)
    if not ctx.state.hearing_open:
        raise ctx.refuse("no hearing is open")
    return [(EventType.HEARING_ENDED, ctx.base())]


def _reply(ctx: _Context) -> list[Change]:
    ctx.require_stage(Stage.ACCEPTED)
    if ctx.state.hearing_open:
        raise ctx.refuse("a hearing is still open: end it first")
    changes: list[Change] = [
        (EventType.REPLIED, ctx.base() | {name: ctx.text(name) for name in REPLY_FIELDS})
    ]
    if ctx.state.kind is CaseKind.REREVIEW:  # Art 36: the re-review opinion is final
        changes.append((EventType.FINALIZED, {"final_case_id": ctx.case_id}))
    return changes


def _evaluate(ctx: _Context) -> list[Change]:
    ctx.require_stage(Stage.REPLIED, Stage.FINAL)
    if ctx.state.rating is not None:
        raise ctx.refuse("the reply was already evaluated")
    raw = ctx.command.data.get("rating")
    try:
        rating = Rating(str(raw))
    except ValueError:
        raise ctx.refuse(f"'rating' must be one of {', '.join(r.value for r in Rating)}") from None
    changes: list[Change] = [(EventType.EVALUATED, ctx.base() | {"rating": rating.value})]
    if ctx.state.stage is Stage.FINAL:
        return changes
    if rating is not Rating.DISSATISFIED:
        changes.append((EventType.CLOSED, {"why": "petitioner " + rating.value}))
    elif ctx.limits.on_dissatisfied == "rehandle" and ctx.state.kind is CaseKind.ORIGINAL:
        changes.append((EventType.REHANDLING, {"why": "petitioner dissatisfied"}))
    return changes


def _request_review(ctx: _Context) -> list[Change]:
    return _request_next(ctx, CaseKind.ORIGINAL, "review_request", EventType.REVIEW_REQUESTED)


def _request_rereview(ctx: _Context) -> list[Change]:
    return _request_next(ctx, CaseKind.REVIEW, "rereview_request", EventType.REREVIEW_REQUESTED)


def _request_next(ctx: _Context, kind: CaseKind, clock: str, event: EventType) -> list[Change]:
    if ctx.state.stage is Stage.FINAL:
        raise ctx.refuse(f"re-review is final (Art 36): see case {ctx.state.final_case_id}")
    ctx.require_stage(Stage.REPLIED)
    if ctx.state.kind is not kind:
        raise ctx.refuse(f"this is a {ctx.state.kind.value} case")
    ctx.within(clock)
    linked = ctx.command.data.get("linked_case_id")  # chosen by the service that opens it
    return [
        (
            event,
            ctx.base() | {"linked_case_id": linked, "reason": ctx.optional_text("reason") or ""},
        )
    ]


_HANDLERS = {
    Action.ASSIGN: _assign,
    Action.ACCEPT: _accept,
    Action.REJECT: _reject,
    Action.OBJECT: _object,
    Action.REROUTE: _reroute,
    Action.CONFIRM: _confirm,
    Action.EXTEND: _extend,
    Action.HEARING_START: _hearing_start,
    Action.HEARING_END: _hearing_end,
    Action.REPLY: _reply,
    Action.EVALUATE: _evaluate,
    Action.REQUEST_REVIEW: _request_review,
    Action.REQUEST_REREVIEW: _request_rereview,
}
