"""`xinfang report` as a petition office leader runs it, through the command line (main(), in
this process), on a SQLite file holding the hand-counted cases of tests/kpi_cases.py; the
counts themselves are checked on SQLite and PostgreSQL in tests/contract/test_kpis_report.py.
And the KPIs from rows the real services wrote."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from in_process import Ran, Xinfang
from kpi_cases import EVERY_CASE, IN_WINDOW, NOW, PER_DISTRICT, UNTIL, insert_cases

from dispatcher.bootstrap.app import App, make_engine
from dispatcher.domain.clock import FixedClock
from dispatcher.domain.decisions import Action, Command
from dispatcher.services.intake import Registered
from monitoring.kpi import KPIS, Ratio, Scope, kpi_report

AS_OF = ("--now", NOW.isoformat())


Run = Callable[..., Ran]


@pytest.fixture
def report(xinfang_cli: Xinfang) -> Run:
    """Runs `xinfang report ARGS` on a database URL, as the `xinfang` command does."""
    return lambda database_url, *args: xinfang_cli("report", *args, database_url=database_url)


@pytest.fixture
def hand_counted(database_url: str) -> str:
    engine = make_engine(database_url)
    insert_cases(engine)
    engine.dispose()
    return database_url


def cells(text: str, first: str) -> list[str]:
    """The cells of the text table's row that starts with `first` (cells are two spaces apart)."""
    (line,) = [line for line in text.splitlines() if line.startswith(first)]
    return re.split(r"\s{2,}", line)


def test_text_a_row_per_district_named_from_the_directory_each_kpi_marked(
    report: Run, hand_counted: str
) -> None:
    ran = report(hand_counted, *AS_OF, "--by", "district")

    assert ran.code == 0, ran.err
    assert ran.out.startswith(
        "KPIs of every case, as of 2026-07-01 00:00, per district or county (Asia/Shanghai):"
    )
    assert cells(ran.out, "500103") == [
        "500103 渝中区",  # A, B (of its town 500103001), F, G, H
        "5",
        "66.7 % (2/3) missed",  # ≥ 99.5 %
        "66.7 % (2/3) missed",
        "25.0 % (1/4) missed",  # > 70 %
        "33.3 % (1/3)",  # no target: no mark
        "66.7 % (2/3)",
        "20.0 % (1/5)",
    ]
    assert cells(ran.out, "500112")[:3] == ["500112 渝北区", "5", "75.0 % (3/4) missed"]
    assert cells(ran.out, "all") == [
        "all",
        "10",
        "71.4 % (5/7) missed",
        "60.0 % (3/5) missed",
        "44.4 % (4/9) missed",
        "50.0 % (2/4)",
        "75.0 % (3/4)",
        "40.0 % (4/10)",
    ]
    header, targets = ran.out.splitlines()[2:4]
    assert re.split(r"\s{2,}", header)[:3] == [
        "district or county",
        "cases",
        KPIS["timely_acceptance"][0],
    ]
    assert targets.split("  ")[-1].strip() == "no target"
    assert "target ≥ 99.5 %" in targets and "target > 70 %" in targets


def test_text_a_group_with_nothing_to_count_shows_a_dash_and_met_is_said(
    report: Run, hand_counted: str
) -> None:
    ran = report(hand_counted, *AS_OF, "--by", "kind")
    assert cells(ran.out, "unrouted") == [
        "unrouted",
        "1",
        "—",
        "—",
        "0.0 % (0/1) missed",
        "—",
        "—",
        "0.0 % (0/1)",
    ]
    assert cells(ran.out, "education")[2] == "100.0 % (2/2) met"


def test_csv_a_row_per_group_then_all(report: Run, hand_counted: str) -> None:
    ran = report(hand_counted, *AS_OF, "--by", "district", "--csv")

    assert ran.code == 0, ran.err
    rows = list(csv.DictReader(io.StringIO(ran.out)))
    assert [(r["district"], r["name"], r["cases"]) for r in rows] == [
        ("500103", "渝中区", "5"),
        ("500112", "渝北区", "5"),
        ("all", "", "10"),
    ]
    for row, expected in zip(rows, [*PER_DISTRICT.values(), EVERY_CASE], strict=True):
        for name, (good, total) in expected.items():
            assert (int(row[f"{name}_good"]), int(row[f"{name}_total"])) == (good, total), name
            assert float(row[f"{name}_rate"]) == pytest.approx(good / total, abs=1e-6)
    assert rows[2]["online_share_mark"] == "missed"
    assert "satisfaction_mark" not in rows[2]  # no target, nothing to mark


