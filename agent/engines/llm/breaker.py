"""A circuit breaker for the model: stop calling it during an outage, probe it again later."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

FAILURES_TO_OPEN = 3  # consecutive failed calls
COOLDOWN_SECONDS = 30.0  # then one call probes the model again
MAX_COOLDOWN_SECONDS = 300.0  # a probe that fails doubles the wait, up to this


class Breaker:
    """Closed: every step calls the model. Open (after consecutive failures): steps use the
    offline engine without calling. After the cooldown one step probes; its success closes the
    breaker, its failure opens it again for twice as long."""

    def __init__(
        self,
        failures: int = FAILURES_TO_OPEN,
        cooldown: float = COOLDOWN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.threshold, self.base, self.clock = failures, cooldown, clock
        self.cooldown = cooldown
        self.failures = 0
        self.opened: float | None = None  # when it opened; None while closed
        self.probing = False
        self._lock = threading.Lock()

    @property
    def open(self) -> bool:
        """True while calls are held back (an outage)."""
        return self.opened is not None

    def allow(self) -> bool:
        """Whether this step may call the model: always while closed, once after the cooldown."""
        with self._lock:
            if self.opened is None:
                return True
            if self.probing or self.clock() - self.opened < self.cooldown:
                return False
            self.probing = True
            return True

    def success(self) -> bool:
        """A call worked; True when that ends an outage."""
        with self._lock:
            was_open = self.opened is not None
            self.failures, self.opened, self.probing, self.cooldown = 0, None, False, self.base
            return was_open

    def failure(self) -> bool:
        """A call failed; True when that starts an outage."""
        with self._lock:
            self.failures += 1
            if self.opened is not None:
                if self.probing:  # the probe failed: wait longer before the next one
                    self.opened, self.probing = self.clock(), False
                    self.cooldown = min(self.cooldown * 2, MAX_COOLDOWN_SECONDS)
                return False  # else a call that started before the outage was noticed
            if self.failures >= self.threshold:
                self.opened = self.clock()
                return True
            return False
