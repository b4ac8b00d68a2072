"""A simulated current source driving the electrode-skin load of :mod:`.skin`.

The source regulates current up to its compliance voltage; above it, it delivers
``V_compliance / Z_dc`` and *reports* ``compliance=True``. A setpoint takes effect
``latency`` s after it is requested (one control period by default). Measurements carry
seeded Gaussian noise. Time comes from an injectable :class:`~ionto.run.clock.Clock`.
Sign convention (as on the wire, docs/device-protocol.md): a positive current leaves
through the ACTIVE lead; the voltage is V(active lead) - V(return lead).

Faults (:class:`Fault`) are injected with :meth:`SimulatedCurrentSource.inject`.
``output_off_at`` records the clock time at which the output last went to zero (off,
aborted or 0 A in effect), so tests can measure how quickly a fault ends in a safe state.
"""

from __future__ import annotations

import math
from dataclasses import replace
from enum import StrEnum

import numpy as np

from ionto.run.clock import Clock, SimClock
from ionto.run.devices.base import (
    Capabilities,
    DeviceError,
    DeviceTimeout,
    Reading,
    Status,
    check_current,
)
from ionto.run.devices.skin import SkinLoad, default_load

OPEN_OHM = 1e9  # ohm: what an open circuit looks like to the model


class Fault(StrEnum):
    """Faults the simulated source can be given.

    * ``electrode_lifted``: the contact peels off; the active interface's resistance
      rises 10x per 0.1 s until the circuit is open.
    * ``sweat_short``: the load collapses to ``SkinLoad.short_ohm`` (sweat bridge).
    * ``lead_break``: the lead opens at once.
    * ``driver_hang``: ``read`` returns the last reading again (stale time stamp) or,
      with ``hang="block"``, raises :class:`DeviceTimeout`; the output keeps going.
    * ``over_current``: the output stage runs away to ``over_current_A`` whatever the
      setpoint (still limited by compliance); the device status stays "ok".
    * ``leads_swapped``: the two leads are crossed between the output stage and the
      electrode clips where the voltage is sensed: the current still follows the
      setpoint, but the sensed voltage has the opposite sign (the active electrode is
      driven with the wrong polarity).
    * ``compliance_reached``: the active pad dries out (``SkinLoad.dry_ohm_cm2``), so
      the set current needs more than the compliance voltage.
    * ``patient_stop``: the patient's stop button on the device is pressed; readings
      report status "stop" (the output is left to the controller).
    """

    ELECTRODE_LIFTED = "electrode_lifted"
    SWEAT_SHORT = "sweat_short"
    LEAD_BREAK = "lead_break"
    DRIVER_HANG = "driver_hang"
    OVER_CURRENT = "over_current"
    LEADS_SWAPPED = "leads_swapped"
    COMPLIANCE_REACHED = "compliance_reached"
    PATIENT_STOP = "patient_stop"


