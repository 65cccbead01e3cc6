from enum import StrEnum


class Stage(StrEnum):
    """Where a case is in the statutory process."""

    REGISTERED = "registered"  # accepted from a channel, waiting for routing (Art 22)
    ASSIGNED = "assigned"  # forwarded/assigned to the responsible org unit (Art 22)
    TRIAGE = "triage"  # no rule decided: the petition bureau's triage queue routes it by hand
