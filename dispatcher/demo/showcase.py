"""`xinfang demo --serve`: the demo's database opened for a newcomer to click through in the
console, as it stands at the end of the simulation.

The served app runs on a clock fixed at the report's end, so that the console's overdue board
and clocks agree with the report rather than with today. Two officers are added the way `xinfang
users add` adds them (services.console.new_user, argon2), with one fixed password: the database
is a throwaway on this machine, served on loopback only. A case that has its reply gets a query
code (PetitionerDesk.issue_code), so that the petitioner's page can be tried as well.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from dispatcher.adapters.db import console_store
from dispatcher.adapters.db.tables import cases, events
from dispatcher.adapters.passwords import Argon2Passwords
from dispatcher.bootstrap.app import App, build
from dispatcher.demo.findings import NOT_ASSIGNED
from dispatcher.demo.report import DemoReport
from dispatcher.demo.run import demo_settings
from dispatcher.domain.access import Officer, Role
from dispatcher.domain.clock import FixedClock
from dispatcher.domain.clocks import SHANGHAI
from dispatcher.domain.events import EventType
from dispatcher.domain.wording import plural
from dispatcher.services.console import new_user

# Fixed, and printed with the logins: the database is a throwaway made by this run, and it is
# served on loopback only. Long enough for `xinfang users password` to accept it, too.
DEMO_PASSWORD = "xinfang-demo"
DEPARTMENT_USER = "demo-dept"
BUREAU_USER = "demo-bureau"
BUREAU_REGION = "500000"  # 重庆市: the bundled directory's top, above every sample case
ACTOR = "xinfang demo"  # who issued the petitioner's code, as the case's history says


@dataclass(frozen=True)
class Login:
    username: str
    display_name: str
    role: str  # department | bureau
    scope: str  # the department's unit id, or the bureau's region
    cases: int | None = None  # the department's cases, as the report counts them


@dataclass(frozen=True)
class Showcase:
    """What a newcomer is told to open, log in with and type in."""

    app: App  # to serve; the caller closes it
    database: Path
    temporary: bool  # removed when the server stops
    as_of: datetime  # the served clock: the simulation's end
    logins: list[Login]
    case_id: str | None  # a case with its reply, for the petitioner's page
    query_code: str | None

    def urls(self, base: str) -> dict[str, str]:
        return {"console": f"{base}/console/", "track": f"{base}/console/track"}

    def lines(self, base: str) -> list[str]:
        urls = self.urls(base)
        lines = [
            "",
            f"console: {urls['console']} (until Ctrl-C), on the demo's world as of "
            f"{self.as_of.astimezone(SHANGHAI):%Y-%m-%d %H:%M} (Asia/Shanghai): the served "
            "clock stands there, as the report's does",
            *(
                f"  log in as {login.username} / {DEMO_PASSWORD}: {_who(login)}"
                for login in self.logins
            ),
            "  one fixed password for every demo login: the database is a throwaway, served on "
            "this machine only",
        ]
        if self.case_id and self.query_code:
            lines.append(
                f"petitioner's page: {urls['track']} with case {self.case_id} and query code "
                f"{self.query_code} (a case with its written reply)"
            )
        else:
            lines.append("petitioner's page: no case of the demo has a reply to show there")
        lines.append(_database_line(self.database, self.temporary))
        return lines

    def as_dict(self, base: str) -> dict[str, Any]:
        return {
            **self.urls(base),
            "as_of": self.as_of.astimezone(SHANGHAI).isoformat(),
            "password": DEMO_PASSWORD,
            "logins": [asdict(login) for login in self.logins],
            "petitioner": {"case_id": self.case_id, "query_code": self.query_code},
            "database": str(self.database),
            "removed_on_stop": self.temporary,
        }


def _who(login: Login) -> str:
    if login.role == Role.BUREAU.value:
        return f"{login.display_name} (bureau of region {login.scope} and below)"
    return f"{login.display_name} (department {login.scope}, {plural(login.cases or 0, 'case')})"


def _database_line(database: Path, temporary: bool) -> str:
    if temporary:
        return f"database {database}: removed when the server stops (`--keep PATH` keeps it)"
    return f"database {database}: kept when the server stops"


def showcase(database: Path, report: DemoReport, temporary: bool) -> Showcase:
    """The served app over the demo's `database`, with its logins and a petitioner's code."""
    as_of = report.simulated_until or datetime.now(SHANGHAI)  # no valid case: nothing simulated
    app = build(demo_settings(database), clock=FixedClock(as_of))
    try:
        with app.engine.connect() as conn:
            busiest = busiest_unit(conn)
            case_id = replied_case(conn, busiest[0] if busiest else None)
        logins = add_officers(app, busiest)
        code = app.petitioners.issue_code(case_id, ACTOR) if case_id else None
    except BaseException:
        app.close()
        raise
    return Showcase(app, database, temporary, as_of, logins, case_id, code)


def busiest_unit(conn: Connection) -> tuple[str, int] | None:
    """The unit that got the most of the original cases, as the report's department table
    counts them (the smallest id of those that tie); None when no case was assigned."""
    rows = conn.execute(
        select(cases.c.org_unit_id).where(
            cases.c.kind == "original",
            cases.c.stage.not_in(NOT_ASSIGNED),
            cases.c.org_unit_id.is_not(None),
        )
    )
    counted = Counter(str(row.org_unit_id) for row in rows)
    if not counted:
        return None
    return min(counted.items(), key=lambda item: (-item[1], item[0]))


def replied_case(conn: Connection, unit_id: str | None) -> str | None:
    """A case with a written reply: one the department login handles if there is one, and
    one whose reply waits for the petitioner (still `replied`) before one already closed."""
    rows = conn.execute(
        select(cases.c.case_id, cases.c.stage, cases.c.org_unit_id, cases.c.registered_at)
        .join(events, events.c.case_id == cases.c.case_id)
        .where(events.c.type == EventType.REPLIED.value)
        .distinct()
    ).all()
    if not rows:
        return None
    best = min(
        rows,
        key=lambda row: (
            row.org_unit_id != unit_id,
            row.stage != "replied",
            row.registered_at,
            row.case_id,
        ),
    )
    return str(best.case_id)


def add_officers(app: App, busiest: tuple[str, int] | None) -> list[Login]:
    """A department officer of the busiest unit and a bureau officer over the whole city."""
    officers: list[tuple[Officer, int | None]] = []
    if busiest is not None:
        department = _department(app, *busiest)
        if department is not None:
            officers.append(department)
    bureau = app.region_name(BUREAU_REGION)
    if bureau is not None:
        officer = Officer(BUREAU_USER, f"{bureau}信访局", Role.BUREAU, None, BUREAU_REGION)
        officers.append((officer, None))
    passwords, now = Argon2Passwords(), app.clock()
    with app.engine.begin() as conn:
        for officer, _cases in officers:
            row = new_user(passwords, officer.username, DEMO_PASSWORD, officer, now)
            console_store.insert_user(conn, row)
    return [_login(officer, count) for officer, count in officers]


def _department(app: App, unit_id: str, count: int) -> tuple[Officer, int] | None:
    directory = app.decider.ruleset.directory
    region, _, kind = unit_id.partition(":")  # 500103:housing, unless a named unit (nyc:HPD)
    unit = directory.named_unit(unit_id) or directory.unit(region, kind)
    if unit is None:  # a unit the directory no longer lists: no one to log in as
        return None
    officer = Officer(DEPARTMENT_USER, unit.name, Role.DEPARTMENT, unit.id, unit.region)
    return officer, count


def _login(officer: Officer, cases_count: int | None) -> Login:
    scope = officer.unit_id if officer.role is Role.DEPARTMENT else officer.region
    return Login(
        officer.username, officer.display_name, officer.role.value, scope or "", cases_count
    )