class SimulatedCurrentSource:
    """A :class:`~ionto.run.devices.base.CurrentSource` on a :class:`SkinLoad`.

    max_current_A (A), compliance_V (V), resolution_A (A); latency (s) between a
    setpoint request and its effect; noise_A / noise_V: standard deviations (A, V) of
    the measurement noise; seed for the noise; hang: "stale" or "block" (see
    :class:`Fault`); over_current_A (A) for the over-current fault.
    """

    def __init__(
        self,
        load: SkinLoad | None = None,
        *,
        clock: Clock | None = None,
        max_current_A: float = 0.03,
        compliance_V: float = 60.0,
        resolution_A: float = 1e-6,
        latency: float = 0.1,
        noise_A: float = 1e-6,
        noise_V: float = 0.01,
        seed: int = 0,
        hang: str = "stale",
        over_current_A: float = 0.035,
        serial: str = "SIM0001",
    ) -> None:
        self.load = load or default_load()
        self.clock: Clock = clock or SimClock()
        self._caps = Capabilities(max_current_A, compliance_V, resolution_A)
        self.latency = latency
        self.noise_A = noise_A
        self.noise_V = noise_V
        self.hang = hang
        self.over_current_A = over_current_A
        self.serial = serial
        self._rng = np.random.default_rng(seed)
        self.faults: set[Fault] = set()
        self._connected = False
        self._enabled = False
        self._aborted = False
        self._applied = 0.0  # A, the setpoint in effect
        self._pending: list[tuple[float, float]] = []  # (effective time s, A)
        self._t = self.clock.now()  # s, physics advanced up to here
        n = len(self.load.areas)
        self._vc = [0.0] * n  # V across each interface's capacitance
        self._x = [0.0] * n  # activation of each interface (0 rest .. 1)
        self._charge = 0.0  # C, integral of |i|
        self.output_off_at: float | None = self._t  # s, when the output last went to zero
        self._current = 0.0  # A, actual current now
        self._lift_start: float | None = None
        self._last: Reading | None = None

    # ---------------------------------------------------------------- protocol

    @property
    def capabilities(self) -> Capabilities:
        """Range and resolution."""
        return self._caps

    def connect(self) -> None:
        """Start talking to the (simulated) device; output off at 0 A."""
        self._advance()
        self._connected = True
        self._enabled = False
        self._aborted = False
        self._applied = 0.0
        self._pending.clear()

    def close(self) -> None:
        """Output off, 0 A, disconnected."""
        if self._connected:
            self._advance()
            self._enabled = False
            self._applied = 0.0
            self._pending.clear()
        self._connected = False

    def identify(self) -> str:
        """``ionto,SimulatedCurrentSource,<serial>,1.0``."""
        return f"ionto,SimulatedCurrentSource,{self.serial},1.0"

    def check_value(self, amps: float) -> None:
        """Raise :class:`OutOfRangeError` if ``amps`` (A) is out of range."""
        check_current(amps, self._caps)

    def set_current(self, amps: float) -> None:
        """Request ``amps`` (A); it takes effect ``latency`` s later."""
        self._require()
        value = check_current(amps, self._caps)
        value = round(value / self._caps.resolution_A) * self._caps.resolution_A
        self._advance()
        self._aborted = False
        self._pending.append((self.clock.now() + self.latency, value))

    def output(self, enabled: bool) -> None:
        """Enable or disable the output stage (at once)."""
        self._require()
        self._advance()
        self._enabled = bool(enabled)
        if enabled:
            self._aborted = False
        self._note_output(self._t)

    def read(self) -> Reading:
        """Advance the circuit to now and measure (with noise)."""
        self._require()
        if Fault.DRIVER_HANG in self.faults:
            self._advance()
            if self.hang == "block" or self._last is None:
                raise DeviceTimeout("simulated driver hang: no answer")
            return self._last
        self._advance()
        z = self._z_dc()
        target = self._target()
        volts = self._current * self._r_series() + sum(self._vc)
        compliance = self._enabled and abs(target) > 0 and abs(target) * z > self._caps.compliance_V
        if Fault.PATIENT_STOP in self.faults:
            status: Status = "stop"
        elif self._aborted:
            status = "aborted"
        elif not self._enabled:
            status = "off"
        elif compliance:
            status = "compliance"
        else:
            status = "ok"
        volts = volts if z < OPEN_OHM else self._open_volts(target)
        if Fault.LEADS_SWAPPED in self.faults:
            volts = -volts  # sensed at the clips, behind the crossed leads
        reading = Reading(
            t=self.clock.now(),
            current_A=self._current + float(self._rng.normal(0.0, self.noise_A)),
            voltage_V=volts + float(self._rng.normal(0.0, self.noise_V)),
            compliance=compliance,
            status=status,
        )
        self._last = reading
        return reading

    def abort(self) -> None:
        """Output off and setpoint 0 at once (works even during a driver hang)."""
        self._advance()
        self._enabled = False
        self._applied = 0.0
        self._pending.clear()
        self._aborted = True
        self._note_output(self._t)

    @property
    def setpoint(self) -> float:
        """The last requested current (A), in effect or pending."""
        return self._pending[-1][1] if self._pending else self._applied

    @property
    def output_enabled(self) -> bool:
        """True while the output stage is connected."""
        return self._enabled

    # ---------------------------------------------------------------- faults

    def inject(self, fault: Fault | str) -> None:
        """Start a :class:`Fault` now."""
        self._advance()
        fault = Fault(fault)
        self.faults.add(fault)
        if fault is Fault.ELECTRODE_LIFTED:
            self._lift_start = self.clock.now()
        self._note_output(self._t)

    def clear(self, fault: Fault | str | None = None) -> None:
        """End one fault, or all of them."""
        self._advance()
        if fault is None:
            self.faults.clear()
        else:
            self.faults.discard(Fault(fault))
        if Fault.ELECTRODE_LIFTED not in self.faults:
            self._lift_start = None

    def with_load(self, **changes: float | None) -> SimulatedCurrentSource:
        """Change load parameters in place (``SkinLoad`` field names); returns self.
        The number of interfaces (``return_area_cm2``) cannot change mid-session."""
        load = replace(self.load, **changes)  # type: ignore[arg-type]
        if len(load.areas) != len(self.load.areas):
            raise ValueError("with_load cannot add or remove the return interface")
        self.load = load
        return self

    # ---------------------------------------------------------------- physics

    def _require(self) -> None:
        if not self._connected:
            raise DeviceError("simulated source is not connected (call connect() first)")

    def _open_volts(self, target: float) -> float:
        return math.copysign(self._caps.compliance_V, target) if self._enabled and target else 0.0

    def _interfaces(self, t: float) -> list[float]:
        """Resistance (ohm) of each interface at time ``t`` (s), faults included."""
        load = self.load
        rs = [load.interface_ohm(x, a) for x, a in zip(self._x, load.areas, strict=True)]
        if Fault.COMPLIANCE_REACHED in self.faults:
            rs[0] = load.dry_ohm_cm2 / load.area_cm2
        if self._lift_start is not None:
            rs[0] = max(rs[0], 1.0) * 10.0 ** ((t - self._lift_start) / 0.1)
        return [min(r, OPEN_OHM) for r in rs]

    def _r_skin(self, t: float) -> float:
        if Fault.LEAD_BREAK in self.faults:
            return OPEN_OHM
        if Fault.SWEAT_SHORT in self.faults:
            return 0.0
        return min(sum(self._interfaces(t)), OPEN_OHM)

    def skin_resistance(self) -> float:
        """The interfaces' resistance now (ohm), without faults: sum of R_sc / area."""
        load = self.load
        return sum(load.interface_ohm(x, a) for x, a in zip(self._x, load.areas, strict=True))

    @property
    def activation(self) -> tuple[float, ...]:
        """Activation of each interface (0 at rest .. 1 fully conducting)."""
        return tuple(self._x)

    def _r_series(self) -> float:
        return self.load.short_ohm if Fault.SWEAT_SHORT in self.faults else self.load.r_series_ohm

    def _z_dc(self, t: float | None = None) -> float:
        return self._r_series() + self._r_skin(self._t if t is None else t)

    def _target(self) -> float:
        if not self._enabled:
            return 0.0
        if Fault.OVER_CURRENT in self.faults:
            return math.copysign(self.over_current_A, self._applied or 1.0)
        return self._applied

    def _note_output(self, t: float) -> None:
        """Record when the output went to zero (for latency measurements)."""
        if self._target() == 0.0:
            if self.output_off_at is None:
                self.output_off_at = t
        else:
            self.output_off_at = None

    def _advance(self) -> None:
        """Integrate the circuit from the last update to now, piece by piece."""
        now = self.clock.now()
        while self._t < now:
            t_next = now
            if self._pending and self._pending[0][0] <= now:
                t_next = max(self._t, self._pending[0][0])
            self._integrate(t_next - self._t)
            self._t = t_next
            if self._pending and self._pending[0][0] <= self._t:
                self._applied = self._pending.pop(0)[1]
                self._note_output(self._t)
        while self._pending and self._pending[0][0] <= now:
            self._applied = self._pending.pop(0)[1]
            self._note_output(now)

    def _integrate(self, dt: float) -> None:
        if dt <= 0:
            return
        t_end = self._t + dt
        open_circuit = Fault.LEAD_BREAK in self.faults
        short = Fault.SWEAT_SHORT in self.faults
        rs = [0.0] * len(self._x) if short else self._interfaces(t_end)
        z = OPEN_OHM if open_circuit else min(self._r_series() + sum(rs), OPEN_OHM)
        target = self._target()
        current = target
        if abs(target) * z > self._caps.compliance_V:
            current = math.copysign(self._caps.compliance_V / z, target)
        if z >= OPEN_OHM:
            current = 0.0
        load = self.load
        for k, (r, area) in enumerate(zip(rs, load.areas, strict=True)):
            tau = r * load.c_sc_F_cm2 * area
            v_inf = current * r
            decay = math.exp(-dt / tau) if tau > 0 else 0.0
            self._vc[k] = v_inf + (self._vc[k] - v_inf) * decay
            self._x[k] = load.activation_after(self._x[k], current, area, dt)
        self._current = current
        self._charge += abs(current) * dt
