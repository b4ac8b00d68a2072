"""The setpoint schedule: a :class:`~ionto.plan.protocol.Protocol` executed period by period.

Units: time in s, current in A, charge in C, voltage in V, impedance in ohm. The schedule
runs on *step time* (it stands still while the controller pauses) and on *measured*
quantities: dose stops count the measured |current|, voltage and impedance stops look
at the latest reading. Pulse trains and polarity reversal are sampled once per control
period, so every phase must last at least one period (:func:`renderable`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ionto.plan.protocol import (
    ForTime,
    Hold,
    Protocol,
    Pulse,
    Ramp,
    Rest,
    Reverse,
    Step,
    UntilDose,
    UntilImpedance,
    UntilVoltage,
)
from ionto.plan.protocol.timeline import flatten, phases

EPS = 1e-9  # s: a time stop is reached when within this of its value


def renderable(protocol: Protocol, period: float) -> list[str]:
    """Reasons why ``protocol`` cannot be executed with a ``period`` (s) control loop."""
    reasons = []
    for label, step in flatten(protocol.steps):
        if isinstance(step, (Pulse, Reverse)):
            shortest = min(w for w, _ in phases(step))
            if shortest < period - EPS:
                reasons.append(
                    f"{label} ({step}): a {shortest:g} s phase is shorter than the "
                    f"{period:g} s control period (pulses faster than the loop need a device "
                    "that generates them itself)"
                )
    return reasons


def _level_at(step: Step, s: float, start_level: float) -> float:
    """Setpoint (A) of ``step`` at step time ``s`` (s), starting from ``start_level`` (A)."""
    if isinstance(step, Ramp):
        frac = min(1.0, max(0.0, s / step.over))
        return start_level + (step.to - start_level) * frac
    if isinstance(step, Hold):
        return step.current
    if isinstance(step, Rest):
        return 0.0
    if isinstance(step, (Pulse, Reverse)):
        ph = phases(step)
        period = sum(w for w, _ in ph)
        x = math.fmod(s + EPS, period)
        for w, level in ph:
            if x < w:
                return level
            x -= w
        return ph[-1][1]
    raise TypeError(f"not an executable step: {step!r}")  # pragma: no cover


@dataclass
class Schedule:
    """Executes ``protocol``; ``extend`` makes time-stopped holds run on until their planned
    charge when the source was compliance-limited (at most ``extend_limit`` times longer).
    """

    protocol: Protocol
    extend: bool = False
    extend_limit: float = 2.0

    def __post_init__(self) -> None:
        self.items: list[tuple[str, Step]] = list(flatten(self.protocol.steps))
        kinds = [isinstance(step, Ramp) for _, step in self.items]
        body = [k for k, is_ramp in enumerate(kinds) if not is_ramp]
        self.lead_end = body[0] if body else max(1, len(kinds) - 1)
        self.trail_start = body[-1] + 1 if body else len(kinds) - 1
        self.index = 0
        self.s = 0.0  # s, step time
        self.step_charge = 0.0  # C, measured integral of |i| in this step
        self.start_level = 0.0  # A
        self.limited = False  # compliance seen during this step
        self.z_start: float | None = None  # ohm, for impedance stops
        self.shortfall: str | None = None  # set when an extension limit ended a step

    @property
    def done(self) -> bool:
        """True once every step has ended."""
        return self.index >= len(self.items)

    @property
    def label(self) -> str:
        """Where the schedule is (``"step 2"``, ``"done"``)."""
        return self.items[self.index][0] if not self.done else "done"

    @property
    def phase(self) -> str:
        """``"ramp_up"`` in the leading ramps, ``"ramp_down"`` in the trailing ones, else
        ``"deliver"`` (the controller states of the same names)."""
        if self.index < self.lead_end:
            return "ramp_up"
        if self.index >= self.trail_start:
            return "ramp_down"
        return "deliver"

    def setpoint(self) -> float:
        """Current (A) the schedule asks for now."""
        if self.done:
            return 0.0
        return _level_at(self.items[self.index][1], self.s, self.start_level)

    def advance(
        self, dt: float, charge: float, voltage: float | None, impedance: float | None
    ) -> list[str]:
        """Move on by ``dt`` (s) of step time with ``charge`` (C) measured in it and the
        latest ``voltage`` (V) and ``impedance`` (ohm). Returns one message per step ended."""
        ended: list[str] = []
        if self.done:
            return ended
        self.s += dt
        self.step_charge += charge
        if impedance is not None and math.isfinite(impedance) and self.z_start is None:
            self.z_start = impedance
        reason = self._stop_reason(voltage, impedance)
        if reason is not None:
            label, step = self.items[self.index]
            end_level = 0.0 if isinstance(step, (Pulse, Rest)) else self.setpoint()
            if isinstance(step, Ramp):
                end_level = step.to
            ended.append(f"{label} ({step}) ended: {reason}")
            self.index += 1
            self.s = 0.0
            self.step_charge = 0.0
            self.start_level = end_level
            self.limited = False
            self.z_start = None
        return ended

    def _stop_reason(self, voltage: float | None, impedance: float | None) -> str | None:
        step = self.items[self.index][1]
        if isinstance(step, Ramp):
            return "ramp done" if self.s >= step.over - EPS else None
        if isinstance(step, Rest):
            return "rest done" if self.s >= step.duration - EPS else None
        assert isinstance(step, (Hold, Pulse, Reverse))
        for stop in step.stops:
            if isinstance(stop, ForTime):
                if isinstance(step, Hold) and self.extend and self.limited:
                    planned = abs(step.current) * stop.seconds
                    if self.step_charge >= planned:
                        return f"planned charge delivered in {self.s:.1f} s (time extended)"
                    if self.s >= stop.seconds * self.extend_limit - EPS:
                        self.shortfall = (
                            f"{step}: extension limit {self.extend_limit:g}x reached with "
                            f"{self.step_charge / 0.06:.3g} of {planned / 0.06:.3g} mA*min"
                        )
                        return "extension limit reached"
                elif self.s >= stop.seconds - EPS:
                    return f"{stop}"
            elif isinstance(stop, UntilDose):
                if self.step_charge >= stop.coulombs * (1 - 1e-12):
                    return f"{stop}"
            elif isinstance(stop, UntilVoltage):
                if voltage is not None and abs(voltage) >= stop.volts:
                    return f"{stop} (measured {abs(voltage):.3g} V)"
            elif isinstance(stop, UntilImpedance) and (
                impedance is not None and self.z_start is not None and math.isfinite(impedance)
            ):
                crossed = (self.z_start - stop.ohms) * (impedance - stop.ohms) <= 0
                if crossed:
                    return f"{stop} (measured {impedance:.4g} ohm)"
        return None
