"""The interface every current source implements (a structural ``typing.Protocol``).

Units: time in s, current in A, voltage in V. Signs: a positive current leaves the
source through its ACTIVE lead (the active electrode is then the anode); the voltage is
V(active lead) - V(return lead), so on a passive load it has the sign of the current.
A setpoint outside the device's range **raises** :class:`OutOfRangeError`; nothing is
ever clipped in software (see pymeasure PR #1522 in docs/run.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from ionto.core.errors import IontoError

Status = Literal["ok", "off", "compliance", "aborted", "error", "stop"]
STATUSES: tuple[Status, ...] = ("ok", "off", "compliance", "aborted", "error", "stop")


class DeviceError(IontoError, RuntimeError):
    """The device refused a command or answered something unexpected."""


class DeviceTimeout(DeviceError):
    """The device did not answer in time (a hung driver or a broken link)."""


class OutOfRangeError(IontoError, ValueError):
    """A requested current outside the device's range; ``reason`` says why."""

    def __init__(self, value: float, reason: str) -> None:
        self.value = value
        self.reason = reason
        super().__init__(f"current {value!r} A refused: {reason}")


@dataclass(frozen=True)
class Capabilities:
    """What a source can do: ``max_current_A`` (A, magnitude), ``compliance_V`` (V, the
    largest voltage it can drive) and ``resolution_A`` (A, the setpoint step)."""

    max_current_A: float
    compliance_V: float
    resolution_A: float


@dataclass(frozen=True)
class Reading:
    """One measurement: ``t`` (s, device clock), ``current_A`` (A, measured, signed),
    ``voltage_V`` (V, across the load, signed), ``compliance`` (True when the source is
    voltage-limited and delivers less than its setpoint) and ``status`` ("stop": the
    patient's stop button on the device is pressed)."""

    t: float
    current_A: float
    voltage_V: float
    compliance: bool
    status: Status

    @property
    def impedance_ohm(self) -> float:
        """|V| / |I| (ohm); ``inf`` when no current flows."""
        if abs(self.current_A) < 1e-9:
            return math.inf
        return abs(self.voltage_V) / abs(self.current_A)


def check_current(amps: float, caps: Capabilities) -> float:
    """Return ``amps`` (A) unchanged if the device can deliver it, else raise
    :class:`OutOfRangeError` with the reason. Never clips."""
    if isinstance(amps, bool) or not isinstance(amps, (int, float)):
        raise OutOfRangeError(amps, "not a number")
    if not math.isfinite(amps):
        raise OutOfRangeError(amps, "not a finite number")
    if abs(amps) > caps.max_current_A * (1 + 1e-9):
        raise OutOfRangeError(
            amps, f"|{amps * 1e3:g} mA| exceeds the device maximum {caps.max_current_A * 1e3:g} mA"
        )
    return float(amps)


@runtime_checkable
class CurrentSource(Protocol):
    """A regulated current source driving a patient load."""

    @property
    def capabilities(self) -> Capabilities:
        """Range and resolution (see :class:`Capabilities`)."""
        ...

    def connect(self) -> None:
        """Open the link; output stays off at 0 A."""
        ...

    def close(self) -> None:
        """Turn the output off and release the link (safe to call twice)."""
        ...

    def identify(self) -> str:
        """Maker, model, serial and firmware in one line."""
        ...

    def check_value(self, amps: float) -> None:
        """Raise :class:`OutOfRangeError` if ``amps`` (A) cannot be set; change nothing."""
        ...

    def set_current(self, amps: float) -> None:
        """Set the regulated current (A, signed); raises :class:`OutOfRangeError`."""
        ...

    def output(self, enabled: bool) -> None:
        """Connect (True) or disconnect (False) the output stage."""
        ...

    def read(self) -> Reading:
        """Measure current and voltage now; may raise :class:`DeviceTimeout`."""
        ...

    def abort(self) -> None:
        """Immediate stop: output off and setpoint 0, by the quickest path available."""
        ...
