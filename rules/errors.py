"""The error tree of the rules package.

Messages name the file, the rule (id and position) and the field, so whoever edits a rule file can
fix it without reading code.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class RulesError(Exception):
    """Base of every error raised by the rules package."""


class RuleFileError(RulesError):
    """A rule or directory file that cannot be used. Carries every problem found, not just one."""

    def __init__(self, path: Path | str, problems: Sequence[str]) -> None:
        self.path = Path(path)
        self.problems: tuple[str, ...] = tuple(problems) or (f"{path}: unusable file",)
        super().__init__("\n".join(self.problems))
