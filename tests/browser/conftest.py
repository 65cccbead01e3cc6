"""Real-browser tests: Debian's chromium, headless, driven by Playwright against a gateway
served by uvicorn on a real port.

Playwright's Python package brings its driver and no browser, and no test downloads one: the
browser is the distribution's package (.ci/run installs it). A machine without it fails these
tests with the command that installs it; they are never skipped.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from ports import Ports
from starlette.types import ASGIApp

from browser.live import serving
from dispatcher.adapters.http import create_api
from dispatcher.bootstrap.app import App

# The browser's own timeout for every action and navigation: a page of the gateway answers in
# milliseconds, so 10 s means it is broken, and the failure says where it waited.
DEFAULT_TIMEOUT_MS = 10_000
CHROMIUM = "XINFANG_TEST_CHROMIUM"  # a chromium other than the one on PATH, if need be
INSTALL = "apt-get install --no-install-recommends chromium"
REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


def chromium_path() -> str:
    """Debian's chromium (or $XINFANG_TEST_CHROMIUM); fails the test when there is none."""
    candidates = [os.environ.get(CHROMIUM), shutil.which("chromium"), "/usr/bin/chromium"]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(
        f"no chromium for the browser tests: install Debian's package ({INSTALL}; .ci/run does)"
        f" or set {CHROMIUM} to a chromium binary",
        pytrace=False,
    )


def chromium_version(path: str) -> str:
    """The version `chromium --version` prints, e.g. 156.0.8078.114."""
    printed = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60)
    found = re.search(r"\b(\d+\.\d+\.\d+\.\d+)\b", printed.stdout)
    assert found, f"{path} --version printed no version: {printed.stdout!r} {printed.stderr!r}"
    return found.group(1)


@pytest.fixture(scope="session")
def chromium() -> str:
    return chromium_path()


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    # Package scope, not session: Playwright's sync API keeps an asyncio loop running in the
    # main thread while it is open, and the tests after these run event loops of their own
    # there (an in-process `xinfang api`, for one).
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright, chromium: str) -> Iterator[Browser]:
    """One headless chromium for the browser tests; each test gets a fresh context (`page`)."""
    args = [
        # Containers give /dev/shm 64 MB, which chromium's renderers outgrow: use /tmp.
        "--disable-dev-shm-usage",
    ]
    if os.geteuid() == 0:  # chromium refuses to run its sandbox as root (CI runs as root)
        args.append("--no-sandbox")
    launched = playwright.chromium.launch(executable_path=chromium, headless=True, args=args)
    try:
        yield launched
    finally:
        launched.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item) -> Iterator[None]:
    """Keep each phase's report on the test, so that `page` knows at teardown whether the test
    failed (and takes a screenshot)."""
    report = yield
    item.stash.setdefault(REPORTS, {})[report.when] = report
    return report


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Page]:
    """A page in a fresh browser context (no cookies or storage shared between tests), in the
    petitioners' locale and time zone. A failed test leaves a screenshot of it, named in the
    failure's report."""
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
    opened = context.new_page()
    try:
        yield opened
    finally:
        call = request.node.stash.get(REPORTS, {}).get("call")
        if call is not None and call.failed:
            _screenshot(opened, tmp_path / "failure.png", call)
        context.close()


def _screenshot(page: Page, path: Path, report: pytest.TestReport) -> None:
    try:
        page.screenshot(path=path, full_page=True)
        report.sections.append(("screenshot", f"{path} (of {page.url})"))
    except Exception as error:  # a crashed page must not hide the test's own failure
        report.sections.append(("screenshot", f"none: {error}"))


@pytest.fixture
def live_server() -> Iterator[Callable[[ASGIApp], str]]:
    """Serve an ASGI app on a free port for the rest of the test: `live_server(app)` returns
    its base URL; every server started so is stopped at teardown."""
    with ExitStack() as servers:
        yield lambda app: servers.enter_context(serving(app))


@dataclass(frozen=True)
class Gateway:
    app: App  # to arrange and inspect data through the services, beside the browser
    url: str  # http://127.0.0.1:PORT, no trailing slash


@pytest.fixture
def gateway(ports: Ports) -> Iterator[Gateway]:
    """`xinfang api`'s app over the app of `ports` (tests/conftest.py: SQLite and the
    in-process broker, then PostgreSQL and RabbitMQ), with a worker to route what it
    registers, live on a port. The server stops before the app it serves closes."""
    with ports.running({"worker"}) as (app, _running), serving(create_api(app)) as url:
        yield Gateway(app, url)
