"""Running roles (intake, workers, relay) in one process until told to stop.

`xinfang run` runs them all; `xinfang intake|worker|relay` one each, to scale out. On stop the
intake stops taking messages first, workers finish what they hold, and the relay publishes
what is left, so SIGTERM drains instead of dropping work.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from dispatcher.app import App
from dispatcher.rules_reload import RulesReloader
from dispatcher.scheduler import start_scheduler

log = logging.getLogger(__name__)

ROLES = ("intake", "commands", "worker", "relay", "scheduler")
WORKER_STOP_TIMEOUT_MS = 30_000


@dataclass
class RunningRoles:
    """Roles started in the background; stop() shuts them down in a safe order."""

    app: App
    _roles: list[tuple[Callable[[], None], threading.Thread | None]] = field(default_factory=list)
    ready: list[threading.Event] = field(default_factory=list)

    def start(self, roles: set[str]) -> RunningRoles:
        # Start consumers of work last and stop them first: the relay outlives everyone.
        if "relay" in roles:
            relay = self.app.relay()
            self._roles.append((relay.stop, _thread("relay", relay.run)))
        if "scheduler" in roles:
            scheduler = start_scheduler(self.app.engine, self.app.clock,
                                        self.app.actors.route.send)
            self._roles.append((lambda: scheduler.shutdown(wait=True), None))
        if "worker" in roles:
            worker = self.app.worker()
            worker.start()
            self._roles.append((lambda: worker.stop(timeout=WORKER_STOP_TIMEOUT_MS), None))
            self._start_rules_reloader()
        for role, make in (("commands", self.app.commands_consumer),
                           ("intake", self.app.intake_consumer)):
            if role in roles:
                consumer = make()
                self.ready.append(consumer.ready)
                self._roles.append((consumer.stop, _thread(role, consumer.run)))
        return self

    def _start_rules_reloader(self) -> None:
        """Workers are where rules decide: they pick up a changed rule set without a restart
        (an invalid one is logged and the running set stays)."""
        settings = self.app.settings
        if settings.rules_reload_seconds <= 0:
            return
        reloader = RulesReloader(self.app.decider, settings.rules_path, settings.directory_path,
                                 interval=settings.rules_reload_seconds).start()
        self._roles.append((reloader.stop, None))

    def wait_ready(self, timeout: float = 30) -> bool:
        return all(event.wait(timeout) for event in self.ready)

    def stop(self) -> None:
        for stop_role, thread in reversed(self._roles):
            stop_role()
            if thread is not None:
                thread.join(timeout=60)
        self._roles.clear()
        log.info("all roles stopped")


def _thread(name: str, target: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=target, name=f"xinfang-{name}", daemon=True)
    thread.start()
    return thread
