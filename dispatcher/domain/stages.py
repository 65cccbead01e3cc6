from enum import StrEnum


class Stage(StrEnum):
    """Where a case is in the statutory process (信访工作条例 2022)."""

    REGISTERED = "registered"  # accepted from a channel, waiting for routing (Art 22)
    TRIAGE = "triage"  # no rule decided: the petition bureau routes it by hand (Art 22)
    ASSIGNED = "assigned"  # forwarded to the handling body; acceptance due in 15 days (Art 23)
    OBJECTED = "objected"  # the body says it is not its matter; back at the dispatcher (Art 23)
    ACCEPTED = "accepted"  # accepted and being handled; 60 days (Art 34)
    NOT_ACCEPTED = "not_accepted"  # not accepted, often diverted to a legal channel (Art 31)
    REPLIED = "replied"  # written reply given; the petitioner may evaluate, ask for review
    UNDER_REVIEW = "under_review"  # a review or re-review case at the next-higher body is open
    CLOSED = "closed"  # the petitioner is satisfied (with the reply, or with a review)
    FINAL = "final"  # re-review decided: the same facts are not accepted again (Art 36)


class CaseKind(StrEnum):
    ORIGINAL = "original"
    REVIEW = "review"  # 复查, Art 35
    REREVIEW = "rereview"  # 复核, Art 36


# Stages from which nothing further happens to this case itself.
TERMINAL = frozenset({Stage.NOT_ACCEPTED, Stage.CLOSED, Stage.FINAL})
