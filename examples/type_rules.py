"""Build and score type -> agency routing rules for the 311 examples (nyc311, baltimore311).

A 311 request type ("HEAT/HOT WATER", "SW-Bulk Scheduled") is routed to the agency that handled
most requests of that type, but only when the type was seen at least `min_count` times and that
agency handled at least `min_share` of them. Every other type goes to triage: an unknown type
must reach a person who reads it, not a wrong agency.

    # write rules from imported cases (optionally only those received before a date)
    python examples/type_rules.py build --cases nyc.jsonl --type extra.complaint_type \
        --directory examples/nyc311/directory.yaml --title-key > examples/nyc311/rules.yaml
    # score a rule set on imported cases, by the same measures as `xinfang rules test`
    python examples/type_rules.py score --cases nyc.jsonl --rules examples/nyc311/rules.yaml \
        --directory examples/nyc311/directory.yaml

Rules match the type as "[<type>]" in the title, which the shipped mappings put there.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Choice:
    type: str
    agency: str | None  # None: no clear majority, or too rare: triage
    count: int
    share: float


def field_of(case: dict[str, Any], dotted: str) -> Any:
    value: Any = case
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def read_cases(path: Path, before: str | None = None, since: str | None = None) -> Iterator[dict]:
    """Cases of a JSONL file, optionally only those with before > received_at ≥ since (ISO)."""
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            case = json.loads(line)
            received = case["received_at"]
            if (before and received >= before) or (since and received < since):
                continue
            yield case


def choose(
    cases: Iterable[dict], type_field: str, truth: str, min_count: int, min_share: float
) -> list[Choice]:
    """One choice per type seen, most frequent type first."""
    seen: dict[str, Counter[str]] = defaultdict(Counter)
    for case in cases:
        kind, agency = field_of(case, type_field), field_of(case, truth)
        if isinstance(kind, str) and isinstance(agency, str):
            seen[kind][agency] += 1
    choices = []
    for kind, agencies in seen.items():
        agency, top = agencies.most_common(1)[0]
        count = sum(agencies.values())
        clear = count >= min_count and top / count >= min_share
        choices.append(Choice(kind, agency if clear else None, count, top / count))
    return sorted(choices, key=lambda c: (-c.count, c.type))


def unit_of(agency: str, units: list[dict[str, str]]) -> str | None:
    """The named unit whose id ends in ":<agency>" or whose name is the agency."""
    for unit in units:
        if unit["id"].split(":", 1)[-1] == agency or unit["name"] == agency:
            return unit["id"]
    return None


def rules_document(choices: list[Choice], units: list[dict[str, str]], args: Any) -> dict:
    by_unit: dict[str, list[Choice]] = defaultdict(list)
    for choice in choices:
        unit = unit_of(choice.agency, units) if choice.agency else None
        if unit is not None:
            by_unit[unit].append(choice)
    ordered = sorted(by_unit.items(), key=lambda item: -sum(c.count for c in item[1]))
    rules = [_rule(unit, picked, args) for unit, picked in ordered]
    return {"version": args.version, "rules": rules}


def _rule(unit: str, picked: list[Choice], args: Any) -> dict[str, Any]:
    slug = "".join(ch if ch.isalnum() else "-" for ch in unit.split(":", 1)[-1].lower())
    slug = "-".join(part for part in slug.split("-") if part)
    words = sorted(f"[{choice.type}]" for choice in picked)
    seen = sum(choice.count for choice in picked)
    return {
        "id": f"{args.prefix}-{slug}",
        "owner": args.owner,
        "changed": date.fromisoformat(args.changed),
        "note": f"{len(picked)} request types, {seen} requests in the build sample",
        "when": {"keywords": {"any": words}},
        "assign": {"unit": unit},
    }


@dataclass
class Score:
    total: int = 0
    correct: int = 0
    triage: int = 0
    misrouted: int = 0
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        routable = self.total - self.triage
        return {
            "total": self.total,
            "correct": self.correct,
            "triage": self.triage,
            "misrouted": self.misrouted,
            "accuracy": _ratio(self.correct, self.total),
            "triage_share": _ratio(self.triage, self.total),
            "routed_accuracy": _ratio(self.correct, routable),
            "wrong_agency_rate": _ratio(self.misrouted, self.total),
            "confusion": [
                {"expected": e, "got": g, "count": n}
                for (e, g), n in self.confusion.most_common(10)
            ],
        }


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def score(cases: Iterable[dict], ruleset: Any, truth: str) -> Score:
    """Correct: the decided unit's id ends in ":<truth>" or its name is the truth."""
    result = Score()
    for case in cases:
        expected = str(field_of(case, truth))
        decision = ruleset.decide(case)
        result.total += 1
        unit = decision.org_unit
        if decision.outcome == "triage":
            result.triage += 1
        elif expected in (unit.id.split(":", 1)[-1], unit.name, unit.id):
            result.correct += 1
        else:
            result.misrouted += 1
            result.confusion[(expected, unit.id)] += 1
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("build", "score"):
        sub = commands.add_parser(name)
        sub.add_argument("--cases", type=Path, required=True, help="imported JSONL")
        sub.add_argument("--directory", type=Path, required=True)
        sub.add_argument("--truth", default="extra.agency")
        sub.add_argument("--before", help="only cases received before this ISO time")
        sub.add_argument("--since", help="only cases received at or after this ISO time")
    build = commands.choices["build"]
    build.add_argument("--type", dest="type_field", required=True)
    build.add_argument("--min-count", type=int, default=2)
    build.add_argument("--min-share", type=float, default=0.8)
    build.add_argument("--prefix", default="type")
    build.add_argument("--owner", default="311 routing team")
    build.add_argument("--changed", default=date.today().isoformat())
    build.add_argument("--version", default="types")
    commands.choices["score"].add_argument("--rules", type=Path, required=True)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    cases = read_cases(args.cases, args.before, args.since)
    if args.command == "build":
        units = yaml.safe_load(args.directory.read_text(encoding="utf-8"))["units"]
        choices = choose(cases, args.type_field, args.truth, args.min_count, args.min_share)
        document = rules_document(choices, units, args)
        yaml.safe_dump(document, sys.stdout, allow_unicode=True, sort_keys=False, width=100)
        for choice in choices:
            if choice.agency is None:
                print(
                    f"triage: {choice.type!r} ({choice.count} seen, top share {choice.share:.0%})",
                    file=sys.stderr,
                )
        return
    from rules import load_directory, load_rules

    ruleset = load_rules(args.rules, load_directory(args.directory))
    print(json.dumps(score(cases, ruleset, args.truth).as_dict(), indent=2))


if __name__ == "__main__":
    main()
