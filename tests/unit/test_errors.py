"""One error root: every error xinfang raises of its own is an XinfangError, which the command
line shows as one line with exit code 1."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import click
import pytest

import dispatcher
import workers
from dispatcher.cli import main
from dispatcher.domain.errors import CaseNotFound, XinfangError


def _modules() -> list[str]:
    names = []
    for package in (dispatcher, workers):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if ".migrations" not in info.name and not info.name.endswith("__main__"):
                names.append(info.name)
    return names


def test_every_exception_class_of_ours_has_the_one_root() -> None:
    ours = []
    for name in _modules():
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == name and issubclass(cls, Exception):
                ours.append(cls)
    cli_presentations = [cls for cls in ours if issubclass(cls, click.ClickException)]
    assert len(ours) > 10
    assert [
        cls for cls in ours if cls not in cli_presentations and not issubclass(cls, XinfangError)
    ] == []


def test_an_unknown_case_is_one_error_whatever_asks() -> None:
    assert issubclass(CaseNotFound, LookupError)
    assert str(CaseNotFound("c-1")) == "case c-1 does not exist"


def test_the_command_line_shows_any_of_them_as_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XINFANG_LOG_LEVEL", "loud")
    with pytest.raises(SystemExit) as exited:
        main(["run"])
    err = capsys.readouterr().err
    assert exited.value.code == 1
    assert (
        err.strip() == "xinfang: error: XINFANG_LOG_LEVEL='loud' is not one of DEBUG, INFO, "
        "WARNING, ERROR, CRITICAL"
    )
