"""Row `rss`: whether `xinfang run` holds its memory under a continuous load.

N cases (20,000; --quick 3,000) wait in xinfang.intake before `xinfang run` starts, so that it
works without a pause from its first case to its last. Its resident set (VmRSS of
/proc/PID/status, the one process of all its roles) is read once the first 10 % of the cases
are assigned (start-up and first-use allocations done) and again when the last one is. The
baseline column is the first reading; the ratio end/start, goal ≤ 1.1: flat.
"""

from __future__ import annotations

from pathlib import Path

from bench.performance import waiting, xinfang_run
from bench.performance.cases import fresh_cases, messages
from bench.performance.processes import BenchError
from bench.performance.sizes import Sizes
from bench.performance.table import Row, at_most

NAME = "rss"
GOAL = at_most(1.1)
FIRST_SHARE = 0.10


def vm_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise BenchError(f"no VmRSS in /proc/{pid}/status")


def measure(sizes: Sizes, logs: Path) -> list[Row]:
    count = sizes.rss_cases
    cases = fresh_cases(count)
    first = max(1, round(count * FIRST_SHARE))
    with xinfang_run.running("rss", logs, prefill=messages(cases)) as run:
        if waiting.until(run.subscriber.count, first, run.process.check_alive) < first:
            raise BenchError(f"fewer than {first} cases were assigned")
        start = vm_rss_kib(run.process.pid)
        arrived = run.wait(count)
        run.process.check_alive()
        end = vm_rss_kib(run.process.pid)
    print(
        f"  rss: {arrived}/{count} cases assigned; VmRSS {start / 1024:.1f} MiB after {first}, "
        f"{end / 1024:.1f} MiB at the end",
        flush=True,
    )
    return [
        Row(
            f"worker RSS end/first 10 % ({count} cases)",
            f"{end / 1024:.1f} MiB",
            f"{start / 1024:.1f} MiB",
            end / start,
            GOAL,
        )
    ]
