"""A circuit breaker: stop calling an upstream that keeps failing, try again later.

When Skatteverket is down, every fallback lookup would otherwise wait out the full
timeout, holding a request (and an official) for seconds each. After ``threshold``
failures in a row the circuit opens and lookups fail at once; after ``cooldown``
seconds one trial call is let through (half-open): success closes the circuit,
failure opens it for another cool-down.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import Enum


class CircuitState(Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(
        self, threshold: int, cooldown: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self.clock = clock
        self.failures = 0
        self.opened_at = 0.0
        self._open = False
        self._trial_in_flight = False

    @property
    def state(self) -> CircuitState:
        if not self._open:
            return CircuitState.CLOSED
        if self._trial_in_flight or self.clock() - self.opened_at >= self.cooldown:
            return CircuitState.HALF_OPEN
        return CircuitState.OPEN

    @property
    def retry_after(self) -> float:
        """Seconds until a trial call will be let through (0 when calls go through now)."""
        if not self._open:
            return 0.0
        return max(0.0, self.opened_at + self.cooldown - self.clock())

    def allow(self) -> bool:
        """May a call go out now? In half-open state only one trial call at a time."""
        state = self.state
        if state is CircuitState.CLOSED:
            return True
        if state is CircuitState.HALF_OPEN and not self._trial_in_flight:
            self._trial_in_flight = True
            return True
        return False

    def succeeded(self) -> None:
        self.failures = 0
        self._open = False
        self._trial_in_flight = False

    def failed(self) -> None:
        self.failures += 1
        if self._trial_in_flight or self.failures >= self.threshold:
            self._open = True
            self.opened_at = self.clock()
        self._trial_in_flight = False

    def abandoned(self) -> None:
        """A call ended without an answer either way (cancelled): let another try."""
        self._trial_in_flight = False
