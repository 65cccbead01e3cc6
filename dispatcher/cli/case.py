"""`xinfang case …`: department actions on a case, its timeline with every clock, and the
petitioner's query code issued at the counter (`issue-code`).

The same commands as those on exchange xinfang.commands, applied directly to the database:
one transaction each, refused with a reason when illegal (exit code 1).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click

from dispatcher.cli import common
from dispatcher.cli.case_list import list_cases
from dispatcher.cli.common import plural
from dispatcher.domain.clock import parse_timestamp
from dispatcher.domain.clocks import SHANGHAI
from dispatcher.domain.decisions import REPLY_FIELDS, Action, Command, Diversion
from dispatcher.domain.state import Rating

# Per action: the options it takes, as (name, help, required, choices).
Option = tuple[str, str, bool, tuple[str, ...] | None]
_REASON: Option = (
    "reason",
    "Why (recorded; told to the petitioner where the law says so).",
    True,
    None,
)
_UNIT: Option = ("unit", "Org unit id from the directory, e.g. 500103:housing.", True, None)
ACTIONS: dict[Action, tuple[str, list[Option]]] = {
    Action.ASSIGN: ("Assign a case in triage to an org unit.", [_UNIT, _REASON]),
    Action.ACCEPT: ("Accept the case (Art 23).", [("note", "A note.", False, None)]),
    Action.REJECT: (
        "Do not accept; divert to a legal channel (Art 31).",
        [
            _REASON,
            ("divert-to", "Where the matter belongs.", False, tuple(d.value for d in Diversion)),
            ("notice", "The notice to the petitioner (default: the statutory text).", False, None),
        ],
    ),
    Action.OBJECT: ("Object to a mis-routing within 5 working days (Art 23).", [_REASON]),
    Action.REROUTE: ("Agree with an objection and assign another org unit.", [_UNIT, _REASON]),
    Action.CONFIRM: ("Confirm the assignment after an objection.", [_REASON]),
    Action.EXTEND: (
        "Extend handling once, by at most 30 days (Art 34).",
        [
            ("days", "Days to add.", True, None),
            ("approved-by", "The head of the body who approved.", True, None),
            _REASON,
        ],
    ),
    Action.HEARING_START: ("Open a hearing (its time is not counted where the policy says).", []),
    Action.HEARING_END: ("Close the hearing.", []),
    Action.REPLY: (
        "Give the written reply (Art 32).",
        [
            (name.replace("_", "-"), f"The reply's {name.replace('_', ' ')}.", True, None)
            for name in REPLY_FIELDS
        ],
    ),
    Action.EVALUATE: (
        "Record the petitioner's evaluation.",
        [("rating", "The petitioner's rating.", True, tuple(r.value for r in Rating))],
    ),
    Action.REQUEST_REVIEW: (
        "Request review (复查) at the next-higher body (Art 35).",
        [("reason", "Why.", False, None)],
    ),
    Action.REQUEST_REREVIEW: (
        "Request re-review (复核) at the next-higher body (Art 36).",
        [("reason", "Why.", False, None)],
    ),
}


@click.group("case")
def case_group() -> None:
    """Act on a case, show its timeline and clocks, or issue its petitioner's query code."""


def _app() -> Any:
    return common.build_app(common.settings())


