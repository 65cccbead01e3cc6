"""`xinfang rules …`: check, explain, test and replay rule sets without touching any case."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from rules import (
    Decision,
    RuleFileError,
    RuleSet,
)
from rules.scoring import TRIAGE, Score, score

FilePath = click.Path(exists=True, dir_okay=False, path_type=Path)
RulesPath = click.Path(exists=True, path_type=Path)


class _Problems(click.ClickException):
    """Rule or directory files that cannot be used: every problem, one per line, exit 1."""

    def __init__(self, error: RuleFileError) -> None:
        super().__init__(f"{len(error.problems)} problem(s)")
        self.problems = error.problems

    def show(self, file: Any = None) -> None:
        for problem in self.problems:
            click.echo(problem)
        click.echo(f"xinfang: {len(self.problems)} problem(s) in rule or directory files", err=True)


def _env_paths() -> tuple[Path | None, Path | None]:
    from dispatcher.bootstrap.settings import Settings, SettingsError

    try:
        settings = Settings.from_env()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    return settings.rules_path, settings.directory_path


def load(rules: Path | None, directory: Path | None) -> RuleSet:
    """The rule set from the options, else XINFANG_RULES / XINFANG_DIRECTORY, else bundled."""
    from dispatcher.adapters.files.rules import load_ruleset

    env_rules, env_directory = _env_paths()
    try:
        return load_ruleset(rules or env_rules, directory or env_directory)
    except RuleFileError as error:
        raise _Problems(error) from None


_directory_option = click.option(
    "--directory", type=FilePath, help="Org directory YAML (default: XINFANG_DIRECTORY or bundled)."
)


@click.group("rules")
def rules_group() -> None:
    """Check, explain, test and replay routing rules."""


@rules_group.command("check")
@click.argument("path", required=False, type=RulesPath)
@_directory_option
def check(path: Path | None, directory: Path | None) -> None:
    """Validate a rule file or folder (default: XINFANG_RULES or the bundled rules).

    Prints `ok: N rules, version V`, or every problem (file, rule, field) and exits 1.
    """
    ruleset = load(path, directory)
    click.echo(f"ok: {len(ruleset)} rules, version {ruleset.version}")


@rules_group.command("explain")
@click.argument("case_file", metavar="CASE.json", type=FilePath)
@click.option("--rules", "rules_path", type=RulesPath, help="Rule file or folder.")
@_directory_option
def explain(case_file: Path, rules_path: Path | None, directory: Path | None) -> None:
    """Decide one case and show why, rule by rule."""
    case = _read_case(case_file)
    ruleset = load(rules_path, directory)
    decision = ruleset.decide(case)
    click.echo(f"rules {ruleset.version} ({len(ruleset)} rules), first match wins")
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
    try:
        case = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise click.BadParameter(
            f"{path}: not readable JSON ({error})", param_hint="CASE.json"
        ) from None
    if not isinstance(case, dict):
        raise click.BadParameter(f"{path}: not a JSON object", param_hint="CASE.json")
    return case


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
        click.echo(f"skipped {len(bad)} line(s) that are not JSON objects: {shown}", err=True)


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

    Reads only: the cases already routed, oldest first; nothing is written or re-routed.
    """
    ruleset = load(rules_path, directory)
    per_change: Counter[str] = Counter()
    replayed = 0
    for row in _stored_cases(limit):
        replayed += 1
        decision = ruleset.decide(_facts(row))
        if decision.org_unit.id == row["org_unit_id"] and decision.outcome == row["stage"]:
            continue
        old = f"{row['org_unit_id']} ({row['rule_id'] or row['stage']})"
        new = f"{decision.org_unit.id} ({decision.rule_id or decision.outcome})"
        click.echo(f"{row['case_id']}: {old} → {new}")
        per_change[f"{row['org_unit_id']} → {decision.org_unit.id}"] += 1
    click.echo(
        f"replayed {replayed} routed case(s) with {ruleset.version}: "
        f"{per_change.total()} would be routed differently"
    )
    for change, count in per_change.most_common():
        click.echo(f"  {count:6d}  {change}")


def _stored_cases(limit: int | None) -> Iterator[Any]:
    """Routed cases, oldest first, streamed in one read-only query."""
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from dispatcher.adapters.db.tables import cases
    from dispatcher.bootstrap.app import make_engine
    from dispatcher.bootstrap.settings import Settings

    engine = make_engine(Settings.from_env().database_url)
    query = (
        select(cases)
        .where(cases.c.org_unit_id.is_not(None))
        .order_by(cases.c.registered_at, cases.c.case_id)
        .limit(limit)
    )
    try:
        with engine.connect() as conn:
            yield from conn.execute(query).mappings()
    except SQLAlchemyError as error:
        where = engine.url.render_as_string(hide_password=True)
        raise click.ClickException(
            f"cannot read cases from {where}: {type(error).__name__} "
            "(is the schema there? `xinfang db upgrade`)"
        ) from None
    finally:
        engine.dispose()


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
