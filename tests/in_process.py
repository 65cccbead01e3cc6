"""`xinfang ARGS` through main() in the test's own process, as the console script runs it:
faster than a subprocess, and the same parsing, error handling and exit codes."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from dispatcher.cli import main


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


Xinfang = Callable[..., Ran]


def in_process(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], folder: Path
) -> Xinfang:
    """A runner in `folder` (no xinfang.toml but the test's), with no XINFANG_ setting but
    the database URL a call names."""
    for key in [key for key in os.environ if key.startswith("XINFANG_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(folder)

    def run(*args: str, database_url: str | None = None) -> Ran:
        if database_url is not None:
            monkeypatch.setenv("XINFANG_DATABASE_URL", database_url)
        capsys.readouterr()
        with pytest.raises(SystemExit) as exited:
            main(list(args))
        out, err = capsys.readouterr()
        code = exited.value.code
        return Ran(code if isinstance(code, int) else 1, out, err)

    return run
