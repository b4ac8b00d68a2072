"""The typed form of a protocol: frozen dataclasses whose ``str()`` is the canonical text.

Units (SI floats): current in A, time in s, frequency in Hz, dose (charge) in C, voltage
in V, impedance in ohm, duty as a fraction in (0, 1]. A positive current flows with the
plan's polarity (the active electrode is the anode or the cathode the plan names); a
negative current reverses it. ``Repeat`` is the only way to repeat steps: a tuple never
means a cycle.

Constructing a step with an impossible value (a negative duration, a duty above 100 %,
a repeat count of 0, ...) raises :class:`ionto.core.errors.ConfigError` naming the field,
the value, its unit and the allowed range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeAlias

from ionto.core.errors import ConfigError
from ionto.plan.protocol.quantities import Kind, format_percent, format_quantity


def _check(step: str, name: str, value: float, unit: str, ok: bool, allowed: str) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and ok):
        raise ConfigError(f"{step}.{name}", value, unit, allowed)


def _positive(step: str, name: str, value: float, unit: str) -> None:
    _check(step, name, value, unit, isinstance(value, (int, float)) and value > 0, "> 0")


# ------------------------------------------------------------------ stop conditions


@dataclass(frozen=True)
class ForTime:
    """Stop after ``seconds`` (s) of the step: ``for 10 min``."""

    seconds: float

    def __post_init__(self) -> None:
        _positive("for", "seconds", self.seconds, "s")

    def __str__(self) -> str:
        return f"for {format_quantity(self.seconds, 'time')}"


@dataclass(frozen=True)
class UntilDose:
    """Stop when the step has passed ``coulombs`` (C) of charge, counted as the integral
    of |current|: ``until 40 mA*min`` (40 mA*min = 2.4 C)."""

    coulombs: float

    def __post_init__(self) -> None:
        _positive("until", "dose", self.coulombs, "C")

    def __str__(self) -> str:
        return f"until {format_quantity(self.coulombs, 'dose')}"


@dataclass(frozen=True)
class UntilVoltage:
    """Stop when the magnitude of the electrode voltage reaches ``volts`` (V): ``until 40 V``.
    Known only while the session runs (a run-time stop)."""

    volts: float

    def __post_init__(self) -> None:
        _positive("until", "voltage", self.volts, "V")

    def __str__(self) -> str:
        return f"until {format_quantity(self.volts, 'voltage')}"


@dataclass(frozen=True)
class UntilImpedance:
    """Stop when the load impedance reaches ``ohms`` (ohm), from whichever side it started:
    ``until 10 kohm``. Known only while the session runs (a run-time stop)."""

    ohms: float

    def __post_init__(self) -> None:
        _positive("until", "impedance", self.ohms, "ohm")

    def __str__(self) -> str:
        return f"until {format_quantity(self.ohms, 'impedance')}"


Stop: TypeAlias = ForTime | UntilDose | UntilVoltage | UntilImpedance

STOP_KIND: dict[type, Kind] = {
    ForTime: "time",
    UntilDose: "dose",
    UntilVoltage: "voltage",
    UntilImpedance: "impedance",
}


def _check_stops(step: str, stops: tuple[Stop, ...]) -> None:
    if not isinstance(stops, tuple) or not stops:
        raise ConfigError(
            f"{step}.stops",
            stops,
            None,
            'a tuple of at least one stop condition, e.g. (ForTime(600.0),) for "for 10 min"',
            "a step needs at least one stop condition",
        )
    seen: set[type] = set()
    for stop in stops:
        if type(stop) not in STOP_KIND:
            raise ConfigError(
                f"{step}.stops", stop, None, "ForTime, UntilDose, UntilVoltage or UntilImpedance"
            )
        if type(stop) in seen:
            raise ConfigError(
                f"{step}.stops",
                str(stop),
                None,
                "each kind of stop condition at most once",
                f"a second {STOP_KIND[type(stop)]} condition ({stop})",
            )
        seen.add(type(stop))


def stops_text(stops: tuple[Stop, ...]) -> str:
    """``for 10 min or until 40 mA*min``."""
    return " or ".join(str(s) for s in stops)


# ------------------------------------------------------------------ steps


@dataclass(frozen=True)
class Ramp:
    """Change the current linearly from the present level to ``to`` (A) over ``over`` (s):
    ``ramp to 4 mA over 30 s``. The present level is the end level of the step before
    (0 at the start; 0 after ``rest`` and ``pulse``)."""

    to: float
    over: float

    def __post_init__(self) -> None:
        _check("ramp", "to", self.to, "A", True, "a finite current")
        _positive("ramp", "over", self.over, "s")

    def __str__(self) -> str:
        to, over = format_quantity(self.to, "current"), format_quantity(self.over, "time")
        return f"ramp to {to} over {over}"


@dataclass(frozen=True)
class Hold:
    """A constant ``current`` (A) until the first stop condition: ``hold 4 mA for 10 min``."""

    current: float
    stops: tuple[Stop, ...]

    def __post_init__(self) -> None:
        _check("hold", "current", self.current, "A", True, "a finite current")
        _check_stops("hold", self.stops)

    def __str__(self) -> str:
        return f"hold {format_quantity(self.current, 'current')} {stops_text(self.stops)}"


@dataclass(frozen=True)
class Pulse:
    """A train of square pulses of amplitude ``current`` (A) at ``frequency`` (Hz).

    The pulse length is given either as ``duty`` (fraction of the period during which
    current flows, all phases together) or as ``width`` (s, the length of one phase).
    ``biphasic`` pulses are a positive phase followed at once by an equal negative phase
    (no net charge); monophasic pulses have one positive phase. Between pulses the
    current is 0. Examples: ``pulse 2 mA at 1 kHz, 50% duty, for 15 min``;
    ``pulse 30 mA at 40 Hz, 300 us wide, biphasic, for 10 s``.
    """

    current: float
    frequency: float
    stops: tuple[Stop, ...]
    duty: float | None = None
    width: float | None = None
    biphasic: bool = False

    def __post_init__(self) -> None:
        _positive("pulse", "current", self.current, "A")
        _positive("pulse", "frequency", self.frequency, "Hz")
        if (self.duty is None) == (self.width is None):
            raise ConfigError(
                "pulse.duty",
                self.duty,
                None,
                "exactly one of duty or width",
                "give a duty or a width",
            )
        if self.duty is not None:
            ok = isinstance(self.duty, (int, float)) and 0 < self.duty <= 1
            _check("pulse", "duty", self.duty, "dimensionless", ok, "> 0 and <= 1 (100%)")
        if self.width is not None:
            _positive("pulse", "width", self.width, "s")
            phases = 2 if self.biphasic else 1
            limit = 1 / (phases * self.frequency)
            _check(
                "pulse",
                "width",
                self.width,
                "s",
                self.width * phases * self.frequency <= 1 + 1e-12,
                f"<= {limit:.6g} s ({'two phases' if self.biphasic else 'one phase'} per period)",
            )
        _check_stops("pulse", self.stops)

    @property
    def on_fraction(self) -> float:
        """Fraction of each period with current flowing (all phases), dimensionless."""
        if self.duty is not None:
            return self.duty
        assert self.width is not None
        return min(1.0, self.width * self.frequency * (2 if self.biphasic else 1))

    @property
    def phase_width(self) -> float:
        """Length of one phase (s)."""
        if self.width is not None:
            return self.width
        return self.on_fraction / (self.frequency * (2 if self.biphasic else 1))

    def __str__(self) -> str:
        amplitude = format_quantity(self.current, "current")
        frequency = format_quantity(self.frequency, "frequency")
        if self.duty is not None:
            shape = f"{format_percent(self.duty)} duty"
        else:
            assert self.width is not None
            shape = f"{format_quantity(self.width, 'time')} wide"
        phases = ", biphasic" if self.biphasic else ""
        return f"pulse {amplitude} at {frequency}, {shape}{phases}, {stops_text(self.stops)}"


@dataclass(frozen=True)
class Reverse:
    """A constant ``current`` (A) whose polarity flips every ``every`` (s), starting with
    the plan's polarity: ``reverse polarity every 10 min at 15 mA for 20 min``."""

    current: float
    every: float
    stops: tuple[Stop, ...]

    def __post_init__(self) -> None:
        _positive("reverse", "current", self.current, "A")
        _positive("reverse", "every", self.every, "s")
        _check_stops("reverse", self.stops)

    def __str__(self) -> str:
        every = format_quantity(self.every, "time")
        current = format_quantity(self.current, "current")
        return f"reverse polarity every {every} at {current} {stops_text(self.stops)}"


