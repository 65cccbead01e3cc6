"""Clock policies: which statutory periods a case runs under, how they extend, and what
follows a petitioner's dissatisfaction. Plain data; `dispatcher.adapters.files.policies`
reads them from YAML files."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from dispatcher.domain.clocks import ClockSpec
from dispatcher.domain.errors import XinfangError

DEFAULT_POLICY = "cn-2022"  # 信访工作条例 2022, the policy of a case no rule chose one for

ClockName = Literal[
    "forwarding",
    "acceptance",
    "objection",
    "handling",
    "review_request",
    "review",
    "rereview_request",
    "rereview",
]
OnDissatisfied = Literal["review_window", "rehandle"]


class PolicyError(XinfangError, ValueError):
    """An unknown or invalid policy; the message names the file (or id) and the field."""


@dataclass(frozen=True)
class Extension:
    """How a clock may be extended (Art 34: once, by at most 30 days, the head approving)."""

    max_days: int
    times: int
    approver: str


@dataclass(frozen=True)
class Policy:
    id: str
    title: str
    clocks: Mapping[str, ClockSpec]
    extensions: Mapping[str, Extension]
    on_dissatisfied: str  # "review_window" (Art 35) or "rehandle"
    final_after: str | None  # the clock after whose stage the matter is final (Art 36)
    source: str = ""

    @property
    def handling_extension(self) -> Extension | None:
        return self.extensions.get("handling")

    def clock(self, name: str) -> ClockSpec:
        try:
            return self.clocks[name]
        except KeyError:
            raise PolicyError(
                f"policy {self.id!r} has no clock {name!r}; it has {', '.join(self.clocks)}"
            ) from None
