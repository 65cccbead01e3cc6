"""Escalation ladders as data: one YAML file per policy, beside the policies.

The bundled files are ``dispatcher/policies/ladders/<policy>.yaml``; ``XINFANG_LADDERS`` names
a folder whose files replace them, policy by policy. A file is validated when loaded, and
every error names the file, the ladder, the step and the field, so that a bad file stops
start-up with a message an editor can act on. See docs/escalation.md for the format.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import time
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dispatcher.domain.clocks import Unit
from dispatcher.domain.errors import XinfangError
from dispatcher.domain.ladders import (
    Anchor,
    FastLane,
    Hours,
    Ladder,
    Ladders,
    Offset,
    Repeat,
    Step,
    StepKind,
    Where,
)
from dispatcher.domain.policy import DEFAULT_POLICY, Policy
from dispatcher.domain.timeline import SOURCE_CLOCK
from rules import OrgDirectory, RuleSet
from rules.regions import LEVELS

LADDER_DIR = Path(str(resources.files("dispatcher") / "policies" / "ladders"))
UNIT_ROLES = frozenset({"handler", "handler_head"})  # resolved on the handling unit
# The roles of the bundled directory; a directory may list nobody in some of them (nobody is
# told then), but a role that is neither these nor the directory's own is a typo.
STANDARD_ROLES = frozenset({"head", "deputy_head", "petition_chief", "contact"})

Slug = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
UnitName = Literal["calendar_days", "working_days"]
# ESCALATED_CLOCKS: the duty clocks, and a source's own due date.
EscalatedClock = Literal["forwarding", "acceptance", "handling", "review", "rereview", "source_due"]


class LadderError(XinfangError, ValueError):
    """A ladder file that cannot be used; the message names file, ladder, step and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Days(_Strict):
    days: int = Field(ge=0, le=365)
    unit: UnitName = "calendar_days"