@dataclass(frozen=True)
class Rest:
    """No current for ``duration`` (s): ``rest 30 min``."""

    duration: float

    def __post_init__(self) -> None:
        _positive("rest", "duration", self.duration, "s")

    def __str__(self) -> str:
        return f"rest {format_quantity(self.duration, 'time')}"


@dataclass(frozen=True)
class Repeat:
    """``steps`` done ``count`` times in order: ``repeat 3 times: ... end``."""

    count: int
    steps: tuple[Step, ...]

    def __post_init__(self) -> None:
        ok = isinstance(self.count, int) and not isinstance(self.count, bool) and self.count >= 1
        if not ok:
            raise ConfigError("repeat.count", self.count, None, "an integer >= 1")
        _check_steps("repeat.steps", self.steps)

    def __str__(self) -> str:
        noun = "time" if self.count == 1 else "times"
        body = ["  " + line for step in self.steps for line in str(step).splitlines()]
        return "\n".join([f"repeat {self.count} {noun}:", *body, "end"])


Step: TypeAlias = Ramp | Hold | Pulse | Reverse | Rest | Repeat
STEP_TYPES = (Ramp, Hold, Pulse, Reverse, Rest, Repeat)


def _check_steps(field: str, steps: tuple[Step, ...]) -> None:
    if not isinstance(steps, tuple) or not steps:
        raise ConfigError(
            field, steps, None, "a tuple of at least one step", "needs at least one step"
        )
    for k, step in enumerate(steps):
        if not isinstance(step, STEP_TYPES):
            raise ConfigError(
                f"{field}[{k}]", step, None, "Ramp, Hold, Pulse, Reverse, Rest or Repeat"
            )
