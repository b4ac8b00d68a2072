"""The treatment controller: an explicit state machine and a fixed-period control loop.

States and every allowed transition are in :data:`TRANSITIONS`; anything else raises
:class:`IllegalTransition`. Each period the controller reads the source, integrates the
dose from the *measured* current (mA*min), runs the monitors (open circuit, impedance
collapse or surge, over-current, reversed polarity, compliance, driver watchdog, the
device's patient stop button), advances the :class:`~ionto.run.schedule.Schedule` and
sends the next setpoint. Every way out of a run (complete, aborted, fault, an
exception, Ctrl-C) turns the output to zero in a ``finally``. FAULT is terminal until
:meth:`Controller.reset`, after which a run starts afresh from zero dose.

Signs: the protocol is written in the plan's frame (positive = the active electrode has
the plan's polarity); the device's frame is positive = current out of the ACTIVE lead.
A cathode plan is therefore sent with the opposite sign. Samples and logs are in the
device's frame.

Units: time in s, current in A, voltage in V, impedance in ohm, dose in mA*min.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, Literal, Protocol

from ionto.core.errors import IontoError
from ionto.plan.protocol import MA_MIN
from ionto.plan.protocol import Protocol as Treatment
from ionto.run.clearance import ElectrodeLimit, SafetyClearance
from ionto.run.clock import Clock, MonotonicClock
from ionto.run.devices.base import CurrentSource, DeviceError, OutOfRangeError, Reading
from ionto.run.monitors import Hysteresis
from ionto.run.schedule import Schedule, renderable


class State(StrEnum):
    """Controller states."""

    IDLE = "idle"
    PRECHECK = "precheck"
    ARMED = "armed"
    RAMP_UP = "ramp_up"
    DELIVER = "deliver"
    PAUSED = "paused"
    RAMP_DOWN = "ramp_down"
    COMPLETE = "complete"
    ABORTED = "aborted"
    FAULT = "fault"


S = State
_STOPS = {S.ABORTED, S.FAULT}
TRANSITIONS: dict[State, frozenset[State]] = {
    S.IDLE: frozenset({S.PRECHECK}),
    S.PRECHECK: frozenset({S.ARMED} | _STOPS),
    S.ARMED: frozenset({S.RAMP_UP, S.DELIVER, S.RAMP_DOWN} | _STOPS),
    S.RAMP_UP: frozenset({S.DELIVER, S.RAMP_DOWN, S.PAUSED, S.COMPLETE} | _STOPS),
    S.DELIVER: frozenset({S.RAMP_DOWN, S.PAUSED, S.COMPLETE} | _STOPS),
    S.PAUSED: frozenset({S.RAMP_UP} | _STOPS),
    S.RAMP_DOWN: frozenset({S.COMPLETE, S.PAUSED} | _STOPS),
    S.COMPLETE: frozenset({S.IDLE}),
    S.ABORTED: frozenset({S.IDLE}),
    S.FAULT: frozenset({S.IDLE}),
}
TERMINAL = frozenset({S.COMPLETE, S.ABORTED, S.FAULT})
ACTIVE = frozenset({S.RAMP_UP, S.DELIVER, S.RAMP_DOWN})
EXIT_STATUS = {S.COMPLETE: "success", S.ABORTED: "abort", S.FAULT: "fault"}


class IllegalTransition(IontoError, RuntimeError):
    """A transition that is not in :data:`TRANSITIONS`."""


@dataclass(frozen=True)
class ControllerConfig:
    """Controller settings (units in the names' comments).

    period: control period (s). compliance: "extend" (hold what the source can, extend
    time to deliver the dose, like ActivaDose's RESISTANCE LIMIT) or "alarm" (fault).
    precheck_A: contact-test current (A) for precheck_periods periods; contact_min_ohm /
    contact_max_ohm: accepted load (ohm). open_ohm / open_rearm_ohm: open-circuit trip
    and re-arm (ohm). collapse_ohm / collapse_rearm_ohm: impedance-collapse trip and
    re-arm (ohm); surge_ratio / surge_rearm_ratio: fall of the impedance within one
    period that counts as a surge (dimensionless). overcurrent_A / overcurrent_rearm_A:
    measured |I| above the setpoint (A). compliance_fraction / compliance_rearm_fraction:
    of the compliance voltage. watchdog_periods: failed or stale reads before a fault.
    measure_min_A: least setpoint (A) at which impedance and polarity are judged.
    polarity_min_V: least reversed voltage (V) that counts as reversed polarity (the
    leads crossed); smaller voltages cannot be judged. stop_ramp_s / pause_ramp_s /
    resume_ramp_s: controller ramps (s) to zero on a stop, to zero on a pause and back
    up after a pause.
    max_session_s: hard limit on the delivery time (s). max_pause_s: a pause longer than
    this (s) ends the session (aborted). overrun_s: how far (s of clock time) the control
    loop may fall behind its fixed period before it faults (the output was not under
    control meanwhile: an overloaded machine, or a clock sped up beyond what it can run).
    extend_limit: how much longer a
    time-stopped hold may run in "extend" mode. target_dose_mAmin: automatic stop (mA*min;
    default the protocol's dose when it is bounded).
    """

    period: float = 0.1
    compliance: Literal["extend", "alarm"] = "extend"
    precheck_A: float = 100e-6
    precheck_periods: int = 5
    contact_min_ohm: float = 100.0
    contact_max_ohm: float = 100e3
    open_ohm: float = 150e3
    open_rearm_ohm: float = 100e3
    collapse_ohm: float = 100.0
    collapse_rearm_ohm: float = 150.0
    surge_ratio: float = 0.5
    surge_rearm_ratio: float = 0.8
    overcurrent_A: float = 0.5e-3
    overcurrent_rearm_A: float = 0.25e-3
    compliance_fraction: float = 0.98
    compliance_rearm_fraction: float = 0.9
    watchdog_periods: int = 3
    measure_min_A: float = 50e-6
    polarity_min_V: float = 0.05
    stop_ramp_s: float = 5.0
    pause_ramp_s: float = 5.0
    resume_ramp_s: float = 5.0
    max_session_s: float = 4 * 3600.0
    max_pause_s: float = 600.0
    overrun_s: float = 1.0
    extend_limit: float = 2.0
    target_dose_mAmin: float | None = None


@dataclass(frozen=True)
class Event:
    """Something that happened: ``t`` (s from the session start), ``kind`` (transition,
    trip, rearm, step, request, refused, warning), ``state`` after it, ``message``."""

    t: float
    kind: str
    state: str
    message: str


@dataclass(frozen=True)
class Sample:
    """One control period: t (s), setpoint_A (A, sent this period), current_A (A,
    measured), voltage_V (V), impedance_ohm (ohm, inf with no current), dose_mAmin
    (accumulated, measured), state, step label, compliance flag, device_t (s, the
    device's time stamp of the reading; the dose integrates |current_A| over it) and
    status (the device's). None when unread."""

    t: float
    setpoint_A: float
    current_A: float | None
    voltage_V: float | None
    impedance_ohm: float | None
    dose_mAmin: float
    state: str
    step: str
    compliance: bool
    device_t: float | None = None
    status: str | None = None


@dataclass(frozen=True)
class Outcome:
    """How a run ended: exit_status (success, abort, fault), reason, state, delivered dose
    (mA*min), delivery time (s)."""

    exit_status: str
    reason: str
    state: str
    delivered_mAmin: float
    duration_s: float


class Listener(Protocol):
    """Receives the run's documents (see :class:`ionto.run.session_log.SessionLog`)."""

    def on_start(self, info: dict[str, Any]) -> None: ...

    def on_sample(self, sample: Sample) -> None: ...

    def on_event(self, event: Event) -> None: ...

    def on_stop(self, outcome: Outcome) -> None: ...


class Controller:
    """Runs ``protocol`` on ``device``.

    ``polarity_confirmed`` and ``contraindications_confirmed`` must be True (the operator
    checked the electrode placement and the patient questionnaire) and ``clearance``
    must clear ``protocol`` (:mod:`ionto.run.clearance`: the plan safety checker ran,
    including polarity versus drug charge and contraindications) or the precheck
    refuses. ``electrodes``: capacity limits enforced on the measured dose.
    ``listeners`` receive every document; ``on_period`` is called after each period
    with the :class:`Sample` (displays, test scripts).
    """

    def __init__(
        self,
        device: CurrentSource,
        protocol: Treatment,
        *,
        config: ControllerConfig | None = None,
        clock: Clock | None = None,
        polarity_confirmed: bool = False,
        contraindications_confirmed: bool = False,
        listeners: tuple[Listener, ...] = (),
        on_period: Callable[[Controller, Sample], None] | None = None,
        info: dict[str, Any] | None = None,
        clearance: SafetyClearance | None = None,
        electrodes: tuple[ElectrodeLimit, ...] = (),
    ) -> None:
        self.device = device
        self.protocol = protocol
        self.config = config or ControllerConfig()
        self.clock: Clock = clock or MonotonicClock()
        self.polarity_confirmed = polarity_confirmed
        self.contraindications_confirmed = contraindications_confirmed
        self.listeners = listeners
        self.on_period = on_period
        self.info = dict(info or {})
        self.clearance = clearance
        self.electrodes = tuple(electrodes)
        polarity = clearance.polarity if clearance is not None else None
        self.sign = -1.0 if polarity == "cathode" else 1.0  # plan frame -> device frame
        self.state = State.IDLE
        self.events: list[Event] = []
        self._requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._period_reading: tuple[Reading | None] | None = None  # read, not yet logged
        self._fresh()

    # ---------------------------------------------------------------- public

    def start(self) -> None:
        """IDLE -> PRECHECK -> ARMED (or ABORTED with the reason)."""
        self._fresh()
        self._t0 = self.clock.now()
        self._notify("on_start", self._start_info())
        self._go(S.PRECHECK, "precheck")
        reasons = self.check()
        if reasons:
            for r in reasons:
                self._event("refused", r)
            self._finish(S.ABORTED, "refused: " + "; ".join(reasons))
            return
        self._precheck()

    def check(self) -> list[str]:
        """Why this protocol cannot run on this device (empty if it can). Nothing moves."""
        cfg = self.config
        reasons: list[str] = []
        if not self.polarity_confirmed:
            reasons.append("electrode polarity not confirmed by the operator")
        if not self.contraindications_confirmed:
            reasons.append("contraindications not confirmed (patient questionnaire)")
        peak = self.protocol.peak_current
        for value, what in ((peak, "protocol peak current"), (cfg.precheck_A, "precheck current")):
            try:
                self.device.check_value(value)
            except OutOfRangeError as exc:
                reasons.append(f"{what}: {exc.reason}")
        if self.clearance is None:
            reasons.append(
                "no safety clearance: the plan's polarity versus the drug's charge and the "
                "contraindications were not checked (ionto.run.clearance.clear_plan)"
            )
        else:
            reasons.extend(self.clearance.problems(self.protocol))
        reasons.extend(renderable(self.protocol, cfg.period))
        if not cfg.period > 0:
            reasons.append(f"control period {cfg.period!r} s must be > 0")
        request = self.target_mAmin
        for limit in self.electrodes:
            if request is not None and request > limit.left_mAmin * (1 + 1e-9):
                reasons.append(
                    f"requested dose {request:.4g} mA*min exceeds the capacity left on the "
                    f"{limit.describe()} ({limit.left_mAmin:.4g} mA*min left)"
                )
        return reasons

    @property
    def capacity_left_mAmin(self) -> float | None:
        """The smallest electrode capacity left for this session (mA*min), None if no
        electrode has a limit. Both electrodes pass the same charge."""
        if not self.electrodes:
            return None
        return min(limit.left_mAmin for limit in self.electrodes)

    def tick(self) -> Sample | None:
        """One control period (call it every ``config.period`` s)."""
        self._handle_requests()
        if self.state in TERMINAL or self.state is S.IDLE:
            return None
        reading = self._read()
        if self.state in TERMINAL:
            return None
        self._period_reading = (reading,)  # logged even if this period ends the run
        self._measure(reading)
        if self.state in TERMINAL:
            return None
        setpoint = self._next_setpoint(reading)
        if self.state in TERMINAL:
            return None
        self._send(setpoint)
        if self.state in TERMINAL:
            return None
        sample = self._emit(reading)
        if self.on_period is not None:
            self.on_period(self, sample)
        return sample

    def run(self) -> Outcome:
        """Start (if idle) and run to a terminal state; the output ends at zero."""
        try:
            if self.state is S.IDLE:
                self.start()
            next_t = self.clock.now()
            while self.state not in TERMINAL:
                next_t += self.config.period
                self.clock.sleep(max(0.0, next_t - self.clock.now()))
                late = self.clock.now() - next_t
                self._check_overrun(late)
                if self.state in TERMINAL:
                    break
                if late > self.config.period:  # missed periods are skipped, not bunched
                    next_t += late
                self.tick()
        except KeyboardInterrupt:
            self._finish(S.ABORTED, "interrupted by the operator (Ctrl-C)")
        except Exception as exc:  # every other failure is a fault, never a live output
            self._finish(S.FAULT, f"internal error: {type(exc).__name__}: {exc}")
        finally:
            self._safe_shutdown()
        assert self.outcome is not None
        return self.outcome

    def _check_overrun(self, late: float) -> None:
        """Fault when the loop is more than ``overrun_s`` (s) behind its period; the late
        interval is read first, so its charge still counts in the dose."""
        cfg = self.config
        if late <= cfg.overrun_s:
            return
        reading = self._read()
        if self.state not in TERMINAL:
            self._period_reading = (reading,)
            self._measure(reading)
        if self.state not in TERMINAL:
            self._fault(
                "overrun",
                f"the control loop is {late:.3g} s behind its {cfg.period:g} s period (limit "
                f"{cfg.overrun_s:g} s): the output was not under control meanwhile",
            )

    def pause(self) -> None:
        """Request a pause: ramp to 0 over ``pause_ramp_s``, then PAUSED (the schedule
        stands still; the dose keeps counting from the measured current)."""
        self._request("pause", "pause requested")

    def resume(self) -> None:
        """Request the end of a pause (ramp back up, then the schedule continues)."""
        self._request("resume", "resume requested")

    def stop(self, reason: str = "patient stop") -> None:
        """Request a stop: ramp to zero over ``stop_ramp_s``, then ABORTED."""
        self._request("stop", reason)

    def abort(self, reason: str = "operator abort") -> None:
        """Request an immediate stop (output off at the next period)."""
        self._request("abort", reason)

    def reset(self) -> None:
        """From COMPLETE, ABORTED or FAULT back to IDLE; the next run starts from zero."""
        self._go(S.IDLE, "reset")
        self._fresh()

    @property
    def dose_mAmin(self) -> float:
        """Dose delivered so far (mA*min), from the measured current."""
        return self._charge / MA_MIN

    @property
    def elapsed(self) -> float:
        """Time (s) since the session started."""
        return self.clock.now() - self._t0

    @property
    def started_at(self) -> float:
        """Clock time (s) at which the session started (event times count from it)."""
        return self._t0

    # ---------------------------------------------------------------- internals

    def _fresh(self) -> None:
        cfg = self.config
        self.schedule = Schedule(
            self.protocol, extend=cfg.compliance == "extend", extend_limit=cfg.extend_limit
        )
        self.outcome: Outcome | None = None
        self._charge = 0.0
        self._t0 = self.clock.now()
        self._last_t: float | None = None
        self._bad_reads = 0
        self._sent: list[float] = [0.0, 0.0]  # the last two setpoints (A)
        self._z_prev: float | None = None
        self._ramp: tuple[float, float, float] | None = None  # (from A, rate A/s, elapsed)
        self._stop_kind: State | None = None
        self._stop_reason = ""
        self._pausing = False
        self._paused_at = 0.0  # s, session time at which the output reached 0 in a pause
        self._period_reading = None
        self.periods = 0  # samples emitted (= event documents in the log)
        self._delivery_s = 0.0
        self.last_reading: Reading | None = None
        self.monitors = {
            "open_circuit": Hysteresis("open_circuit", cfg.open_ohm, cfg.open_rearm_ohm),
            "collapse": Hysteresis(
                "collapse", cfg.collapse_ohm, cfg.collapse_rearm_ohm, above=False
            ),
            "surge": Hysteresis("surge", cfg.surge_ratio, cfg.surge_rearm_ratio, above=False),
            "overcurrent": Hysteresis("overcurrent", cfg.overcurrent_A, cfg.overcurrent_rearm_A),
            "compliance": Hysteresis(
                "compliance", cfg.compliance_fraction, cfg.compliance_rearm_fraction
            ),
            "watchdog": Hysteresis("watchdog", cfg.watchdog_periods, 0.5),
            "polarity": Hysteresis("polarity", cfg.polarity_min_V, -cfg.polarity_min_V),
        }
        target = cfg.target_dose_mAmin
        if target is None and self.protocol.bounded:
            target = self.protocol.dose_mAmin
        self.target_mAmin = target

    def _start_info(self) -> dict[str, Any]:
        try:
            device_id = self.device.identify()
        except DeviceError as exc:
            device_id = f"unidentified ({exc})"
        return {
            **self.info,
            "device": device_id,
            "capabilities": asdict(self.device.capabilities),
            "protocol": str(self.protocol),
            "rules": asdict(self.config),
            "target_dose_mAmin": self.target_mAmin,
            "clearance": None if self.clearance is None else self.clearance.to_dict(),
            "electrodes": [asdict(limit) for limit in self.electrodes],
            "sign": self.sign,
        }

    def _t(self) -> float:
        return self.clock.now() - self._t0

    def _event(self, kind: str, message: str) -> None:
        event = Event(self._t(), kind, self.state.value, message)
        self.events.append(event)
        self._notify("on_event", event)

    def _notify(self, method: str, arg: Any) -> None:
        for listener in self.listeners:
            getattr(listener, method)(arg)

    def _go(self, new: State, reason: str) -> None:
        if new not in TRANSITIONS[self.state]:
            raise IllegalTransition(f"{self.state.value} -> {new.value} is not allowed ({reason})")
        old = self.state
        self.state = new
        self._event("transition", f"{old.value} -> {new.value}: {reason}")

    def _finish(self, state: State, reason: str) -> None:
        """Enter a terminal state, output to zero first (abort for a fault)."""
        if self.state in TERMINAL:
            return
        if state is S.FAULT:
            try:
                self.device.abort()
            except Exception as exc:  # still record the fault
                self._event("warning", f"device abort failed: {exc}")
        self._safe_shutdown()
        self._go(state, reason)
        if self._period_reading is not None:  # the reading of this period is logged too
            sample = self._sample(self._period_reading[0])
            self._period_reading = None
            self.periods += 1
            self._notify("on_sample", sample)
        self.outcome = Outcome(
            EXIT_STATUS[state], reason, state.value, self.dose_mAmin, self._delivery_s
        )
        self._notify("on_stop", self.outcome)

    def _safe_shutdown(self) -> None:
        """Setpoint 0 and output off; on any failure, abort."""
        failed = False
        for action in (lambda: self.device.set_current(0.0), lambda: self.device.output(False)):
            try:
                action()
            except Exception:
                failed = True
        if failed:
            with contextlib.suppress(Exception):
                self.device.abort()
        self._sent = [0.0, 0.0]

    def _request(self, kind: str, reason: str) -> None:
        with self._lock:
            self._requests.append((kind, reason))

    def _handle_requests(self) -> None:
        with self._lock:
            requests, self._requests = self._requests, []
        for kind, reason in requests:
            self._event("request", reason)
            stopping = self._stop_kind is not None
            if kind == "abort" and self.state not in TERMINAL:
                self._finish(S.ABORTED, reason)
            elif kind == "stop" and self.state in ACTIVE | {S.ARMED}:
                self._pausing = False
                self._begin_stop(S.ABORTED, reason)
            elif kind == "stop" and self.state is S.PAUSED:
                self._finish(S.ABORTED, reason)
            elif kind == "pause" and self.state in {S.RAMP_UP, S.DELIVER} and not stopping:
                self._begin_pause(reason)
            elif kind == "resume" and self.state is S.PAUSED:
                level = self._planned()
                self._ramp = (0.0, level / max(self.config.resume_ramp_s, 1e-9), 0.0)
                self._go(S.RAMP_UP, f"{reason}: ramp to {level * 1e3:.3g} mA")
            else:
                self._event("refused", f"{reason}: not possible in state {self.state.value}")

    def _begin_pause(self, reason: str) -> None:
        """Ramp from the present setpoint to 0 over ``pause_ramp_s``, then PAUSED."""
        level = self._sent[-1]
        if abs(level) < 1e-12:
            self._ramp = None
            self._paused_at = self._t()
            self._go(S.PAUSED, reason)
            return
        self._pausing = True
        self._ramp = (level, level / max(self.config.pause_ramp_s, 1e-9), 0.0)
        self._go(S.RAMP_DOWN, f"{reason}: ramp to 0 mA over {self.config.pause_ramp_s:g} s")

    def _planned(self) -> float:
        """The schedule's setpoint now, in the device's frame (A)."""
        return self.sign * self.schedule.setpoint()

    def _precheck(self) -> None:
        """Contact, impedance and electrical polarity test at ``precheck_A``."""
        cfg = self.config
        device = self.device
        test = self.sign * cfg.precheck_A
        readings: list[Reading] = []
        try:
            device.output(True)
            device.set_current(test)
            self._sent = [test, test]
            for _ in range(cfg.precheck_periods):
                self.clock.sleep(cfg.period)
                reading = device.read()
                if self._last_t is not None:  # the test current counts in the dose too
                    self._charge += abs(reading.current_A) * max(0.0, reading.t - self._last_t)
                self._last_t = reading.t
                readings.append(reading)
                self.periods += 1
                self._notify("on_sample", self._sample(reading, step="contact check"))
                if reading.status == "stop":
                    self._finish(S.ABORTED, "patient stop button pressed during the precheck")
                    return
            device.set_current(0.0)
            self._sent = [0.0, 0.0]
        except DeviceError as exc:
            self._finish(S.FAULT, f"precheck: device error: {exc}")
            return
        z = sorted(r.impedance_ohm for r in readings)[len(readings) // 2]
        self._event("step", f"contact check at {cfg.precheck_A * 1e6:g} uA: {z:.4g} ohm")
        if not cfg.contact_min_ohm <= z <= cfg.contact_max_ohm:
            what = "no contact (electrode off?)" if z > cfg.contact_max_ohm else "short circuit"
            self._finish(
                S.ABORTED,
                f"contact check failed: {z:.4g} ohm outside {cfg.contact_min_ohm:g}-"
                f"{cfg.contact_max_ohm:g} ohm ({what})",
            )
            return
        volts = sorted(r.voltage_V for r in readings)[len(readings) // 2]
        polarity = self.clearance.polarity if self.clearance else None
        active = f"the active electrode ({polarity or 'positive lead'})"
        if abs(volts) < cfg.polarity_min_V:
            self._event(
                "warning",
                f"polarity check: {volts * 1e3:.3g} mV at the test current is too small to "
                "judge; the polarity monitor judges it during delivery",
            )
        elif volts * test < 0:
            self._event("trip", f"polarity: {volts:.3g} V with {test * 1e6:+.4g} uA")
            self._finish(
                S.ABORTED,
                f"polarity check failed: {volts:.3g} V at {test * 1e6:+.4g} uA: {active} is "
                "at the wrong potential (leads swapped?)",
            )
            return
        else:
            self._event("step", f"polarity check: {volts:.3g} V, {active} as planned")
        peak = self.protocol.peak_current * z
        if peak > device.capabilities.compliance_V:
            msg = (
                f"expected {peak:.3g} V at the peak current exceeds the "
                f"{device.capabilities.compliance_V:g} V compliance"
            )
            if cfg.compliance == "alarm":
                self._finish(S.ABORTED, msg)
                return
            self._event("warning", msg + " (time will be extended)")
        self._go(S.ARMED, f"contact {z:.4g} ohm")
        self._go(S(self.schedule.phase), "start")

    def _read(self) -> Reading | None:
        try:
            reading: Reading | None = self.device.read()
        except DeviceError as exc:
            reading = None
            self._event("warning", f"read failed: {exc}")
        stale = reading is not None and self._last_t is not None and reading.t <= self._last_t
        self._bad_reads = self._bad_reads + 1 if reading is None or stale else 0
        change = self.monitors["watchdog"].update(self._bad_reads)
        if change == "trip":
            self._fault("watchdog", f"driver silent for {self._bad_reads} periods")
        elif change == "rearm":
            self._event("rearm", "watchdog: readings again")
        return None if stale else reading

    def _fault(self, monitor: str, message: str) -> None:
        self._event("trip", f"{monitor}: {message}")
        self._finish(S.FAULT, f"{monitor}: {message}")

    def _measure(self, reading: Reading | None) -> None:
        if reading is None:
            return
        cfg = self.config
        dt = 0.0 if self._last_t is None else max(0.0, reading.t - self._last_t)
        self._last_t = reading.t
        self.last_reading = reading
        charge = abs(reading.current_A) * dt
        self._charge += charge
        self._step_charge = charge
        self._dt = dt
        if reading.status == "stop":
            self._event("stop", "patient_stop: the stop button on the device was pressed")
            self._finish(S.ABORTED, "patient stop button pressed")
            return
        applied = min(abs(s) for s in self._sent)  # A flowing during the whole period
        expected = max(abs(s) for s in self._sent)
        z = reading.impedance_ohm if applied >= cfg.measure_min_A else None
        current = abs(reading.current_A)
        z_prev = self._z_prev
        before, now = self._sent
        volts = reading.voltage_V
        # reversed voltage (V): > 0 when the active lead is at the wrong potential
        reversed_v = None
        if before * now > 0 and applied >= cfg.measure_min_A:
            reversed_v = -math.copysign(1.0, now) * volts
        checks: list[tuple[str, float | None, Callable[[], str]]] = [
            ("open_circuit", z, lambda: f"impedance {z:.4g} ohm (electrode off or lead broken?)"),
            ("collapse", z, lambda: f"impedance {z:.4g} ohm (sweat bridge or short?)"),
            (
                "surge",
                None if z is None or not z_prev else z / z_prev,
                lambda: f"impedance fell from {z_prev:.4g} to {z:.4g} ohm in one period",
            ),
            (
                "overcurrent",
                current - expected,
                lambda: f"measured {current * 1e3:.4g} mA with {expected * 1e3:.4g} mA set",
            ),
            (
                "polarity",
                reversed_v,
                lambda: f"{volts:.3g} V with {now * 1e3:+.4g} mA set (leads swapped?)",
            ),
        ]
        self._z_prev = z if z is not None and math.isfinite(z) else self._z_prev
        for name, value, message in checks:
            change = self.monitors[name].update(value)
            if change == "trip":
                self._fault(name, message())
                return
            if change == "rearm":
                self._event("rearm", name)
        vc = self.device.capabilities.compliance_V
        level = 1.0 if reading.compliance else abs(reading.voltage_V) / vc
        change = self.monitors["compliance"].update(level if expected > 0 else None)
        if change == "trip":
            text = f"{abs(reading.voltage_V):.3g} V of {vc:g} V"
            if cfg.compliance == "alarm":
                self._fault("compliance", text)
                return
            self._event("trip", f"compliance: resistance limit, time extended ({text})")
        elif change == "rearm":
            self._event("rearm", "compliance: current regulated again")
        if self.monitors["compliance"].tripped:
            self.schedule.limited = True

    def _next_setpoint(self, reading: Reading | None) -> float:
        cfg = self.config
        if self.state is S.PAUSED:
            if self._t() - self._paused_at > cfg.max_pause_s:
                self._finish(S.ABORTED, f"pause longer than {cfg.max_pause_s:g} s")
            return 0.0
        if reading is None:
            return self._sent[-1]
        if self.state not in ACTIVE:
            return 0.0
        dt = self._dt
        self._delivery_s += dt
        if self.target_mAmin is not None and self.dose_mAmin >= self.target_mAmin:
            self._finish(S.COMPLETE, f"target dose {self.target_mAmin:.4g} mA*min reached")
            return 0.0
        if self._capacity_stop(dt):
            return 0.0
        if self._delivery_s >= cfg.max_session_s:
            self._begin_stop(S.COMPLETE, f"session time limit {cfg.max_session_s:g} s reached")
        if self._ramp is not None:  # controller ramp: pause, resume or stop
            start, rate, elapsed = self._ramp
            elapsed += dt
            self._ramp = (start, rate, elapsed)
            self.schedule.step_charge += self._step_charge  # a dose stop counts it too
            if self._stop_kind is not None or self._pausing:
                level = start - rate * elapsed
                if level * start > 0:
                    return level
                if self._stop_kind is not None:
                    self._finish(self._stop_kind, self._stop_reason)
                else:
                    self._pausing = False
                    self._ramp = None
                    self._paused_at = self._t()
                    self._go(S.PAUSED, "pause ramp done")
                return 0.0
            target = self._planned()
            level = rate * elapsed
            if abs(level) < abs(target) and level * target >= 0:
                return level
            self._ramp = None
            phase = S(self.schedule.phase)
            if phase is not self.state:
                self._go(phase, "resume ramp done")
            return target
        voltage = reading.voltage_V
        for message in self.schedule.advance(dt, self._step_charge, voltage, reading.impedance_ohm):
            self._event("step", message)
        if self.schedule.shortfall:
            self._event("warning", self.schedule.shortfall)
            self.schedule.shortfall = None
        if self.schedule.done:
            self._finish(S.COMPLETE, "protocol complete")
            return 0.0
        phase = S(self.schedule.phase)
        if phase is not self.state:
            self._go(phase, self.schedule.label)
        return self._planned()

    def _capacity_stop(self, dt: float) -> bool:
        """Stop before an electrode's capacity is passed: a controlled stop once the dose
        plus the charge of the stop ramp (and one period) would reach it; an immediate
        one if it is reached. Only needed when the request was not known to fit."""
        left = self.capacity_left_mAmin
        if left is None:
            return False
        names = "; ".join(limit.describe() for limit in self.electrodes)
        reason = f"electrode capacity reached ({names})"
        if self.dose_mAmin >= left:
            self._event("stop", f"capacity: {self.dose_mAmin:.4g} of {left:.4g} mA*min")
            self._finish(S.ABORTED, reason)
            return True
        fits = self.target_mAmin is not None and self.target_mAmin <= left * (1 + 1e-9)
        if fits or self._stop_kind is not None:
            return False
        level = abs(self._sent[-1])
        ramp = level * (self.config.stop_ramp_s / 2 + dt) / MA_MIN
        if self.dose_mAmin + ramp >= left:
            self._event("stop", f"capacity: {self.dose_mAmin:.4g} of {left:.4g} mA*min")
            self._begin_stop(S.ABORTED, reason)
            return self.state in TERMINAL
        return False

    def _begin_stop(self, kind: State, reason: str) -> None:
        self._pausing = False
        level = self._sent[-1]
        if abs(level) < 1e-12:
            self._finish(kind, reason)
            return
        self._stop_kind, self._stop_reason = kind, reason
        self._ramp = (level, level / max(self.config.stop_ramp_s, 1e-9), 0.0)
        if self.state is not S.RAMP_DOWN:
            self._go(S.RAMP_DOWN, reason)

    def _send(self, amps: float) -> None:
        try:
            self.device.set_current(amps)
        except OutOfRangeError as exc:
            self._fault("setpoint", str(exc))
            return
        except DeviceError as exc:
            self._event("warning", f"set_current failed: {exc}")
        self._sent = [self._sent[-1], amps]

    def _sample(self, reading: Reading | None, step: str | None = None) -> Sample:
        return Sample(
            t=self._t(),
            setpoint_A=self._sent[-1],
            current_A=None if reading is None else reading.current_A,
            voltage_V=None if reading is None else reading.voltage_V,
            impedance_ohm=None if reading is None else reading.impedance_ohm,
            dose_mAmin=self.dose_mAmin,
            state=self.state.value,
            step=self.schedule.label if step is None else step,
            compliance=bool(reading and reading.compliance),
            device_t=None if reading is None else reading.t,
            status=None if reading is None else reading.status,
        )

    def _emit(self, reading: Reading | None) -> Sample:
        """Send this period's sample to the listeners."""
        sample = self._sample(reading)
        self._period_reading = None
        self.periods += 1
        self._notify("on_sample", sample)
        return sample
