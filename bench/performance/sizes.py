"""How big each measurement runs: the full size, or --quick for development."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    throughput_cases: int  # pre-filled messages of the e2e throughput row
    latency_rate: float  # messages per second of the latency row
    latency_seconds: float  # how long the paced publisher runs
    publish_lines: int  # lines of the `xinfang publish` file
    sweep_clocks: int  # open clocks of the escalation sweep, 1 % of them due
    growth_stored: tuple[int, int, int]  # cases already stored, each 10× the one before
    growth_new: int  # new cases registered and routed at each size
    rss_cases: int  # cases of the continuous load the worker's RSS is sampled under
    embedded_cases: int  # cases of the embedded (SQLite, in-process broker) row


FULL = Sizes(
    throughput_cases=3000,
    latency_rate=200.0,
    latency_seconds=20.0,
    publish_lines=20_000,
    sweep_clocks=1_000_000,
    growth_stored=(10_000, 100_000, 1_000_000),
    growth_new=2000,
    rss_cases=20_000,
    embedded_cases=3000,
)

QUICK = Sizes(
    throughput_cases=300,
    latency_rate=200.0,
    latency_seconds=5.0,
    publish_lines=2000,
    sweep_clocks=50_000,
    growth_stored=(1000, 10_000, 100_000),
    growth_new=500,
    rss_cases=3000,
    embedded_cases=300,
)
