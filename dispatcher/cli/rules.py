"""`xinfang rules …`: check, explain, test and replay rule sets without touching any case.

Errors follow the rule of dispatcher.cli: one line `xinfang: error: …` on stderr, exit 2 for a
command line that is not understood and 1 for one that was refused or failed. `rules check`,
whose purpose is to report problems, prints its list of problems on stdout before that line.

A rule path is a file or a folder. A folder is a rule set: its *.yaml files in name order,
except its own org directory (`directory.yaml`, used unless --directory is given) and the CSV
import mapping of its source (`mapping.yaml`), as in examples/nyc311.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from dispatcher.cli import common
from dispatcher.cli.common import plural
from rules import Decision, RuleFileError, RuleSet, folder_directory
from rules.loader import FOLDER_DIRECTORY
from rules.scoring import TRIAGE, Score, score

FilePath = click.Path(exists=True, dir_okay=False, path_type=Path)
RulesPath = click.Path(exists=True, path_type=Path)


class RuleSetProblems(common.Failed):
    """Rule or directory files that cannot be used: every problem, then one summary line."""

    def __init__(self, problems: Sequence[str], report: bool, hint: str | None) -> None:
        summary = f"{plural(len(problems), 'problem')} in the rule and directory files"
        super().__init__(summary + (f"; {hint}" if hint else ""))
        self.problems = problems
        self.report = report  # `rules check`: the problems are its output, on stdout

    def show(self, file: Any = None) -> None:
        for problem in self.problems:
            if self.report:
                click.echo(problem)
            else:
                click.echo(f"{common.ERROR_PREFIX}{problem}", err=True)
        super().show(file)


def load(rules_path: Path | None, directory_path: Path | None, report: bool = False) -> RuleSet:
    """The rule set of the command line, else of XINFANG_RULES, else the bundled one.

    Its directory: --directory, else XINFANG_DIRECTORY for XINFANG_RULES (as at start-up),
    else the rule-set folder's own directory.yaml, else the bundled one. A folder named on the
    command line has its own directory.yaml before XINFANG_DIRECTORY, which belongs to the
    deployment's rules, not to it.
    """
    from dispatcher.adapters.files.rules import load_ruleset

    env = common.settings()
    if rules_path is None:
        rules_path, directory_path = env.rules_path, directory_path or env.directory_path
    else:
        directory_path = directory_path or folder_directory(rules_path) or env.directory_path
    try:
        return load_ruleset(rules_path, directory_path)
    except RuleFileError as error:
        hint = _directory_hint(rules_path, directory_path)
        raise RuleSetProblems(error.problems, report, hint) from None


def _directory_hint(rules_path: Path | None, directory_path: Path | None) -> str | None:
    """A rule file checked against the bundled directory beside a folder's own directory."""
    if rules_path is None or directory_path is not None or not rules_path.is_file():
        return None
    beside = rules_path.parent / FOLDER_DIRECTORY
    if not beside.is_file():
        return None
    return (
        f"{beside} is beside {rules_path.name}: give the folder {rules_path.parent} instead, "
        f"or --directory {beside}"
    )


_directory_option = click.option(
    "--directory",
    type=FilePath,
    help="Org directory YAML (default: the rule folder's directory.yaml, XINFANG_DIRECTORY "
    "or the bundled one).",
)


@click.group("rules")
def rules_group() -> None:
    """Check, explain, test and replay routing rules.

    PATH and --rules take a rule file or a folder. A folder is a rule set: its *.yaml files in
    name order, checked against its own directory.yaml when it has one; its directory.yaml and
    mapping.yaml (the CSV import mapping) are not rule files.
    """


@rules_group.command("check")
@click.argument("path", required=False, type=RulesPath)
@_directory_option
def check(path: Path | None, directory: Path | None) -> None:
    """Validate a rule file or folder (default: XINFANG_RULES or the bundled rules).

    Prints `ok: N rules, version V`, or every problem (file, rule, field) and exits 1.
    """
    ruleset = load(path, directory, report=True)
    click.echo(f"ok: {plural(len(ruleset), 'rule')}, version {ruleset.version}")


