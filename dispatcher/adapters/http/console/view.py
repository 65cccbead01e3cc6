"""What the console's templates are given: plain values made from the desk's answers, and the
forms of the actions read back into a command's data."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from dispatcher.domain.decisions import REPLY_FIELDS, Action
from dispatcher.domain.errors import XinfangError
from dispatcher.services.console import CaseView, OverdueBoard

# The actions of the case page, by their path segment.
ACTIONS = {
    "accept": Action.ACCEPT,
    "object": Action.OBJECT,
    "reject": Action.REJECT,
    "extend": Action.EXTEND,
    "hearing-start": Action.HEARING_START,
    "hearing-end": Action.HEARING_END,
    "reply": Action.REPLY,
}
# Which actions the page offers at each stage (the lifecycle still decides, and says why not).
OFFERED = {
    "assigned": ("accept", "object", "reject"),
    "accepted": ("reply", "extend", "hearing-start", "hearing-end"),
}
_FIELDS: dict[Action, tuple[str, ...]] = {
    Action.ACCEPT: ("note",),
    Action.OBJECT: ("reason",),
    Action.REJECT: ("reason", "divert_to"),
    Action.EXTEND: ("days", "approved_by", "reason"),
    Action.REPLY: REPLY_FIELDS,
}
# The details of an event worth a line on the timeline, in this order.
_DETAILS = ("note", "reason", "days", "approved_by", "decision", "rating", "divert_to")


class BadField(XinfangError, ValueError):
    pass


def action_data(action: Action, form: dict[str, str]) -> dict[str, Any]:
    """The command's data from the action's form: its fields, blanks left out."""
    data: dict[str, Any] = {}
    for name in _FIELDS.get(action, ()):
        value = form.get(name, "").strip()
        if value:
            data[name] = value
    if "days" in data:
        if not data["days"].isdigit():
            raise BadField("days: a whole number of days")
        data["days"] = int(data["days"])
    return data


def case(shown: CaseView) -> dict[str, Any]:
    timeline = shown.timeline
    row = timeline.case
    return {
        "row": row,
        "petitioner": shown.petitioner,
        "may_act": shown.may_act,
        "offered": OFFERED.get(row["stage"], ()) if shown.may_act else (),
        "clocks": timeline.clocks,
        "ladders": [_ladder(c) for c in timeline.ladders],
        "events": [_event(e) for e in reversed(timeline.events)],
        "assigned_by": _assigned_by(timeline.events),
    }


def _ladder(clock: Any) -> dict[str, Any]:
    steps = [] if clock.plan is None else clock.plan.states()
    return {
        "clock": clock.view.name,
        "ladder": clock.ladder.id,
        "running": clock.plan is not None,
        "fast_lane": clock.fast_lane,
        "steps": [
            {
                "state": state,
                "at": step.at,
                "title": step.step.kind.chinese,
                "up": step.up,
                "roles": ", ".join(step.step.roles),
            }
            for step, state in steps
        ],
    }


def _event(event: dict[str, Any]) -> dict[str, Any]:
    data = event["data"]
    unit = data.get("org_unit")
    details = [(key, str(data[key])) for key in _DETAILS if data.get(key) not in (None, "")]
    if isinstance(unit, dict) and unit.get("name"):
        details.insert(0, ("org_unit", str(unit["name"])))
    return {
        "at": event["at"],
        "type": event["type"],
        "actor": data.get("actor"),
        "details": details,
    }


def _assigned_by(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The rule, or the person, that gave the case to its unit, and why."""
    for event in reversed(events):
        data = event["data"]
        if event["type"] == "assigned" and "rule" in data:
            rule = data.get("rule") or {}
            return {"rule": rule.get("id"), "reasons": list(rule.get("reasons") or ())}
        if event["type"] in ("assigned", "rerouted"):
            return {
                "actor": data.get("actor"),
                "reasons": [data["reason"]] if data.get("reason") else [],
            }
    return None


def board(found: OverdueBoard) -> dict[str, Any]:
    """The counts as a table: a row per district, a column per level escalated to."""
    by_district: dict[str, dict[str, int]] = defaultdict(dict)
    levels: set[str] = set()
    for district, level, count in found.counts:
        key = level or "none"
        by_district[district][key] = count
        levels.add(key)
    columns = [
        lv for lv in ("none", "village", "town", "district", "city", "province") if lv in levels
    ]
    rows = [
        {"district": d, "counts": by_district[d], "total": sum(by_district[d].values())}
        for d in sorted(by_district)
    ]
    return {"columns": columns, "rows": rows, "cases": found.rows, "as_of": found.as_of}
