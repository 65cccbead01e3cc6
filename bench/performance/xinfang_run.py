"""`xinfang run` as a subprocess on a fresh vhost and database, with a subscriber of
case.assigned bound before it starts, and optionally its intake queue pre-filled."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.performance import pipelined, subscriber, waiting
from bench.performance.cases import Message
from bench.performance.processes import XINFANG, Started, started, tail
from bench.performance.stack import Stack, fresh_stack
from bench.performance.subscriber import Subscriber

# The roles of `xinfang run`, one process each where more processes are asked for.
ONE_PROCESS: tuple[tuple[str, ...], ...] = (("run",),)
SPLIT_ROLES: tuple[tuple[str, ...], ...] = (("intake",), ("worker",), ("relay",))


@dataclass
class Running:
    stack: Stack
    subscriber: Subscriber
    processes: list[Started]

    @property
    def process(self) -> Started:
        return self.processes[0]

    def wait(self, count: int) -> int:
        """Until `count` cases are assigned (or nothing moves for a while); how many were."""
        done = waiting.until(self.subscriber.count, count, self._check_alive)
        if done < count:
            for process in self.processes:
                print(
                    f"  {process.name}: {done} of {count} assigned, then no progress for "
                    f"{waiting.STALL_S:.0f} s; its log ends:\n{tail(process.log)}",
                    flush=True,
                )
        return done

    def _check_alive(self) -> None:
        for process in self.processes:
            process.check_alive()


@contextmanager
def running(
    label: str,
    logs: Path,
    prefill: Sequence[Message] = (),
    commands: Sequence[Sequence[str]] = ONE_PROCESS,
) -> Iterator[Running]:
    with fresh_stack(label, logs) as stack:
        stack.upgrade()
        subscriber.declare(stack.amqp_url)
        if prefill:
            pipelined.publish(stack.amqp_url, prefill)
        events = Subscriber(stack.amqp_url).start_consuming()
        try:
            with ExitStack() as processes:
                each = [
                    processes.enter_context(
                        started(
                            f"{label}-xinfang-{'-'.join(command)}",
                            [*XINFANG, *command],
                            stack.env(),
                            logs,
                        )
                    )
                    for command in commands
                ]
                yield Running(stack, events, each)
        finally:
            events.stop()
