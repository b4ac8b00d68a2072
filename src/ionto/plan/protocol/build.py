"""Typed constructors that take quantities as text: ``hold("4 mA", until=["40 mA*min"])``.

Each function returns the same frozen step the parser builds from the text form, so
``hold("2 mA", until=["10 min", "40 mA*min"]) == Protocol.parse("hold 2 mA for 10 min
or until 40 mA*min").steps[0]``. A quantity may be given as text with a unit (parsed
by pint) or as a float in SI units (A, s, Hz, C, V, ohm). ``until`` entries are sorted
by their dimension: a time gives ``for``, a charge a dose, a voltage or an impedance a
run-time stop. Bad values raise :class:`ionto.core.errors.ConfigError`.
"""

from __future__ import annotations

from collections.abc import Sequence

from ionto.core.errors import ConfigError
from ionto.core.units import parse_quantity
from ionto.plan.protocol.model import Protocol
from ionto.plan.protocol.steps import (
    ForTime,
    Hold,
    Pulse,
    Ramp,
    Repeat,
    Rest,
    Reverse,
    Step,
    Stop,
    UntilDose,
    UntilImpedance,
    UntilVoltage,
)

Value = str | float


def _si(value: Value, unit: str, field: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return parse_quantity(value, unit, field)


def _stop(value: Value, field: str) -> Stop:
    if isinstance(value, (ForTime, UntilDose, UntilVoltage, UntilImpedance)):
        return value
    for unit, make in (
        ("s", ForTime),
        ("C", UntilDose),
        ("V", UntilVoltage),
        ("ohm", UntilImpedance),
    ):
        try:
            x = parse_quantity(value, unit, field)
        except ConfigError:
            continue
        return make(x)
    raise ConfigError(
        field,
        value,
        None,
        'a time ("10 min"), a dose ("40 mA*min"), a voltage ("40 V") or an impedance ("10 kohm")',
        f"{value!r} is not a stop condition",
    )


def _stops(until: Value | Sequence[Value], field: str) -> tuple[Stop, ...]:
    items = [until] if isinstance(until, (str, int, float)) else list(until)
    return tuple(_stop(v, f"{field}[{k}]") for k, v in enumerate(items))


def ramp(to: Value, over: Value) -> Ramp:
    """``ramp to TO over OVER``: to (A), over (s)."""
    return Ramp(to=_si(to, "A", "ramp.to"), over=_si(over, "s", "ramp.over"))


def hold(current: Value, until: Value | Sequence[Value]) -> Hold:
    """``hold CURRENT for/until ...``: current (A); until: times, doses, voltages, impedances."""
    return Hold(current=_si(current, "A", "hold.current"), stops=_stops(until, "hold.until"))


def pulse(
    current: Value,
    at: Value,
    until: Value | Sequence[Value],
    *,
    duty: Value | None = None,
    width: Value | None = None,
    biphasic: bool = False,
) -> Pulse:
    """``pulse CURRENT at AT, DUTY duty|WIDTH wide[, biphasic], ...``.

    current (A), at (Hz), duty as ``"50%"`` or a fraction, width (s).
    """
    duty_value: float | None = None
    if isinstance(duty, str):
        duty_value = parse_quantity(duty, "dimensionless", "pulse.duty")
    elif duty is not None:
        duty_value = float(duty)
    return Pulse(
        current=_si(current, "A", "pulse.current"),
        frequency=_si(at, "Hz", "pulse.frequency"),
        duty=duty_value,
        width=None if width is None else _si(width, "s", "pulse.width"),
        biphasic=biphasic,
        stops=_stops(until, "pulse.until"),
    )


def reverse(current: Value, every: Value, until: Value | Sequence[Value]) -> Reverse:
    """``reverse polarity every EVERY at CURRENT ...``: current (A), every (s)."""
    return Reverse(
        current=_si(current, "A", "reverse.current"),
        every=_si(every, "s", "reverse.every"),
        stops=_stops(until, "reverse.until"),
    )


def rest(duration: Value) -> Rest:
    """``rest DURATION``: duration (s)."""
    return Rest(duration=_si(duration, "s", "rest.duration"))


def repeat(count: int, *steps: Step) -> Repeat:
    """``repeat COUNT times: STEPS end``."""
    return Repeat(count=count, steps=tuple(steps))


def protocol(*steps: Step) -> Protocol:
    """A protocol of ``steps`` in order."""
    return Protocol(steps=tuple(steps))
