"""Every file the code reads from its own packages (templates, static files, rules, policies,
locales, data) is named by pyproject's package-data, so that an installed xinfang (the Docker
image installs the wheel, not the source tree) has it too."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("dispatcher", "workers", "rules", "monitoring")
NOT_DATA = ("README.md",)  # notes for the reader of the source, which no code opens
# Read from the source tree by another program (compose mounts it into Grafana), not by xinfang.
NOT_OURS = (ROOT / "monitoring" / "grafana",)


def _packages() -> list[Path]:
    return [init.parent for top in PACKAGES for init in (ROOT / top).rglob("__init__.py")]


def _installed(patterns: dict[str, list[str]]) -> set[Path]:
    """The files package-data takes, globbed from each package's folder as setuptools does."""
    taken: set[Path] = set()
    for package in _packages():
        dotted = ".".join(package.relative_to(ROOT).parts)
        for glob in patterns.get("*", []) + patterns.get(dotted, []):
            taken |= {path for path in package.glob(glob) if path.is_file()}
    return taken


def _data_files() -> list[Path]:
    return [
        path
        for top in PACKAGES
        for path in (ROOT / top).rglob("*")
        if path.is_file()
        and path.suffix not in (".py", ".pyc")
        and "__pycache__" not in path.parts
        and path.name not in NOT_DATA
        and not any(path.is_relative_to(folder) for folder in NOT_OURS)
    ]


def test_every_data_file_of_the_packages_is_installed() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    installed = _installed(config["tool"]["setuptools"]["package-data"])
    files = _data_files()
    assert any(path.suffix == ".html" for path in files)
    missing = sorted(str(path.relative_to(ROOT)) for path in files if path not in installed)
    assert not missing, missing
