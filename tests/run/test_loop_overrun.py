"""The control loop faults when it falls behind its fixed period (an overloaded machine, a
clock sped up beyond what the machine can run) instead of stretching the period."""

from __future__ import annotations

import pytest

from ionto.plan.protocol import parse
from ionto.run.clearance import SafetyClearance
from ionto.run.clock import SimClock
from ionto.run.controller import Controller, ControllerConfig
from ionto.run.devices import SimulatedCurrentSource
from ionto.run.session_log import SessionLog, recover

HOLD = "ramp to 2 mA over 10 s; hold 2 mA for 2 min; ramp to 0 mA over 10 s"


class StallingClock(SimClock):
    """Simulated time in which one sleep, the ``stall_at``-th, oversleeps by ``stall`` s
    (the machine hung for that long)."""

    def __init__(self, stall_at: int, stall: float) -> None:
        super().__init__()
        self.sleeps = 0
        self.stall_at = stall_at
        self.stall = stall

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        super().sleep(seconds + (self.stall if self.sleeps == self.stall_at else 0.0))


def run(clock: SimClock, tmp_path, overrun_s: float = 1.0):  # type: ignore[no-untyped-def]
    source = SimulatedCurrentSource(clock=clock, latency=0.05, seed=1)
    source.connect()
    log = SessionLog(tmp_path, sync=False)
    protocol = parse(HOLD)
    ctl = Controller(
        source,
        protocol,
        config=ControllerConfig(period=0.1, overrun_s=overrun_s),
        clock=clock,
        polarity_confirmed=True,
        contraindications_confirmed=True,
        clearance=SafetyClearance.bench(protocol, "overrun test"),
        listeners=(log,),
    )
    out = ctl.run()
    log.close()
    return ctl, source, out, log.path


@pytest.mark.parametrize("stall", [1.5, 20.0])
def test_a_stalled_loop_faults_and_still_counts_the_late_charge(tmp_path, stall: float) -> None:
    clock = StallingClock(stall_at=400, stall=stall)  # during the 2 mA hold
    ctl, source, out, path = run(clock, tmp_path)
    assert out.exit_status == "fault"
    assert out.reason.startswith("overrun:")
    assert not source.output_enabled and source.setpoint == 0.0
    # the dose counted from the measured current includes the stalled interval: 2 mA for
    # `stall` seconds is 2 * stall / 60 mA*min, and the device's own charge agrees
    device_mAmin = source._charge / 0.06
    assert ctl.dose_mAmin == pytest.approx(device_mAmin, rel=2e-3)
    assert ctl.dose_mAmin > 2.0 * stall / 60.0
    # the log holds the same dose and status
    rec = recover(path)
    assert rec.status == "fault"
    assert rec.delivered_mAmin == pytest.approx(ctl.dose_mAmin, rel=1e-9)


def test_a_loop_that_keeps_its_period_never_trips(tmp_path) -> None:
    clock = StallingClock(stall_at=400, stall=0.9)  # within the 1 s allowance
    ctl, source, out, _ = run(clock, tmp_path)
    assert out.exit_status == "success", out.reason
    assert not any("overrun" in e.message for e in ctl.events)