def test_json_a_window_of_whole_days_is_judged_as_of_its_end(
    report: Run, hand_counted: str
) -> None:
    ran = report(hand_counted, *AS_OF, "--since", "2026-06-01", "--until", "2026-06-21", "--json")

    assert ran.code == 0, ran.err
    document = json.loads(ran.out)
    assert {key: document[key] for key in ("since", "until", "as_of", "by", "groups")} == {
        "since": "2026-06-01T00:00:00+08:00",
        "until": "2026-06-21T00:00:00+08:00",
        "as_of": "2026-06-21T00:00:00+08:00",  # the end of the window, before --now
        "by": None,
        "groups": [],
    }
    every = document["all"]
    assert every["cases"] == 8
    assert {name: (k["good"], k["total"]) for name, k in every["kpis"].items()} == IN_WINDOW
    assert every["kpis"]["timely_acceptance"] == {
        "good": 3,
        "total": 5,
        "rate": 0.6,
        "target": "≥ 99.5 %",
        "mark": "missed",
    }
    assert every["kpis"]["satisfaction"]["mark"] == "no target"


def test_json_groups_carry_their_key_and_a_districts_name(report: Run, hand_counted: str) -> None:
    groups = json.loads(report(hand_counted, *AS_OF, "--by", "district", "--json").out)["groups"]
    assert [(g["key"], g["name"], g["cases"]) for g in groups] == [
        ("500103", "渝中区", 5),
        ("500112", "渝北区", 5),
    ]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--csv", "--json"), "--csv and --json cannot be used together"),
        (("--since", "June"), "Invalid value for '--since': 'June' is neither a date"),
        (("--until", "2026-02-30"), "Invalid value for '--until'"),
        (("--since", "2026-06-21", "--until", "2026-06-01"), "'--since': must be before --until"),
        (("--since", "2026-06-01", "--until", "2026-06-01"), "must be before --until"),
        (("--by", "town"), "'town' is not one of 'district', 'kind', 'channel'"),
    ],
)
def test_a_command_line_not_understood_is_one_line_and_exit_2(
    report: Run, hand_counted: str, args: tuple[str, ...], said: str
) -> None:
    ran = report(hand_counted, *args)
    assert (ran.code, ran.out) == (2, "")
    assert ran.err.startswith("xinfang: error: ") and said in ran.err
    assert ran.err.count("\n") == 1


def test_no_database_is_refused_and_none_is_made(report: Run, tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    ran = report(f"sqlite:///{missing}", "--by", "district")
    assert ran.code == 1
    assert ran.err == (
        f"xinfang: error: there is no database at {missing}: run `xinfang db upgrade` to "
        "create it (or set XINFANG_DATABASE_URL)\n"
    )
    assert not missing.exists()


def test_an_empty_database_reports_nothing_to_count(report: Run, database_url: str) -> None:
    ran = report(database_url, *AS_OF, "--by", "channel")
    assert ran.code == 0, ran.err
    assert cells(ran.out, "all") == ["all", "0", *["—"] * len(KPIS)]


def test_as_of_the_window_end_or_now_whichever_is_earlier() -> None:
    assert Scope.of(NOW, until=UNTIL).as_of == UNTIL
    assert Scope.of(NOW, until=NOW + timedelta(days=30)).as_of == NOW
    assert Scope.of(NOW).as_of == NOW
    with pytest.raises(ValueError, match="cannot group by 'town'"):
        Scope.of(NOW, by="town")


REPLY = {"request": "r", "facts": "f", "reasons": "e", "decision": "d", "legal_basis": "b"}


def test_participation_and_escalation_from_what_the_services_wrote(
    app: App,
    clock: FixedClock,
    make_case: Callable[..., dict[str, Any]],
    encode: Callable[..., bytes],
) -> None:
    def routed(channel: str) -> str:
        outcome = app.intake.receive(encode(make_case(channel=channel)), "application/json", "c")
        assert isinstance(outcome, Registered)
        app.routing.route(outcome.case_id)
        return outcome.case_id

    def do(case_id: str, action: Action, **data: Any) -> None:
        app.commands.handle(Command(action, case_id, "t", data=data))

    evaluated, replied, ignored = routed("online"), routed("phone"), routed("online")
    for case_id in (evaluated, replied):
        do(case_id, Action.ACCEPT)
        do(case_id, Action.REPLY, **REPLY)
    do(evaluated, Action.EVALUATE, rating="satisfied")
    clock.advance(timedelta(days=20))  # `ignored` is past the 15 days of Art 23
    taken = app.escalations.sweep(clock())
    assert {step.case_id for step in taken} == {ignored}  # its acceptance clock's ladder

    with app.engine.connect() as conn:
        by_channel = {row.key: row for row in kpi_report(conn, Scope.of(clock(), by="channel"))}
    online, phone = by_channel["online"].ratios, by_channel["phone"].ratios
    assert online["evaluation_participation"] == Ratio(1, 1)
    assert phone["evaluation_participation"] == Ratio(0, 1)  # replied, not evaluated
    assert online["escalation"] == Ratio(1, 2)  # `ignored`
    assert phone["escalation"] == Ratio(0, 1)
    assert online["timely_acceptance"] == Ratio(1, 2)