def _when(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = parse_timestamp(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an RFC 3339 time", param_hint="--at") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


def _action_command(action: Action, help_text: str, options: list[Option]) -> click.Command:
    def run(
        case_id: str, actor: str, at: str | None, command_id: str | None, **values: Any
    ) -> None:
        app = _app()
        try:
            data = _data(app, values)
            command = Command(action, case_id, actor, _when(at), data)
            # Refused here, the operator is told at once: nothing goes into the case's history.
            outcome = app.commands.handle(command, command_id, record_refusal=False)
            if not hasattr(outcome, "stage"):
                raise common.Failed(f"refused: {outcome.reason}")
            lines = _applied(outcome, app.commands.timeline(case_id))
        finally:
            app.close()
        click.echo("\n".join(lines))

    params: list[click.Parameter] = [
        click.Argument(["case_id"]),
        click.Option(["--actor"], default="operator", show_default=True, help="Who acts."),
        click.Option(["--at"], help="When it happened (RFC 3339); default now."),
        click.Option(["--command-id"], help="Idempotency key: the same id is applied once."),
    ]
    for name, help_, required, choices in options:
        kind: Any = click.Choice(choices) if choices else (int if name == "days" else str)
        params.append(click.Option([f"--{name}"], required=required, help=help_, type=kind))
    return click.Command(
        action.value.replace("_", "-"), callback=run, params=params, help=help_text
    )


def _applied(outcome: Any, timeline: Any) -> list[str]:
    """What the command did, and the clocks that now run, with their due times."""
    first = f"applied: case {outcome.case_id} is now {outcome.stage.value}"
    if outcome.repeated:
        first += " (this command id was applied before: nothing was done again)"
    if outcome.linked_case_id:
        first += f"; opened case {outcome.linked_case_id}"
    return [first] + [_clock_line(c) for c in timeline.clocks if c.is_open]


def _clock_line(clock: Any) -> str:
    if clock.due_at is None:
        due = "paused (a hearing)"
    else:
        due = f"{'open until' if clock.status == 'open' else 'due'} {_local(clock.due_at)}"
    extended = (
        f", extended by {plural(clock.extension_days, 'day')}" if clock.extension_days else ""
    )
    late = " — overdue" if clock.status == "overdue" else ""
    return f"  {clock.name} {due} (Asia/Shanghai){extended}{late}, {clock.article}"


def _data(app: Any, values: dict[str, Any]) -> dict[str, Any]:
    data = {key: value for key, value in values.items() if value is not None}
    if "unit" in data:
        unit = common.org_unit(app, data.pop("unit"))
        data["org_unit"] = {key: unit[key] for key in ("id", "name", "kind")}
    return data


for _action, (_help, _options) in ACTIONS.items():
    case_group.add_command(_action_command(_action, _help, _options))


@case_group.command("show")
@click.argument("case_id")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
def show(case_id: str, as_json: bool) -> None:
    """The case, its events and every clock: due, met or overdue, with its legal basis."""
    from dispatcher.domain.errors import CaseNotFound

    app = _app()
    try:
        timeline = app.commands.timeline(case_id)
    except CaseNotFound as error:
        raise common.Failed(str(error)) from None
    finally:
        app.close()
    click.echo(
        json.dumps(_as_json(timeline), ensure_ascii=False, indent=2)
        if as_json
        else "\n".join(_render(timeline))
    )


@case_group.command("issue-code")
@click.argument("case_id")
@click.option("--actor", default="operator", show_default=True, help="Who issues it.")
def issue_code(case_id: str, actor: str) -> None:
    """A new query code (查询码) for the petitioner of CASE_ID, who follows the case online with
    it: for a case that came without one (letter, visit, phone) or whose code was lost. It
    replaces any earlier code; only a salted hash of it is kept."""
    from dispatcher.domain.errors import CaseNotFound

    app = _app()
    try:
        code = app.petitioners.issue_code(case_id, actor)
    except CaseNotFound as error:
        raise common.Failed(str(error)) from None
    finally:
        app.close()
    # The code alone on stdout, as `xinfang keys add` prints a key: a script can take it.
    click.echo(code)
    click.echo(
        f"The query code of case {case_id} is shown only this once: give it to the petitioner "
        "now (only a hash of it is stored). It replaces any earlier code of the case.",
        err=True,
    )


_SHOWN = (
    "case_id",
    "kind",
    "parent_case_id",
    "source",
    "external_id",
    "channel",
    "region",
    "category",
    "title",
    "stage",
    "org_unit_id",
    "org_unit_name",
    "policy",
    "rule_id",
)


def _as_json(timeline: Any) -> dict[str, Any]:
    case = {key: timeline.case.get(key) for key in _SHOWN}  # never the petitioner
    return {
        "case": case | {"received_at": _iso(timeline.case["received_at"])},
        "assignment": _assignment(timeline.events),
        "events": [
            {"type": e["type"], "at": _iso(e["at"]), "data": e["data"]} for e in timeline.events
        ],
        "clocks": [
            {
                "name": c.name,
                "started_at": _iso(c.started_at),
                "due": _iso(c.due_at),
                "met_at": _iso(c.met_at),
                "status": c.status,
                "article": c.article,
                "basis": c.basis,
                "extension_days": c.extension_days,
            }
            for c in timeline.clocks
        ],
        "policy": timeline.policy.id,
        "ladders": [_ladder_json(c) for c in timeline.ladders],
    }


_ASSIGNING = ("assigned", "rerouted")


def _assignment(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    """How the case came to its current unit: the rules' routing, or a person's assignment
    from triage or reroute after an objection (the latest of them decides)."""
    last = next((e for e in reversed(events) if e["type"] in _ASSIGNING), None)
    if last is None:
        return None
    data = last["data"]
    rule = (data.get("rule") or {}).get("id") if "rule" in data else None
    if "rule" in data:
        return {"by": "rules", "rule": rule, "outcome": data.get("outcome"), "at": _iso(last["at"])}
    return {
        "by": data.get("actor") or "operator",
        "how": "rerouted" if last["type"] == "rerouted" else "assigned by hand",
        "reason": data.get("reason"),
        "at": _iso(last["at"]),
    }


def _assignment_text(assignment: dict[str, Any] | None) -> str:
    if assignment is None:
        return "not assigned yet"
    if assignment["by"] == "rules":
        rule = assignment["rule"]
        return f"routed by rule {rule}" if rule else f"routed to {assignment['outcome']} (no rule)"
    return (
        f"{assignment['how']} by {assignment['by']} on {_local(parse_timestamp(assignment['at']))}"
    )


def _ladder_steps(clock: Any) -> list[tuple[Any, str]]:
    """Each planned step with what became of it: taken, skipped, next or later."""
    return [] if clock.plan is None else clock.plan.states()


def _ladder_json(clock: Any) -> dict[str, Any]:
    return {
        "clock": clock.view.name,
        "ladder": clock.ladder.id,
        "fast_lane": clock.fast_lane,
        "running": clock.plan is not None,
        "steps": [
            {
                "key": step.key,
                "kind": step.step.kind.value,
                "title": step.step.kind.chinese,
                "at": _iso(step.at),
                "levels_up": step.up,
                "roles": list(step.step.roles),
                "state": state,
            }
            for step, state in _ladder_steps(clock)
        ],
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(SHANGHAI).isoformat() if moment else None


def _local(moment: datetime | None) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if moment else "—"


def _render(timeline: Any) -> list[str]:
    case = timeline.case
    lines = [
        f"case {case['case_id']} ({case['kind']}) — {case['stage']}",
        f"  {case['source']}/{case['external_id']}, {case['channel']}, region {case['region']}, "
        f"received {_local(case['received_at'])}",
        f"  {case['title']}",
        f"  handled by {case['org_unit_name'] or '—'} ({case['org_unit_id'] or '—'}), "
        f"{_assignment_text(_assignment(timeline.events))}, policy {timeline.policy.id}",
    ]
    if case.get("parent_case_id"):
        lines.append(f"  opened from case {case['parent_case_id']}")
    lines += ["", "clocks:"]
    for c in timeline.clocks:
        lines.append(
            f"  {c.name:<17} {c.status:<8} due {_local(c.due_at):<16} "
            f"met {_local(c.met_at):<16} {c.article}: {c.basis}"
        )
    lines += _ladder_lines(timeline.ladders)
    lines += ["", "events:"]
    for e in timeline.events:
        lines.append(f"  {_local(e['at'])}  {e['type']:<20} {_summary(e['data'])}")
    return lines


def _ladder_lines(ladders: list[Any]) -> list[str]:
    if not ladders:
        return []
    lines = ["", "escalation:"]
    for clock in ladders:
        lane = ", fast lane" if clock.fast_lane else ""
        if clock.plan is None:
            lines.append(f"  {clock.view.name:<17} ladder {clock.ladder.id}{lane}: not running")
            continue
        lines.append(f"  {clock.view.name:<17} ladder {clock.ladder.id}{lane}")
        for step, state in _ladder_steps(clock):
            roles = ", ".join(step.step.roles)
            lines.append(
                f"    {state:<8} {_local(step.at):<16} {step.key:<14} {step.step.kind.chinese}"
                f" (+{step.up} level{'s' if step.up != 1 else ''}: {roles})"
            )
    return lines


def _summary(data: dict[str, Any]) -> str:
    keys = (
        "actor",
        "org_unit",
        "rating",
        "days",
        "reason",
        "decision",
        "divert_to",
        "linked_case_id",
        "final_case_id",
        "action",
        "step",
        "level",
        "last_step",
        "replaced",
    )
    parts = []
    for key in keys:
        value = data.get(key)
        if value:
            shown = value.get("name", value.get("id")) if isinstance(value, dict) else value
            parts.append(f"{key}={shown}")
    return ", ".join(parts)


case_group.add_command(list_cases)