@rules_group.command("explain")
@click.argument("case_file", metavar="CASE.json", type=FilePath)
@click.option("--rules", "rules_path", type=RulesPath, help="Rule file or folder.")
@_directory_option
def explain(case_file: Path, rules_path: Path | None, directory: Path | None) -> None:
    """Decide one contract-v1 case and show why, rule by rule.

    A file that is not a valid contract-v1 case is refused with the contract's reasons
    (exit 1): the intake would never route it.
    """
    case = _read_case(case_file)
    ruleset = load(rules_path, directory)
    decision = ruleset.decide(case)
    click.echo(f"rules {ruleset.version} ({plural(len(ruleset), 'rule')}), first match wins")
    for trace in ruleset.explain(case):
        winner = trace.matched and trace.rule_id == decision.rule_id
        mark = "✓" if trace.matched else "✗"
        why = "; ".join(trace.reasons) if trace.matched else trace.failed or "(no conditions)"
        suffix = (
            "  ← decides"
            if winner
            else ("  (matches, but an earlier rule decided)" if trace.matched else "")
        )
        click.echo(f"  {mark} {trace.rule_id} [{trace.source}]: {why}{suffix}")
    for line in render_decision(decision):
        click.echo(line)


def _read_case(path: Path) -> dict[str, Any]:
    """The case of a file, checked as the intake checks a message body."""
    from dispatcher.contract.intake import Invalid, parse

    try:
        body = path.read_bytes()
    except OSError as error:
        raise common.Failed(f"{path}: cannot read it: {error.strerror}") from None
    verdict = parse(body)
    if isinstance(verdict, Invalid):
        raise common.Failed(f"{path} is not a valid contract-v1 case: {verdict.reason}")
    return verdict.case


def render_decision(decision: Decision) -> list[str]:
    unit = decision.org_unit
    lines = [
        f"decision: {decision.outcome} → {unit.name} ({unit.id})"
        + (f" by rule {decision.rule_id}" if decision.rule_id else "")
    ]
    details = {
        "co-handlers": ", ".join(f"{u.name} ({u.id})" for u in decision.co_handlers),
        "priority": decision.priority,
        "policy": decision.policy or "",
        "ladder": decision.ladder or "",
        "tags": ", ".join(decision.tags),
        "fast lane": "yes" if decision.fast_lane else "",
        "diverted to": decision.divert.channel if decision.divert else "",
    }
    lines += [f"  {name}: {value}" for name, value in details.items() if value]
    lines += ["reasons:"] + [f"  - {reason}" for reason in decision.reasons]
    if decision.warnings:
        lines += ["warnings:"] + [f"  - {warning}" for warning in decision.warnings]
    return lines


@rules_group.command("test")
@click.option("--rules", "rules_path", type=RulesPath, required=True, help="Rule file or folder.")
@click.option(
    "--cases",
    "cases_file",
    type=FilePath,
    required=True,
    help="Contract-v1 cases, one JSON object a line.",
)
@click.option(
    "--expect",
    required=True,
    metavar="FIELD",
    help="Dotted path in each case of the expected unit id, kind or name.",
)
@_directory_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--top",
    default=15,
    show_default=True,
    type=click.IntRange(min=1),
    help="Rows of the confusion table and misrouted cases to print.",
)
def test(
    rules_path: Path, cases_file: Path, expect: str, directory: Path | None, as_json: bool, top: int
) -> None:
    """Route cases with known answers; print accuracy, confusion and the misrouted.

    The expected value matches the decided unit when it equals the unit's id, else its kind,
    else the id's last part after ":", else its name (case-insensitive). Triage that does not
    match counts as triage, not as misrouted.
    """
    ruleset = load(rules_path, directory)
    bad: list[int] = []
    result = score(ruleset, _jsonl(cases_file, bad), expect)
    if as_json:
        report = result.as_dict() | {"ruleset_version": ruleset.version, "invalid_lines": bad}
        click.echo(json.dumps(report, ensure_ascii=False))
        return
    for line in render_score(result, top):
        click.echo(line)
    if bad:
        shown = ", ".join(map(str, bad[:20])) + (" …" if len(bad) > 20 else "")
        what = "that is not a JSON object" if len(bad) == 1 else "that are not JSON objects"
        click.echo(f"skipped {plural(len(bad), 'line')} {what}: {shown}", err=True)


