"""`xinfang demo --serve` as a newcomer runs it: the demo, its report, then the console over its
database on 127.0.0.1, reached over real HTTP with the logins and the query code it printed,
until SIGTERM, which ends it with exit 0 and takes the temporary database with it.

One demo per mode for the module, over the first lines of the bundled sample (some seconds,
not the half minute of the whole sample): as text, which the tests below click through in
order, the last one stopping it; and as JSON, whose one object names the same things."""

from __future__ import annotations

import json
import re
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import free_port, wait_for
from xinfang_processes import XINFANG, environment

from dispatcher.demo.run import sample_path
from dispatcher.demo.showcase import BUREAU_USER, DEMO_PASSWORD, DEPARTMENT_USER

pytestmark = pytest.mark.e2e

SAMPLE_LINES = 80  # enough for cases with replies, and for a department with several cases
TIMEOUT = 180


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    folder: Path
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def out(self) -> str:
        return (self.folder / "stdout.txt").read_text("utf-8", errors="replace")

    def err(self) -> str:
        return (self.folder / "stderr.txt").read_text("utf-8", errors="replace")

    def found(self, pattern: str) -> re.Match[str]:
        match = re.search(pattern, self.out(), re.MULTILINE)
        assert match, f"{pattern!r} not in:\n{self.out()}"
        return match

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def serve(folder: Path, *args: str) -> Served:
    """`xinfang demo --serve` over the sample's first lines, once its console answers."""
    cases = folder / "cases.jsonl"
    lines = sample_path().read_text("utf-8").splitlines(keepends=True)[:SAMPLE_LINES]
    cases.write_text("".join(lines), "utf-8")
    port = free_port()
    command = [*XINFANG, "demo", "--serve", "--port", str(port), "--cases", str(cases), *args]
    with (folder / "stdout.txt").open("wb") as out, (folder / "stderr.txt").open("wb") as err:
        process = subprocess.Popen(
            command, cwd=folder, env=environment("sqlite:///unused.db"), stdout=out, stderr=err
        )
    served = Served(process, folder, port)
    ready = _whole_json if "--json" in args else _last_line
    wait_for(
        lambda: process.poll() is not None or ready(served.out()),
        "the demo's console to be served",
        timeout=TIMEOUT,
    )
    assert process.poll() is None, served.err()
    return served


def _last_line(out: str) -> bool:
    return "removed when the server stops" in out


def _whole_json(out: str) -> bool:
    try:
        json.loads(out)
    except ValueError:
        return False
    return True


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    running = serve(tmp_path_factory.mktemp("serve"))
    yield running
    running.stop()  # when a test failed before the last one stopped it


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def log_in(client: httpx.Client, username: str, password: str) -> httpx.Response:
    """A browser's log-in: the form's hidden token, the POST, the redirect followed."""
    token = csrf_of(client.get("/console/login").text)
    form = {"username": username, "password": password, "csrf": token, "next": "/console/"}
    return client.post("/console/login", data=form, follow_redirects=True)


def test_the_report_comes_first_then_the_console_and_its_logins(served: Served) -> None:
    out = served.out()
    assert out.index("xinfang demo: 80 lines") < out.index("console: ")
    assert served.found(r"^console: (\S+)").group(1) == f"{served.base}/console/"
    logins = dict(re.findall(r"log in as (\S+) / (\S+): ", out))
    assert logins == {DEPARTMENT_USER: DEMO_PASSWORD, BUREAU_USER: DEMO_PASSWORD}
    assert "one fixed password" in out
    assert f"petitioner's page: {served.base}/console/track with case " in out


def test_the_department_logs_in_and_sees_its_cases_as_of_the_report(served: Served) -> None:
    password = served.found(rf"log in as {DEPARTMENT_USER} / (\S+): ").group(1)
    with httpx.Client(base_url=served.base, timeout=30) as client:
        answer = log_in(client, DEPARTMENT_USER, password)
        assert answer.status_code == 200 and answer.url.path == "/console/cases"
        listed = set(re.findall(r'class="case-row" data-case="([^"]+)"', answer.text))
        line = served.found(rf"log in as {DEPARTMENT_USER} / \S+: .*, (\d+) cases?\)")
        assert len(listed) >= int(line.group(1)) > 0  # its original cases, and any review
        # The petitioner's case is one of this department's: both sides of it can be seen.
        assert served.found(r"with case (\S+) and query code").group(1) in listed
        # The console's clock is the report's end, not today's.
        as_of = served.found(r"as of (\d{4}-\d\d-\d\d \d\d:\d\d) \(Asia/Shanghai\)").group(1)
        assert as_of in served.found(r"^simulated clock: .*").group(0)
        assert f"截至 {as_of}" in answer.text


def test_the_bureau_logs_in_to_the_overdue_board(served: Served) -> None:
    with httpx.Client(base_url=served.base, timeout=30) as client:
        answer = log_in(client, BUREAU_USER, DEMO_PASSWORD)
        assert answer.status_code == 200 and answer.url.path == "/console/overdue"


def test_the_printed_code_opens_the_replied_case_and_nothing_else(served: Served) -> None:
    case_id, code = served.found(r"with case (\S+) and query code (\S+) ").groups()
    url = f"{served.base}/api/v1/cases/{case_id}/progress"
    opened = httpx.get(url, headers={"X-Query-Code": code}, timeout=30)
    assert opened.status_code == 200, opened.text
    assert opened.json()["replies"], "the case shown has no reply"
    wrong = httpx.get(url, headers={"X-Query-Code": "22222222"}, timeout=30)
    assert wrong.status_code == 404
    # The petitioner's page the demo names opens it too, as a newcomer would type them in.
    page = served.found(r"petitioner's page: (\S+) ").group(1)
    with httpx.Client(timeout=30) as browser:
        token = csrf_of(browser.get(page).text)
        shown = browser.post(page, data={"case": case_id, "code": code, "csrf": token})
    assert shown.status_code == 200 and case_id in shown.text


def test_sigterm_stops_the_server_with_0_and_removes_the_temporary_database(
    served: Served,
) -> None:
    database = Path(served.found(r"^database (\S+): removed when the server stops").group(1))
    assert database.is_file() and database.parent.name.startswith("xinfang-demo-")
    assert "database kept at" not in served.out()  # the report does not promise to keep it
    assert served.stop() == 0, served.err()
    assert not database.parent.exists()
    assert "Traceback" not in served.err()


def test_as_json_one_object_holds_the_report_and_what_is_served(tmp_path: Path) -> None:
    running = serve(tmp_path, "--json")
    try:
        report: dict[str, Any] = json.loads(running.out())
        shown = report["serve"]
        assert report["cases"] == SAMPLE_LINES and report["as_of"] == shown["as_of"]
        assert shown["console"] == f"{running.base}/console/"
        assert shown["track"] == f"{running.base}/console/track"
        assert {login["username"] for login in shown["logins"]} == {DEPARTMENT_USER, BUREAU_USER}
        assert shown["password"] == DEMO_PASSWORD and shown["removed_on_stop"] is True
        petitioner = shown["petitioner"]
        url = f"{running.base}/api/v1/cases/{petitioner['case_id']}/progress"
        opened = httpx.get(url, headers={"X-Query-Code": petitioner["query_code"]}, timeout=30)
        assert opened.status_code == 200, opened.text
    finally:
        assert running.stop() == 0, running.err()
    assert not Path(shown["database"]).exists()
