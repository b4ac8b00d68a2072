"""Monitors with hysteresis: trip on one threshold, re-arm on another (like bluesky's
suspenders). Values are in the unit of the monitored quantity (ohm, A, V, periods)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Change = Literal["trip", "rearm"]


@dataclass
class Hysteresis:
    """Trips when ``value >= trip`` (``above``) or ``value <= trip`` (not ``above``) for
    ``count`` consecutive samples; re-arms when the value is back past ``rearm``.

    ``None`` values (not measurable now, e.g. no current flowing) change nothing.
    """

    name: str
    trip: float
    rearm: float
    above: bool = True
    count: int = 1
    tripped: bool = False
    _n: int = 0

    def __post_init__(self) -> None:
        ok = self.rearm < self.trip if self.above else self.rearm > self.trip
        if not ok:
            side = "below" if self.above else "above"
            raise ValueError(f"{self.name}: re-arm threshold must lie {side} the trip threshold")

    def update(self, value: float | None) -> Change | None:
        """Feed one sample; returns "trip" or "rearm" when the state changes."""
        if value is None:
            return None
        beyond = value >= self.trip if self.above else value <= self.trip
        back = value < self.rearm if self.above else value > self.rearm
        if not self.tripped:
            self._n = self._n + 1 if beyond else 0
            if self._n >= self.count:
                self.tripped = True
                self._n = 0
                return "trip"
        elif back:
            self.tripped = False
            return "rearm"
        return None

    def reset(self) -> None:
        """Back to armed."""
        self.tripped = False
        self._n = 0
