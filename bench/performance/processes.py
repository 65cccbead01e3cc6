"""Subprocesses with their output in a log file, and the tail of that log when they fail."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_SCRIPT = Path(sys.executable).with_name("xinfang")
XINFANG = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "dispatcher.cli"]
STOP_TIMEOUT_S = 90


class BenchError(RuntimeError):
    """A measurement could not be taken; the message says why (with a log's tail)."""


def tail(log: Path, lines: int = 25) -> str:
    try:
        text = log.read_text(errors="replace").splitlines()
    except OSError:
        return f"(no log at {log})"
    return "\n".join(f"    | {line}" for line in text[-lines:])


@dataclass
class Started:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def check_alive(self) -> None:
        code = self.popen.poll()
        if code is not None:
            raise BenchError(f"{self.name} exited with {code}; its log ends:\n{tail(self.log)}")

    def stop(self) -> int:
        """SIGTERM (a drain for xinfang and dramatiq), then SIGKILL if it hangs."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            return self.popen.wait()


@contextmanager
def started(
    name: str, command: Sequence[str], env: dict[str, str], logs: Path
) -> Iterator[Started]:
    """A background process for the duration of the block, stopped afterwards."""
    log = logs / f"{name}.log"
    with log.open("ab") as out:
        popen = subprocess.Popen(
            list(command), env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )
    process = Started(name, popen, log)
    try:
        yield process
    finally:
        process.stop()


def run_logged(
    name: str, command: Sequence[str], env: dict[str, str], logs: Path, timeout: float = 600
) -> str:
    """Run to completion; its output (also in the log) is returned. A non-zero exit raises."""
    log = logs / f"{name}.log"
    with log.open("ab") as out:
        result = subprocess.run(
            list(command), env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, timeout=timeout
        )
    if result.returncode != 0:
        raise BenchError(f"{name} exited with {result.returncode}; its log ends:\n{tail(log)}")
    return log.read_text(errors="replace")
