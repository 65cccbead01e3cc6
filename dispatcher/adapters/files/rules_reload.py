"""Hot reload of the rule set: poll the rule and directory files, and swap in a new, valid set.

The decider's `ruleset` attribute is replaced in one assignment, which is atomic in Python: a
decision in flight finishes with the set it started with, the next one uses the new set, and each
records its `ruleset_version` (which carries a hash of the files, so even an edit without a
version bump is visible on the decisions). An invalid new set is logged problem by problem
(file, rule, field) and the running set stays.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path

from dispatcher.adapters.files.rules import RuleDecider, load_ruleset
from dispatcher.domain.wording import plural
from rules import (
    RuleFileError,
    RuleSet,
    default_directory_path,
    default_rules_path,
)

log = logging.getLogger("xinfang.rules")


class RulesReloader:
    """Polls every `interval` seconds in a daemon thread; no clock, only a stop Event's wait."""

    def __init__(
        self,
        decider: RuleDecider,
        rules_path: Path | None = None,
        directory_path: Path | None = None,
        interval: float = 5.0,
    ) -> None:
        self.decider = decider
        self.rules_path = rules_path or default_rules_path()
        self.directory_path = directory_path or default_directory_path()
        self.interval = interval
        self._seen = self.fingerprint()  # what the running set (or the last failure) came from
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one reload at a time (poller and reload_now)

    def fingerprint(self) -> str:
        """A hash of the names and contents of every rule file and the directory file."""
        digest = hashlib.sha256()
        for path in (*self._rule_files(), self.directory_path):
            digest.update(str(path).encode() + b"\0")
            try:
                digest.update(path.read_bytes())
            except OSError:
                digest.update(b"(unreadable)")  # load_rules will report it if it persists
        return digest.hexdigest()

    def _rule_files(self) -> list[Path]:
        if self.rules_path.is_dir():
            return sorted(p for p in self.rules_path.iterdir() if p.suffix == ".yaml")
        return [self.rules_path]

    def poll(self) -> bool:
        """Reload if the files changed since the last attempt; True when a new set went live."""
        if self.fingerprint() == self._seen:
            return False
        return self.reload_now()

    def reload_now(self) -> bool:
        """Load, validate and swap now; True when a new set went live, False when the files are
        invalid (logged; the old set stays) or give the very same version."""
        with self._lock:
            self._seen = self.fingerprint()
            ruleset = self._load()
            if ruleset is None:
                return False
            current = self.decider.ruleset
            if ruleset.version == current.version:
                return False
            self.decider.ruleset = ruleset
            log.info(
                "rules reloaded: %s → %s (%d rules)", current.version, ruleset.version, len(ruleset)
            )
            return True

    def _load(self) -> RuleSet | None:
        try:
            return load_ruleset(self.rules_path, self.directory_path)
        except RuleFileError as error:
            log.error(
                "rules not reloaded, keeping %s: %s",
                self.decider.ruleset.version,
                plural(len(error.problems), "problem"),
            )
            for problem in error.problems:
                log.error("rules: %s", problem)
        return None

    def start(self) -> RulesReloader:
        self._thread = threading.Thread(target=self._run, name="rules-reload", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.poll()
            except Exception:  # a bug here must not kill the poller, and never the workers
                log.exception("rules reload check failed")

    def stop(self, timeout: float | None = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
