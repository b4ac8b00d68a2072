"""Fault drills: every fault driven through the simulated source and through the serial
line protocol (a pty emulator), with the detection latency, the time to a safe output
and a check that the session log replays to the controller's own counters.

``python -m ionto.run.faults`` prints the table of docs/run.md. Each drill runs
:data:`DRILL_PROTOCOL` with a bench clearance, injects the fault at :data:`INJECT_AT`
seconds and records:

* detection latency: from the injection to the trip (or stop) event, in control
  periods and seconds;
* safe after: from the detection to the moment the source's output was at zero (s);
* the state reached, its reason, and whether the log's replay (periods, occurrences,
  dose integrated from the logged measured current) equals the controller's counters.

The serial drills run in real time scaled by ``speed`` (the pty and pyserial are real),
so their latencies include the operating system's scheduling.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ionto.plan.protocol import parse
from ionto.run.clearance import SafetyClearance
from ionto.run.clock import Clock, MonotonicClock, SimClock
from ionto.run.controller import Controller, ControllerConfig, Sample
from ionto.run.devices import CurrentSource, Fault, SimulatedCurrentSource
from ionto.run.session_log import SessionLog, replay

DRILL_PROTOCOL = "ramp to 2 mA over 0.5 s; hold 2 mA for 3 s; ramp to 0 mA over 0.5 s"
INJECT_AT = 2.0  # s
FAULTS: tuple[Fault, ...] = tuple(Fault)


@dataclass(frozen=True)
class DrillResult:
    """One fault drill (see the module docstring); times in s."""

    fault: str
    transport: str
    period: float
    injected_t: float
    detected_t: float | None
    latency_periods: int | None
    latency_s: float | None
    safe_after_s: float | None
    state: str
    reason: str
    output_zero: bool
    replay_matches: bool

    def row(self) -> str:
        """One markdown table row."""
        lat = "-" if self.latency_s is None else f"{self.latency_periods} ({self.latency_s:.3f} s)"
        safe = "-" if self.safe_after_s is None else f"{self.safe_after_s:.3f} s"
        return (
            f"| {self.fault} | {self.transport} | {lat} | {safe} | {self.state} | "
            f"{self.reason.split(':')[0]} | {'yes' if self.replay_matches else 'NO'} |"
        )


HEADER = (
    "| fault | through | detected after, periods (s) | output zero after detection | "
    "state | by | log replay = counters |\n|---|---|---|---|---|---|---|"
)


def drill(
    fault: Fault | str,
    transport: str = "sim",
    *,
    period: float = 0.1,
    speed: float = 2.0,
    directory: str | Path | None = None,
) -> DrillResult:
    """Run one fault drill through ``transport`` ("sim" or "serial")."""
    fault = Fault(fault)
    clock: Clock = SimClock() if transport == "sim" else MonotonicClock(speed)
    hang = "stale" if transport == "sim" else "block"
    source = SimulatedCurrentSource(clock=clock, latency=period / 2, hang=hang, seed=7)
    compliance: Literal["extend", "alarm"] = (
        "alarm" if fault is Fault.COMPLIANCE_REACHED else "extend"
    )
    protocol = parse(DRILL_PROTOCOL)
    directory = directory or tempfile.mkdtemp(prefix="ionto-drill-")
    log = SessionLog(directory, sync=False)
    injected: list[float] = []

    def inject(ctl: Controller, sample: Sample) -> None:
        if not injected and sample.t >= INJECT_AT:
            source.inject(fault)
            injected.append(sample.t)

    emulator = None
    device: CurrentSource = source
    if transport == "serial":
        from ionto.run.emulator import DeviceEmulator
        from ionto.run.serial_driver import SerialCurrentSource

        emulator = DeviceEmulator(source).start()
        device = SerialCurrentSource(emulator.port, timeout=0.3 * period / speed)
        device.connect()
    elif transport == "sim":
        source.connect()
    else:
        raise ValueError(f"transport {transport!r}: use sim or serial")
    try:
        ctl = Controller(
            device,
            protocol,
            config=ControllerConfig(period=period, compliance=compliance),
            clock=clock,
            polarity_confirmed=True,
            contraindications_confirmed=True,
            listeners=(log,),
            on_period=inject,
            clearance=SafetyClearance.bench(protocol, f"fault drill {fault.value}"),
        )
        outcome = ctl.run()
        if emulator is not None:
            device.close()
    finally:
        if emulator is not None:
            emulator.stop()
        log.close()
    detect = next(
        (e for e in ctl.events if e.kind in ("trip", "stop") and injected and e.t >= injected[0]),
        None,
    )
    detected_t = None if detect is None else detect.t
    latency = None if detected_t is None else detected_t - injected[0]
    off_at = source.output_off_at
    safe = None
    if detected_t is not None and off_at is not None:
        safe = max(0.0, off_at - (ctl.started_at + detected_t))
    rep = replay(log.path)
    matches = (
        rep.sequence_ok
        and rep.periods == ctl.periods
        and rep.occurrences == len(ctl.events)
        and rep.dose_mAmin == ctl.dose_mAmin
        and rep.last_dose_mAmin == ctl.dose_mAmin
        and rep.delivered_mAmin == outcome.delivered_mAmin
        and rep.exit_status == outcome.exit_status
    )
    return DrillResult(
        fault=fault.value,
        transport=transport,
        period=period,
        injected_t=injected[0] if injected else float("nan"),
        detected_t=detected_t,
        latency_periods=None if latency is None else round(latency / period),
        latency_s=latency,
        safe_after_s=safe,
        state=outcome.state,
        reason=outcome.reason,
        output_zero=not source.output_enabled and source.setpoint == 0.0,
        replay_matches=matches,
    )


def table(transports: tuple[str, ...] = ("sim", "serial")) -> str:
    """Every fault through every transport, as a markdown table."""
    rows = [drill(f, t).row() for f in FAULTS for t in transports]
    return "\n".join([HEADER, *rows])


if __name__ == "__main__":  # pragma: no cover - prints the docs table
    print(table())
