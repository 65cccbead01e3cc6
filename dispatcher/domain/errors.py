"""The root of xinfang's own errors. Each says, in one line, what went wrong and names the ids,
files and fields it is about; the command line shows any of them as that line (exit 1)."""

from __future__ import annotations


class XinfangError(Exception):
    """Something xinfang refuses or cannot do, told in one line."""


class CaseNotFound(XinfangError, LookupError):
    """No case has this id."""

    def __init__(self, case_id: str) -> None:
        super().__init__(f"case {case_id} does not exist")
        self.case_id = case_id
