"""Routing throughput with 1,000 rules: our compiled, indexed engine against a naive in-order
interpretation of the same YAML and against the `rule-engine` package, in the same process.

    python -m bench.rules_bench [--rules 1000] [--cases 5000] [--seed 7]

All three must pick the same rule for every case (checked before timing). Ours returns a full
decision (org unit, reasons, warnings); the baselines only find the first matching rule id.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from rules import RuleSet, default_directory_path, load_directory, load_rules
from rules.compile import compile_rule
from rules.model import CATEGORIES, CHANNELS, Rule
from rules.shadowing import shadowing_pairs

Case = dict[str, Any]
RuleDict = dict[str, Any]
KINDS = ("housing", "labour", "education", "health", "transport", "environment", "market")
CHARS = "房屋物业工资学校医院道路噪音污染垃圾电梯小区拖欠收费违建养老补偿征地拆迁诈骗停车供暖用水"
# Filler shares no character with the vocabulary, so a case holds only the words put in it.
FILLER = "的了是在我有他这中大来上个国和也子时出而要于就下得可你年生会没对"


def vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(CHARS) for _ in range(rng.choice((2, 3, 3, 4)))))
    return sorted(words)


def make_rule(rng: random.Random, i: int, words: list[str], districts: list[str]) -> RuleDict:
    """A realistic mix: most rules are keyword rules, many narrowed by category, channel or
    district, some are category or category+district rules without keywords."""
    when: RuleDict = {}
    if rng.random() < 0.5:
        when["category"] = rng.sample(CATEGORIES, rng.choice((1, 1, 2)))
    if rng.random() < 0.3:
        when["channel"] = rng.sample(CHANNELS, rng.choice((1, 2)))
    if rng.random() < 0.4:
        when["region_prefix"] = rng.sample(districts, rng.choice((1, 2)))
    if rng.random() < 0.8:
        when["keywords"] = {"any": rng.sample(words, rng.choice((2, 3, 4)))}
        if rng.random() < 0.15:
            when["keywords"]["none"] = rng.sample(words, 1)
    else:  # a category rule of one district (its department there handles the category)
        when["category"] = rng.sample(CATEGORIES, 1)
        when["region_prefix"] = rng.sample(districts, 1)
    return {
        "id": f"r{i:04d}",
        "owner": "bench",
        "changed": "2026-11-20",
        "when": when,
        "assign": {"kind": rng.choice(KINDS), "level": "district"},
    }


def generate_rules(
    n: int, rng: random.Random, words: list[str], districts: list[str]
) -> list[RuleDict]:
    """n rules none of which is shadowed (a shadowed rule would be refused at load)."""
    rules: list[RuleDict] = []
    serial = 0
    while len(rules) < n:
        while len(rules) < n:
            rules.append(make_rule(rng, serial, words, districts))
            serial += 1
        compiled = [
            compile_rule(Rule.model_validate(r), Path("b.yaml"), k + 1) for k, r in enumerate(rules)
        ]
        shadowed = {later for later, _ in shadowing_pairs(compiled)}
        rules = [r for k, r in enumerate(rules) if k not in shadowed]
    return rules


def generate_cases(n: int, rng: random.Random, words: list[str], regions: list[str]) -> list[Case]:
    cases = []
    for i in range(n):
        # ~60 characters of filler with one to three vocabulary words dropped in
        text = [rng.choice(FILLER) for _ in range(60)]
        for _ in range(rng.choice((1, 2, 3))):
            text.insert(rng.randrange(len(text)), rng.choice(words))
        cut = rng.randrange(5, 15)
        cases.append(
            {
                "external_id": f"B{i:06d}",
                "source": "bench",
                "channel": rng.choice(CHANNELS),
                "region": rng.choice(regions),
                "received_at": "2026-05-26T09:30:00+08:00",
                "category": rng.choice((*CATEGORIES, None)),
                "title": "".join(text[:cut]),
                "content": "".join(text[cut:]),
                "people_count": 1,
                "urgent": False,
            }
        )
    return cases


# ---- (b) naive: interpret the YAML dicts for every case, in order -----------------------------


def naive_matches(when: Mapping[str, Any], case: Case) -> bool:
    for key in ("category", "channel"):
        if key in when and case.get(key) not in when[key]:
            return False
    if "region_prefix" in when and not any(
        case["region"].startswith(p) for p in when["region_prefix"]
    ):
        return False
    keywords = when.get("keywords")
    if keywords:
        text = (case["title"], case["content"])
        if keywords.get("any") and not any(w in t for w in keywords["any"] for t in text):
            return False
        if any(w in t for w in keywords.get("none", ()) for t in text):
            return False
    return True


def naive_first(rules: Sequence[RuleDict], case: Case) -> str | None:
    return next((r["id"] for r in rules if naive_matches(r["when"], case)), None)


# ---- (c) the rule-engine package, with the same rules as expressions --------------------------


def _list(values: Sequence[str]) -> str:
    return "[" + ", ".join(f'"{v}"' for v in values) + "]"


def expression(when: Mapping[str, Any]) -> str:
    parts = [f"{key} in {_list(when[key])}" for key in ("category", "channel") if key in when]
    if "region_prefix" in when:
        parts.append(f'region =~ "({"|".join(when["region_prefix"])}).*"')
    keywords = when.get("keywords") or {}
    if keywords.get("any"):
        parts.append(
            "(" + " or ".join(f'"{w}" in title or "{w}" in content' for w in keywords["any"]) + ")"
        )
    for word in keywords.get("none", ()):
        parts.append(f'not ("{word}" in title or "{word}" in content)')
    return " and ".join(parts) or "true"


def rule_engine_first(rules: Sequence[RuleDict]) -> Callable[[Case], str | None] | None:
    try:
        import rule_engine
    except ImportError:
        return None
    context = rule_engine.Context(default_value=None)
    compiled = [(r["id"], rule_engine.Rule(expression(r["when"]), context=context)) for r in rules]

    def first(case: Case) -> str | None:
        return next((rule_id for rule_id, rule in compiled if rule.matches(case)), None)

    return first


# ---- timing -----------------------------------------------------------------------------------


def throughput(decide: Callable[[Case], Any], cases: Sequence[Case], minimum: float = 1.0) -> float:
    """Cases per second, repeating the whole batch until at least `minimum` seconds passed."""
    done, started = 0, time.perf_counter()
    while True:
        for case in cases:
            decide(case)
        done += len(cases)
        elapsed = time.perf_counter() - started
        if elapsed >= minimum:
            return done / elapsed


def load_ours(rules: list[RuleDict]) -> RuleSet:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.yaml"
        path.write_text(
            yaml.safe_dump({"version": "bench-1", "rules": rules}, allow_unicode=True),
            encoding="utf-8",
        )
        return load_rules(path, load_directory(default_directory_path()))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    directory = load_directory(default_directory_path())
    districts = [code[:6] for code in directory.regions_at("district")]
    regions = districts + directory.regions_at("town") + directory.regions_at("village")
    words = vocabulary(rng)
    rules = generate_rules(args.rules, rng, words, districts)
    cases = generate_cases(args.cases, rng, words, regions)
    started = time.perf_counter()
    ours = load_ours(rules)
    print(
        f"{len(rules)} rules, {len(cases)} cases; load+validate+shadow check+compile+index "
        f"{time.perf_counter() - started:.2f} s"
    )
    report(ours, rules, cases)


def report(ours: RuleSet, rules: list[RuleDict], cases: list[Case]) -> None:
    other = rule_engine_first(rules)
    for case in cases:  # the same rule for every case, or the comparison means nothing
        expected = ours.decide(case).rule_id
        assert naive_first(rules, case) == expected, case["external_id"]
        assert other is None or other(case) == expected, case["external_id"]
    matched = sum(ours.decide(c).rule_id is not None for c in cases)
    print(f"agreement checked on every case ({matched} matched a rule, the rest triage)")
    columns = {
        "ours, indexed (full decision)": lambda c: ours.decide(c),
        "ours, compiled full scan": lambda c: ours.decide(c, indexed=False),
        "naive in-order YAML": lambda c: naive_first(rules, c),
    }
    if other is not None:
        columns["rule-engine package"] = other
    else:
        print("rule-engine is not importable (pip install rule-engine): column skipped")
    rates = {name: throughput(fn, cases) for name, fn in columns.items()}
    for name, rate in rates.items():
        print(f"  {name:32s} {rate:12,.0f} cases/s")
    best = rates["ours, indexed (full decision)"]
    print(f"ours/naive       = {best / rates['naive in-order YAML']:.1f}x")
    if other is not None:
        print(f"ours/rule-engine = {best / rates['rule-engine package']:.1f}x")


if __name__ == "__main__":
    main()
