"""A simulated current source driving an electrode-skin equivalent circuit.

Load (all of it lumped between the two electrodes)::

    I --[ R_series ]--+--[ R_skin ]--+--
                      +--[ C_skin ]--+

* ``R_series`` (ohm): body and electrolyte, 300-1000 ohm whole-body internal
  resistance (clinical.md section 6, [C]); default 500 ohm.
* ``R_skin`` (ohm*cm^2 per unit area, divided by the contact area): stratum corneum,
  10 kohm*cm^2 - 1 Mohm*cm^2 on gel-coated unprepared skin at 1 Hz (Rosell 1988, [C]);
  default 20 kohm*cm^2. It falls with the charge passed toward ``r_skin_floor``
  (~1 kohm*cm^2, CCAC study, [C]) as ``floor + (r0 - floor) * exp(-q / q_drop)``.
* ``C_skin`` (F/cm^2 times the area): 0.02-0.05 uF/cm^2 ([U], a fitting parameter);
  default 0.03 uF/cm^2.

The source regulates current up to its compliance voltage; above it, it delivers
``V_compliance / Z_dc`` and *reports* ``compliance=True``. A setpoint takes effect
``latency`` s after it is requested (one control period by default). Measurements carry
seeded Gaussian noise. Time comes from an injectable :class:`~ionto.run.clock.Clock`.

Faults (:class:`Fault`) are injected with :meth:`SimulatedCurrentSource.inject`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
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

OPEN_OHM = 1e9  # ohm: what an open circuit looks like to the model


class Fault(StrEnum):
    """Faults the simulated source can be given.

    * ``electrode_lifted``: the contact peels off; the skin resistance rises 10x per
      0.1 s until the circuit is open.
    * ``sweat_short``: the load collapses to ``SkinLoad.short_ohm`` (sweat bridge).
    * ``lead_break``: the lead opens at once.
    * ``driver_hang``: ``read`` returns the last reading again (stale time stamp) or,
      with ``hang="block"``, raises :class:`DeviceTimeout`; the output keeps going.
    * ``over_current``: the output stage runs away to ``over_current_A`` whatever the
      setpoint (still limited by compliance); the device status stays "ok".
    """

    ELECTRODE_LIFTED = "electrode_lifted"
    SWEAT_SHORT = "sweat_short"
    LEAD_BREAK = "lead_break"
    DRIVER_HANG = "driver_hang"
    OVER_CURRENT = "over_current"


@dataclass(frozen=True)
class SkinLoad:
    """Electrode-skin equivalent circuit (see the module docstring for sources).

    area_cm2: contact area (cm^2); r_series_ohm (ohm); r_skin_ohm_cm2 (ohm*cm^2) at
    rest; r_skin_floor_ohm_cm2 (ohm*cm^2) after long current flow; q_drop_C (C) charge
    over which R_skin falls by 1/e toward the floor; c_skin_F_cm2 (F/cm^2); short_ohm
    (ohm) the load during a sweat short.
    """

    area_cm2: float = 10.0
    r_series_ohm: float = 500.0
    r_skin_ohm_cm2: float = 20e3
    r_skin_floor_ohm_cm2: float = 1e3
    q_drop_C: float = 2.4
    c_skin_F_cm2: float = 0.03e-6
    short_ohm: float = 20.0

    def r_skin(self, charge_C: float) -> float:
        """Skin resistance (ohm) after ``charge_C`` (C) has passed."""
        floor = self.r_skin_floor_ohm_cm2
        r = floor + (self.r_skin_ohm_cm2 - floor) * math.exp(-charge_C / self.q_drop_C)
        return r / self.area_cm2

    def c_skin(self) -> float:
        """Skin capacitance (F)."""
        return self.c_skin_F_cm2 * self.area_cm2


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
        self.load = load or SkinLoad()
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
        self._vc = 0.0  # V across the skin capacitance
        self._charge = 0.0  # C, integral of |i| (drives the skin drift)
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
        volts = self._current * self._r_series() + self._vc
        compliance = self._enabled and abs(target) > 0 and abs(target) * z > self._caps.compliance_V
        if self._aborted:
            status: Status = "aborted"
        elif not self._enabled:
            status = "off"
        elif compliance:
            status = "compliance"
        else:
            status = "ok"
        reading = Reading(
            t=self.clock.now(),
            current_A=self._current + float(self._rng.normal(0.0, self.noise_A)),
            voltage_V=(volts if z < OPEN_OHM else self._open_volts(target))
            + float(self._rng.normal(0.0, self.noise_V)),
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

    def clear(self, fault: Fault | str | None = None) -> None:
        """End one fault, or all of them."""
        self._advance()
        if fault is None:
            self.faults.clear()
        else:
            self.faults.discard(Fault(fault))
        if Fault.ELECTRODE_LIFTED not in self.faults:
            self._lift_start = None

    def with_load(self, **changes: float) -> SimulatedCurrentSource:
        """Change load parameters in place (``SkinLoad`` field names); returns self."""
        self.load = replace(self.load, **changes)
        return self

    # ---------------------------------------------------------------- physics

    def _require(self) -> None:
        if not self._connected:
            raise DeviceError("simulated source is not connected (call connect() first)")

    def _open_volts(self, target: float) -> float:
        return math.copysign(self._caps.compliance_V, target) if self._enabled and target else 0.0

    def _r_skin(self, t: float) -> float:
        if Fault.LEAD_BREAK in self.faults:
            return OPEN_OHM
        if Fault.SWEAT_SHORT in self.faults:
            return 0.0
        r = self.load.r_skin(self._charge)
        if self._lift_start is not None:
            r *= 10.0 ** ((t - self._lift_start) / 0.1)
        return min(r, OPEN_OHM)

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
        while self._pending and self._pending[0][0] <= now:
            self._applied = self._pending.pop(0)[1]

    def _integrate(self, dt: float) -> None:
        if dt <= 0:
            return
        r_skin = self._r_skin(self._t + dt)
        z = self._r_series() + r_skin
        target = self._target()
        current = target
        if abs(target) * z > self._caps.compliance_V:
            current = math.copysign(self._caps.compliance_V / z, target)
        if z >= OPEN_OHM:
            current = 0.0
        tau = r_skin * self.load.c_skin()
        v_inf = current * r_skin
        self._vc = v_inf + (self._vc - v_inf) * (math.exp(-dt / tau) if tau > 0 else 0.0)
        self._current = current
        self._charge += abs(current) * dt
