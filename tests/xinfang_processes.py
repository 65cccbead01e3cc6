"""xinfang as processes for the tests that need several: each role command a process of its
own with its log in a file, asked over HTTP on its metrics port whether it is ready; and
`xinfang api` served over TCP, with the producer keys it takes issued by `xinfang keys add`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from support import free_port, wait_for

XINFANG = [sys.executable, "-m", "dispatcher.cli"]


def environment(database_url: str, broker_url: str | None = None, **extra: Any) -> dict[str, str]:
    """This process's environment less any xinfang or multiprocess setting, plus these."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("XINFANG_") and key.upper() != "PROMETHEUS_MULTIPROC_DIR"
    }
    env |= {"XINFANG_DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}
    if broker_url:
        env["XINFANG_BROKER_URL"] = broker_url
    return env | {key: str(value) for key, value in extra.items()}


def get(url: str, timeout: float = 10) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")
    except OSError:  # not listening yet
        return 0, ""


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A one-shot command (case accept, sweep, ...), which must succeed."""
    done = subprocess.run(
        [*XINFANG, *args], env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, f"xinfang {' '.join(args)}: {done.stderr}"
    return done


def issue_key(env: dict[str, str], source: str, label: str) -> str:
    """A producer key for `source`, issued by `xinfang keys add`, which says it shows it once."""
    added = run(["keys", "add", source, "--label", label], env)
    assert "shown once" in added.stderr, added.stderr
    return added.stdout.strip()


@contextmanager
def serving_api(
    env: dict[str, str], log: Path, port: int | None = None, probe: str = "/openapi.json"
) -> Iterator[str]:
    """`xinfang api` on `port` (a free one by default), its output in `log`: yields its base
    URL once `probe` answers 200 there. On leaving it is sent SIGTERM and must exit 0."""
    port = free_port() if port is None else port
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        api = subprocess.Popen(
            [*XINFANG, "api", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            wait_for(
                lambda: api.poll() is not None or get(base + probe, timeout=5)[0] == 200,
                "xinfang api to listen",
            )
            assert api.poll() is None, log.read_text("utf-8", errors="replace")
            yield base
        finally:
            api.terminate()
            try:
                code = api.wait(timeout=60)
            except subprocess.TimeoutExpired:
                api.kill()
                api.wait()
                raise
            assert code == 0, log.read_text("utf-8", errors="replace")


class Xinfang:
    """A long-running xinfang command (`run`, `worker`, `metrics`, ...) serving on `port`."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path, port: int) -> None:
        self.args, self.log, self.port = args, log, port
        self._out = log.open("ab")
        self.process = subprocess.Popen(
            [*XINFANG, *args],
            env=env | {"XINFANG_METRICS_PORT": str(port)},
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def text(self) -> str:
        return self.log.read_text("utf-8", errors="replace")

    def wait_ready(self, timeout: float = 120) -> Xinfang:
        wait_for(
            lambda: self.process.poll() is not None or get(self.url + "/readyz")[0] == 200,
            f"xinfang {' '.join(self.args)} to be ready",
            timeout=timeout,
        )
        assert self.process.poll() is None, self.text()
        return self

    def metrics(self) -> str:
        status, body = get(self.url + "/metrics")
        assert status == 200, body
        return body

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=90)
        self._out.close()
        return code