def _jsonl(path: Path, bad: list[int]) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8-sig") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                case = json.loads(line)
            except ValueError:
                case = None
            if isinstance(case, dict):
                yield case
            else:
                bad.append(number)


def render_score(result: Score, top: int) -> list[str]:
    lines = [
        f"accuracy {result.accuracy:.1%}: {result.correct} correct of {result.total}, "
        f"{result.triage} to triage, {len(result.misrouted)} misrouted"
        + (f" ({result.skipped} without an expected value skipped)" if result.skipped else ""),
        "",
        f"confusion (top {top}: expected → got, count; {TRIAGE} = sent to triage):",
    ]
    for (expected, got), count in result.confusion.most_common(top):
        lines.append(f"  {count:6d}  {expected} → {'✓' if got == expected else got}")
    if result.misrouted:
        lines += ["", f"misrouted (first {min(top, len(result.misrouted))}):"]
        lines += [
            f"  {m.external_id}: expected {m.expected}, got {m.got} (rule {m.rule})"
            for m in result.misrouted[:top]
        ]
    return lines


@dataclass(frozen=True)
class Routing:
    """Where a case is sent: its unit, the outcome (assigned, triage, diverted) and the rule."""

    unit: str
    outcome: str
    rule: str | None

    @classmethod
    def of(cls, decision: Decision) -> Routing:
        return cls(decision.org_unit.id, decision.outcome, decision.rule_id)

    @classmethod
    def stored(cls, event: Mapping[str, Any]) -> Routing:
        """From the data of the case's routing event (its first `assigned` event)."""
        return cls(event["org_unit"]["id"], event.get("outcome", "assigned"), event["rule"]["id"])

    def place(self) -> str:
        """The unit, and the outcome unless it is a plain assignment."""
        return self.unit if self.outcome == "assigned" else f"{self.unit} ({self.outcome})"

    def label(self) -> str:
        if self.rule is None:
            return f"{self.unit} ({self.outcome})"
        if self.outcome == "assigned":
            return f"{self.unit} ({self.rule})"
        return f"{self.unit} ({self.outcome} by {self.rule})"


@dataclass
class Replayed:
    """What a replay found: the moves of changed cases, and rule changes that move nothing."""

    cases: int = 0
    moves: Counter[str] = field(default_factory=Counter)  # "old place → new place"
    rule_only: Counter[str] = field(default_factory=Counter)  # "old rule → new rule"

    def compare(self, old: Routing, new: Routing) -> bool:
        """Count one case; True when it would be routed differently (unit or outcome)."""
        self.cases += 1
        if (old.unit, old.outcome) != (new.unit, new.outcome):
            self.moves[f"{old.place()} → {new.place()}"] += 1
            return True
        if old.rule != new.rule:
            self.rule_only[f"{old.rule or '(no rule)'} → {new.rule or '(no rule)'}"] += 1
        return False

    def summary(self, version: str) -> list[str]:
        lines = [
            f"replayed {plural(self.cases, 'routed case')} with {version}: "
            f"{self.moves.total():,} would be routed differently"
            + (
                f", {self.rule_only.total():,} to the same unit by another rule"
                if self.rule_only
                else ""
            )
        ]
        lines += [f"  {count:6d}  {move}" for move, count in self.moves.most_common()]
        if self.rule_only:
            lines.append("same unit and outcome, another rule:")
            lines += [f"  {count:6d}  {change}" for change, count in self.rule_only.most_common()]
        return lines