class _Step(_Strict):
    id: str = Slug
    kind: Literal["warning", "reminder", "supervision", "listed"]
    before: _Days | None = None
    after: _Days | None = None
    at_fraction: float | None = Field(default=None, gt=0, lt=1)
    roles: list[str] = Field(min_length=1)
    region: Literal["handler", "parent", "city"] = "handler"
    hours: Literal["any", "working_days", "working_hours"] = "any"

    @model_validator(mode="after")
    def _one_time(self) -> _Step:
        given = [n for n in ("before", "after", "at_fraction") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of before, after, at_fraction")
        if self.before is not None and self.before.days < 1:
            raise ValueError("before.days must be at least 1 (use after: {days: 0})")
        return self


class _Repeat(_Strict):
    from_: str = Field(alias="from")
    times: int = Field(ge=1, le=10)
    every: _Days


class _FastLane(_Strict):
    start: str
    people: int = Field(default=5, ge=2)


class _Ladder(_Strict):
    title: str = Field(min_length=1)
    steps: list[_Step] = Field(min_length=1)
    repeat: _Repeat | None = None
    fast_lane: _FastLane | None = None


class _Hours(_Strict):
    opens: str = Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    closes: str = Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


class _File(_Strict):
    policy: str = Slug
    working_hours: _Hours = Field(default_factory=lambda: _Hours(opens="09:00", closes="17:30"))
    defaults: dict[EscalatedClock, str]
    ladders: dict[str, Any] = Field(min_length=1)  # each validated on its own, to name it


# -- reading -------------------------------------------------------------------------------


def parse_ladders(raw: Any, *, origin: str, digest: str = "") -> Ladders:
    """Validate parsed YAML into the ladders of one policy; errors name `origin`."""
    try:
        top = _File.model_validate(raw)
    except ValidationError as error:
        raise LadderError(f"{origin}: {_describe(error)}") from None
    ladders = {lid: _ladder(lid, body, origin) for lid, body in top.ladders.items()}
    for clock, lid in top.defaults.items():
        if lid not in ladders:
            raise LadderError(
                f"{origin}: defaults.{clock}: no ladder {lid!r}; the file has {', '.join(ladders)}"
            )
    opens, closes = _clock_time(top.working_hours.opens), _clock_time(top.working_hours.closes)
    if closes <= opens:
        raise LadderError(f"{origin}: working_hours: closes must be after opens")
    return Ladders(
        top.policy,
        MappingProxyType(ladders),
        MappingProxyType({str(clock): lid for clock, lid in top.defaults.items()}),
        (opens, closes),
        origin,
        digest,
    )


def _ladder(ladder_id: str, body: Any, origin: str) -> Ladder:
    where = f"{origin}: ladder {ladder_id!r}"
    try:
        model = _Ladder.model_validate(body)
    except ValidationError as error:
        raise LadderError(f"{where}{_step_of(error, body)}: {_describe(error)}") from None
    steps = tuple(_step(s) for s in model.steps)
    _check_steps(steps, where)
    repeat = fast = None
    if model.repeat is not None:
        _require_step(steps, model.repeat.from_, f"{where}: repeat.from")
        every = model.repeat.every
        if every.days < 1:
            raise LadderError(f"{where}: repeat.every.days: must be at least 1")
        repeat = Repeat(model.repeat.from_, model.repeat.times, every.days, Unit(every.unit))
    if model.fast_lane is not None:
        _require_step(steps, model.fast_lane.start, f"{where}: fast_lane.start")
        fast = FastLane(model.fast_lane.start, model.fast_lane.people)
    return Ladder(ladder_id, model.title, steps, repeat, fast)


def _step(model: _Step) -> Step:
    if model.at_fraction is not None:
        offset = Offset(Anchor.FRACTION, fraction=model.at_fraction)
    else:
        anchor, days = (
            (Anchor.BEFORE, model.before) if model.before else (Anchor.AFTER, model.after)
        )
        assert days is not None
        offset = Offset(anchor, days.days, Unit(days.unit))
    return Step(
        model.id,
        StepKind(model.kind),
        offset,
        tuple(model.roles),
        Where(model.region),
        Hours(model.hours),
    )


def _check_steps(steps: tuple[Step, ...], where: str) -> None:
    """Ids unique; the steps before the deadline first, then those after it in the order of
    their distance: a ladder is read top to bottom as it happens."""
    seen: set[str] = set()
    last_after: dict[Unit, int] = {}
    after_seen = False
    for n, step in enumerate(steps):
        here = f"{where}, step {n} ({step.id!r})"
        if step.id in seen:
            raise LadderError(f"{here}: id: used twice in the ladder")
        seen.add(step.id)
        if step.offset.anchor is Anchor.AFTER:
            after_seen = True
            previous = last_after.get(step.offset.unit)
            if previous is not None and step.offset.days < previous:
                raise LadderError(f"{here}: after.days: earlier than the step before it")
            last_after[step.offset.unit] = step.offset.days
        elif after_seen:
            raise LadderError(f"{here}: a step before the deadline follows one after it")


def _require_step(steps: tuple[Step, ...], step_id: str, where: str) -> None:
    if step_id not in {s.id for s in steps}:
        raise LadderError(f"{where}: no step {step_id!r}; steps: {', '.join(s.id for s in steps)}")


def _step_of(error: ValidationError, body: Any) -> str:
    loc = error.errors()[0]["loc"]
    if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
        steps = body.get("steps") if isinstance(body, dict) else None
        item = steps[loc[1]] if isinstance(steps, list) and loc[1] < len(steps) else None
        name = item.get("id") if isinstance(item, dict) else None
        return f", step {loc[1]}" + (f" ({name!r})" if isinstance(name, str) else "")
    return ""


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    loc = [str(part) for part in first["loc"]]
    if len(loc) >= 2 and loc[0] == "steps":
        loc = loc[2:]  # the step is already named
    field = ".".join(loc) or "(top level)"
    return f"{field}: {first['msg'].removeprefix('Value error, ')}"


def _clock_time(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def read_ladders(path: Path) -> Ladders:
    try:
        data = path.read_bytes()
        raw = yaml.safe_load(data.decode("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise LadderError(f"{path}: cannot read ladders: {error}") from None
    return parse_ladders(raw, origin=str(path), digest=hashlib.sha256(data).hexdigest())


# -- which file for which policy -----------------------------------------------------------


def ladder_source(override: Path | None) -> Callable[[str], Ladders | None]:
    """Ladders by policy id: the override folder's file if it has one, else the bundled one,
    else None (a policy without ladders escalates nothing). Each file is read once."""
    cache: dict[str, Ladders | None] = {}

    def ladders_of(policy_id: str) -> Ladders | None:
        if policy_id not in cache:
            cache[policy_id] = _find(policy_id, override)
        return cache[policy_id]

    return ladders_of


def _find(policy_id: str, override: Path | None) -> Ladders | None:
    for folder in (override, LADDER_DIR):
        if folder is None:
            continue
        path = folder / f"{policy_id}.yaml"
        if path.is_file():
            ladders = read_ladders(path)
            if ladders.policy != policy_id:
                raise LadderError(f"{path}: policy: {ladders.policy!r} differs from the file name")
            return ladders
    return None


def check_ladders(
    ladders: Ladders, policy: Policy, known_roles: Iterable[str], chosen: Iterable[str] = ()
) -> None:
    """What a file cannot say alone: the defaults' clocks exist in the policy, every role is
    one the directory knows, and every ladder a rule chooses exists."""
    origin = ladders.source
    for clock in ladders.defaults:
        if clock not in policy.clocks and clock != SOURCE_CLOCK:
            raise LadderError(f"{origin}: defaults.{clock}: policy {policy.id!r} has no such clock")
    roles = UNIT_ROLES | STANDARD_ROLES | set(known_roles)
    for ladder in ladders.ladders.values():
        for n, step in enumerate(ladder.steps):
            unknown = [r for r in step.roles if r not in roles]
            if unknown:
                raise LadderError(
                    f"{origin}: ladder {ladder.id!r}, step {n} ({step.id!r}): roles: "
                    f"{', '.join(unknown)} not in the org directory (known: "
                    f"{', '.join(sorted(roles))})"
                )
    for ladder_id in chosen:
        if ladder_id not in ladders.ladders:
            raise LadderError(
                f"a rule chooses ladder {ladder_id!r}, which {origin} does not define "
                f"(it has {', '.join(ladders.ladders)})"
            )


def check_ruleset_ladders(
    ruleset: RuleSet,
    ladders_of: Callable[[str], Ladders | None],
    load_policy: Callable[[str], Policy],
    policies: Iterable[str],
) -> tuple[Ladders, ...]:
    """Load and check the ladders of every policy in use (a bad file stops start-up) and of
    every ladder a rule chooses (a typo names the rule). Returns the files found."""
    used = set(policies) | {r.action.policy for r in ruleset.rules if r.action.policy}
    roles = directory_roles(ruleset.directory)
    found: list[Ladders] = []
    for policy_id in sorted(used):
        ladders = ladders_of(policy_id)
        if ladders is None:
            continue
        chosen = {
            r.action.ladder
            for r in ruleset.rules
            if r.action.ladder and (r.action.policy or DEFAULT_POLICY) == policy_id
        }
        check_ladders(ladders, load_policy(policy_id), roles, sorted(chosen))
        found.append(ladders)
    return tuple(found)


def directory_roles(directory: OrgDirectory) -> set[str]:
    return {
        leader.role
        for level in LEVELS
        for code in directory.regions_at(level)
        for leader in directory.leaders(code)
    }
