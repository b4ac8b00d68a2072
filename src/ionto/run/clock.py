"""Clocks for the control loop: real time, scaled real time and simulated time.

Every clock reads in seconds (s) from an arbitrary origin. Tests use :class:`SimClock`,
whose ``sleep`` advances time at once, so a 10 min treatment runs in milliseconds.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """A monotonic clock: ``now()`` in s, ``sleep(seconds)`` waits that many clock seconds."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class MonotonicClock:
    """Real time (``time.monotonic``), optionally ``speed`` times faster than the wall clock."""

    def __init__(self, speed: float = 1.0) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be > 0, got {speed!r}")
        self.speed = speed
        self._origin = time.monotonic()

    def now(self) -> float:
        """Clock time (s): wall seconds since creation times ``speed``."""
        return (time.monotonic() - self._origin) * self.speed

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of clock time (``seconds / speed`` of wall time)."""
        if seconds > 0:
            time.sleep(seconds / self.speed)


class SimClock:
    """Simulated time: ``sleep`` advances the clock immediately (thread-safe)."""

    def __init__(self, start: float = 0.0) -> None:
        self._t = start
        self._lock = threading.Lock()

    def now(self) -> float:
        """Simulated time (s)."""
        with self._lock:
            return self._t

    def sleep(self, seconds: float) -> None:
        """Advance the simulated time by ``seconds`` (s) without waiting."""
        if seconds > 0:
            with self._lock:
                self._t += seconds

    advance = sleep
