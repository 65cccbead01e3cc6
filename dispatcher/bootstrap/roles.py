"""Running roles (intake, commands, workers, relay, scheduler) in one process, supervised.

`xinfang run` runs them all; `xinfang intake|worker|relay|…` one each, to scale out. On stop the
intake stops taking messages first, workers finish what they hold, and the relay publishes
what is left, so SIGTERM drains instead of dropping work.

Every role says whether it is alive (its thread runs) and ready (it reaches what it needs).
A role that ends while nobody asked it to is a failure: `failure` names it, and the process
stops with a non-zero exit so that its supervisor (systemd, compose, Kubernetes) restarts it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import dramatiq

from dispatcher.adapters.files.rules_reload import RulesReloader
from dispatcher.adapters.messaging.consumer import ReliableConsumer
from dispatcher.bootstrap.app import App
from dispatcher.domain.wording import plural
from workers.actors import QUEUES, ROUTE_QUEUE
from workers.broker import declare_queue_now
from workers.scheduler import (
    enqueue_escalations,
    requeue_notifications,
    requeue_unrouted,
    start_scheduler,
)

log = logging.getLogger(__name__)

ROLES = ("intake", "commands", "worker", "relay", "scheduler")
CONSUMERS = frozenset({"intake", "commands"})  # take work in from the queues
WORKER_STOP_TIMEOUT_MS = 30_000
THREAD_STOP_TIMEOUT_S = 60


@dataclass
class Role:
    name: str
    stop: Callable[[], None]
    alive: Callable[[], bool]
    ready: Callable[[], bool]
    thread: threading.Thread | None = None


@dataclass
class RunningRoles:
    """Roles started in the background; stop() shuts them down in a safe order."""

    app: App
    roles: list[Role] = field(default_factory=list)
    ready: list[threading.Event] = field(default_factory=list)
    halted: threading.Event = field(default_factory=threading.Event)
    _failures: list[str] = field(default_factory=list)
    _stopping: bool = False

    def start(self, names: set[str]) -> RunningRoles:
        # Start consumers of work last and stop them first: the relay outlives everyone.
        for name, start in (
            ("relay", self._relay),
            ("scheduler", self._scheduler),
            ("worker", self._worker),
            ("commands", self._commands),
            ("intake", self._intake),
        ):
            if name in names:
                start()
        for role in self.roles:
            self.app.metrics.role_up.watch(role.name, partial(_up, role))
        return self

    # -- the roles -----------------------------------------------------------------------
    def _relay(self) -> None:
        relay = self.app.relay()
        thread = self._thread("relay", relay.run)
        self.ready.append(relay.ready)  # set once xinfang.events is declared
        self._add(
            Role(
                "relay",
                relay.stop,
                thread.is_alive,
                lambda: relay.ready.is_set() and not relay.outage.down,
                thread,
            )
        )

    def _scheduler(self) -> None:
        app = self.app
        for queue in QUEUES:  # where it enqueues
            declare_queue_now(app.broker, queue)
        jobs = {
            "escalate": lambda: enqueue_escalations(
                app.escalations, app.clock, app.actors.enqueue_escalation
            ),
            "requeue-notifications": lambda: requeue_notifications(
                app.deliveries, app.clock, app.actors.notify.send
            ),
            "requeue-unrouted": lambda: requeue_unrouted(
                app.engine, app.clock, app.actors.route.send
            ),
        }
        scheduler = start_scheduler(jobs, startup=self._replan)
        self._add(
            Role(
                "scheduler",
                lambda: scheduler.shutdown(wait=True),
                lambda: bool(scheduler.running),
                lambda: bool(scheduler.running),
            )
        )

    def _replan(self) -> None:
        replanned = self.app.escalations.replan_if_changed(self.app.plan_version, self.app.clock())
        if replanned is not None:
            log.info(
                "ladders, policies, calendar or directory changed: re-planned %s",
                plural(replanned, "case"),
            )

    def _worker(self) -> None:
        worker = self.app.worker()
        worker.start()
        self._add(
            Role(
                "worker",
                lambda: worker.stop(timeout=WORKER_STOP_TIMEOUT_MS),
                lambda: _worker_alive(worker),
                lambda: _worker_alive(worker),
            )
        )
        self._start_rules_reloader()

    def _commands(self) -> None:
        self._consumer("commands", self.app.commands_consumer)

    def _intake(self) -> None:
        declare_queue_now(self.app.broker, ROUTE_QUEUE)  # where it enqueues
        for n in range(self.app.settings.intake_consumers):  # side by side on one queue
            self._consumer(f"intake-{n + 1}" if n else "intake", self.app.intake_consumer)

    def _consumer(self, name: str, make: Callable[[], ReliableConsumer]) -> None:
        consumer = make()
        thread = self._thread(name, consumer.run)
        self.ready.append(consumer.ready)
        self._add(Role(name, consumer.stop, thread.is_alive, lambda: consumer.consuming, thread))

    def _start_rules_reloader(self) -> None:
        """Workers are where rules decide: they pick up a changed rule set without a restart
        (an invalid one is logged and the running set stays)."""
        settings = self.app.settings
        if settings.rules_reload_seconds <= 0:
            return
        reloader = RulesReloader(
            self.app.decider,
            settings.rules_path,
            settings.directory_path,
            interval=settings.rules_reload_seconds,
        ).start()
        self._add(Role("rules-reload", reloader.stop, lambda: True, lambda: True))

    def _add(self, role: Role) -> None:
        self.roles.append(role)

    def _thread(self, name: str, target: Callable[[], None]) -> threading.Thread:
        def supervised() -> None:
            try:
                target()
            except BaseException as error:  # told here, once, with its traceback
                log.exception("role %s failed", name)
                self._ended(name, f"{type(error).__name__}: {error}")
                return
            self._ended(name, "it returned")

        thread = threading.Thread(target=supervised, name=f"xinfang-{name}", daemon=True)
        thread.start()
        return thread

    # -- supervision ---------------------------------------------------------------------
    def _ended(self, name: str, why: str) -> None:
        if self._stopping:
            return
        reason = f"role {name} stopped unexpectedly: {why.splitlines()[0] if why else why}"
        log.critical("%s", reason)
        self._failures.append(reason)
        self.halted.set()

    def failure(self) -> str | None:
        """Why the process cannot go on (a role ended unasked), or None."""
        if not self._stopping:
            for role in self.roles:
                if not role.alive() and not self._failures:
                    self._failures.append(f"role {role.name} stopped unexpectedly")
        return self._failures[0] if self._failures else None

    def status(self) -> dict[str, dict[str, bool]]:
        return {
            role.name: {"alive": role.alive(), "ready": role.alive() and role.ready()}
            for role in self.roles
        }

    def wait_ready(self, timeout: float = 30) -> bool:
        return all(event.wait(timeout) for event in self.ready)

    def stop(self) -> None:
        """The consumers of work stop together first, then the others one by one in the
        reverse order of their start: the relay last, so that it publishes what is left."""
        self._stopping = True
        consumers = [role for role in self.roles if _consumes(role)]
        for role in consumers:
            role.stop()
        for role in consumers:
            _join(role)
        for role in reversed(self.roles):
            if not _consumes(role):
                role.stop()
                _join(role)
        self.roles.clear()
        log.info("all roles stopped")


def _consumes(role: Role) -> bool:
    return role.name.split("-")[0] in CONSUMERS  # intake, intake-2, …, commands


def _up(role: Role) -> bool:
    return role.alive() and role.ready()


def _join(role: Role) -> None:
    if role.thread is not None:
        role.thread.join(timeout=THREAD_STOP_TIMEOUT_S)


def _worker_alive(worker: dramatiq.Worker) -> bool:
    threads = [*worker.consumers.values(), *worker.workers]
    return bool(threads) and all(thread.is_alive() for thread in threads)
