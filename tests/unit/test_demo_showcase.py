"""What `xinfang demo --serve` tells a newcomer once the console answers: its URL and clock, the
logins with their password, the petitioner's case and code, and what becomes of the database.
(tests/e2e/test_demo_serve.py clicks through all of it over HTTP.)"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, cast

from dispatcher.bootstrap.app import App
from dispatcher.demo.showcase import DEMO_PASSWORD, Login, Showcase

BASE = "http://127.0.0.1:8000"
END = datetime.fromisoformat("2026-08-07T23:59:59+08:00")
LOGINS = [
    Login("demo-dept", "江北区住房和城乡建设委员会", "department", "500105:housing", 1),
    Login("demo-bureau", "重庆市信访局", "bureau", "500000"),
]


def shown(**fields: Any) -> Showcase:
    base: dict[str, Any] = {
        "app": cast(App, None),  # only served, never read by what is printed
        "database": Path("/tmp/xinfang-demo-x/demo.db"),
        "temporary": True,
        "as_of": END,
        "logins": LOGINS,
        "case_id": "c-1",
        "query_code": "83CAN579",
    }
    return Showcase(**(base | fields))


def test_the_lines_name_the_console_logins_code_and_the_temporary_database() -> None:
    lines = shown().lines(BASE)
    assert lines[0] == "" and lines[1].startswith(f"console: {BASE}/console/ ")
    assert "as of 2026-08-07 23:59 (Asia/Shanghai)" in lines[1]
    assert lines[2] == (
        f"  log in as demo-dept / {DEMO_PASSWORD}: 江北区住房和城乡建设委员会 "
        "(department 500105:housing, 1 case)"
    )
    assert lines[3] == (
        f"  log in as demo-bureau / {DEMO_PASSWORD}: 重庆市信访局 "
        "(bureau of region 500000 and below)"
    )
    assert "one fixed password" in lines[4]
    assert lines[5].startswith(f"petitioner's page: {BASE}/console/track with case c-1 and ")
    assert "query code 83CAN579 " in lines[5]
    assert lines[6] == (
        "database /tmp/xinfang-demo-x/demo.db: removed when the server stops "
        "(`--keep PATH` keeps it)"
    )


def test_without_a_replied_case_or_a_temporary_database_it_says_so() -> None:
    lines = shown(case_id=None, query_code=None, temporary=False, database=Path("d.db")).lines(BASE)
    assert lines[-2] == "petitioner's page: no case of the demo has a reply to show there"
    assert lines[-1] == "database d.db: kept when the server stops"


def test_as_json_it_holds_the_same() -> None:
    data = shown().as_dict(BASE)
    assert data == {
        "console": f"{BASE}/console/",
        "track": f"{BASE}/console/track",
        "as_of": "2026-08-07T23:59:59+08:00",
        "password": DEMO_PASSWORD,
        "logins": [
            {
                "username": "demo-dept",
                "display_name": "江北区住房和城乡建设委员会",
                "role": "department",
                "scope": "500105:housing",
                "cases": 1,
            },
            {
                "username": "demo-bureau",
                "display_name": "重庆市信访局",
                "role": "bureau",
                "scope": "500000",
                "cases": None,
            },
        ],
        "petitioner": {"case_id": "c-1", "query_code": "83CAN579"},
        "database": "/tmp/xinfang-demo-x/demo.db",
        "removed_on_stop": True,
    }