@rules_group.command("replay")
@click.option(
    "--rules",
    "rules_path",
    type=RulesPath,
    help="The new rule file or folder (default: XINFANG_RULES or bundled).",
)
@_directory_option
@click.option("--limit", type=click.IntRange(min=1), help="Replay at most N stored cases.")
def replay(rules_path: Path | None, directory: Path | None, limit: int | None) -> None:
    """Show which stored cases a rule set would route differently (XINFANG_DATABASE_URL).

    Each case the rules routed, oldest first, is decided again and compared with the decision
    stored when it was routed, not with where the case is now (a case forwarded from triage
    or rerouted since is no change). A case is listed when its unit or its outcome (assigned,
    triage, diverted) would differ; one that another rule would send to the same unit is only
    counted. Reads only: nothing is written or re-routed.
    """
    ruleset = load(rules_path, directory)
    replayed = Replayed()
    for case_id, facts, old in _routed_cases(common.settings().database_url, limit):
        new = Routing.of(ruleset.decide(facts))
        if replayed.compare(old, new):
            click.echo(f"{case_id}: {old.label()} → {new.label()}")
    for line in replayed.summary(ruleset.version):
        click.echo(line)


def _routed_cases(
    database_url: str, limit: int | None
) -> Iterator[tuple[str, dict[str, Any], Routing]]:
    """(case id, facts, stored routing) of the cases the rules routed, oldest first, streamed
    in one read-only query."""
    from sqlalchemy.exc import SQLAlchemyError

    from dispatcher.adapters.db.schema import SchemaOutOfDate
    from dispatcher.bootstrap.app import make_engine, require_database

    try:
        require_database(database_url)  # connecting would leave an empty SQLite file
        engine = make_engine(database_url)
    except (SchemaOutOfDate, SQLAlchemyError) as error:
        raise common.Failed(str(error).splitlines()[0]) from None
    try:
        with engine.connect() as conn:
            for row in conn.execute(_routed_query(limit)).mappings():
                if "rule" in row["routing"]:  # a routing decision, not a manual assignment
                    yield row["case_id"], _facts(row), Routing.stored(row["routing"])
    except SQLAlchemyError as error:
        where = engine.url.render_as_string(hide_password=True)
        raise common.Failed(
            f"cannot read cases from {where}: {type(error).__name__} "
            "(is the schema there? `xinfang db upgrade`)"
        ) from None
    finally:
        engine.dispose()


def _routed_query(limit: int | None) -> Any:
    """Original cases with the data of their first `assigned` event: the routing decision.
    Later `assigned` events are a person's forwarding from triage; the case row's unit follows
    those and reroutes, so it is not what the rules decided."""
    from sqlalchemy import func, select

    from dispatcher.adapters.db.tables import cases, events
    from dispatcher.domain.events import EventType
    from dispatcher.domain.stages import CaseKind

    earlier = events.alias("earlier")
    first_assigned = (
        select(func.min(earlier.c.id))
        .where(earlier.c.case_id == cases.c.case_id, earlier.c.type == EventType.ASSIGNED.value)
        .correlate(cases)
        .scalar_subquery()
    )
    return (
        select(cases, events.c.data.label("routing"))
        .select_from(cases)
        .join(events, events.c.case_id == cases.c.case_id)  # by ix_events_case_id
        .where(events.c.id == first_assigned, cases.c.kind == CaseKind.ORIGINAL.value)
        .order_by(cases.c.registered_at, cases.c.case_id)
        .limit(limit)
    )


def _facts(row: Any) -> dict[str, Any]:
    """What Case.facts() gives the rules, from a stored row (no petitioner identity)."""
    names = (
        "source",
        "channel",
        "received_at",
        "region",
        "category",
        "title",
        "content",
        "people_count",
        "urgent",
        "extra",
    )
    return {name: row[name] for name in names} | {"petitioner_present": bool(row["petitioner"])}
