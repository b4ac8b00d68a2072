"""The simulated source: circuit, compliance, latency, noise, faults, range checks."""

from __future__ import annotations

import math

import pytest

from ionto.run.clock import SimClock
from ionto.run.devices import (
    CurrentSource,
    DeviceError,
    DeviceTimeout,
    Fault,
    OutOfRangeError,
    SimulatedCurrentSource,
)


def settle(dev: SimulatedCurrentSource, clock: SimClock, amps: float, periods: int = 3):
    dev.output(True)
    dev.set_current(amps)
    reading = None
    for _ in range(periods):
        clock.sleep(0.1)
        reading = dev.read()
    assert reading is not None
    return reading


def test_is_a_current_source(source: SimulatedCurrentSource) -> None:
    assert isinstance(source, CurrentSource)
    assert "SimulatedCurrentSource" in source.identify()


def test_ohmic_load_at_steady_state(source: SimulatedCurrentSource, clock: SimClock) -> None:
    # a fixed resistance: with the skin set's activation charge (30 mC/cm^2) the SC
    # conductance rises by several % per second at 0.2 mA/cm^2
    source.with_load(activation_C_cm2=1e9)
    r = settle(source, clock, 2e-3)
    z = source.load.r_series_ohm + source.skin_resistance()
    assert r.current_A == pytest.approx(2e-3, abs=5e-6)
    assert r.voltage_V == pytest.approx(2e-3 * z, rel=1e-2)
    assert r.status == "ok" and not r.compliance


def test_out_of_range_raises_never_clips(source: SimulatedCurrentSource) -> None:
    for bad in (0.031, -0.05, math.nan, math.inf):
        with pytest.raises(OutOfRangeError, match="refused"):
            source.set_current(bad)
    with pytest.raises(OutOfRangeError, match="exceeds the device maximum 30 mA"):
        source.check_value(0.04)
    source.check_value(-0.03)  # the full range both ways


def test_not_connected_is_an_error(clock: SimClock) -> None:
    with pytest.raises(DeviceError, match="not connected"):
        SimulatedCurrentSource(clock=clock).set_current(1e-3)


def test_latency_one_period(clock: SimClock) -> None:
    dev = SimulatedCurrentSource(clock=clock, latency=0.05, noise_A=0.0)
    dev.connect()
    dev.output(True)
    dev.set_current(1e-3)
    assert dev.read().current_A == 0.0  # not yet
    clock.sleep(0.1)
    assert dev.read().current_A == pytest.approx(1e-3)


def test_compliance_is_reported(clock: SimClock) -> None:
    dev = SimulatedCurrentSource(clock=clock, compliance_V=10.0, noise_A=0, noise_V=0)
    dev.with_load(activation_C_cm2=1e9)  # a fixed resistance for this check
    dev.connect()
    r = settle(dev, clock, 10e-3)
    z = dev.load.r_series_ohm + dev.skin_resistance()
    assert r.compliance and r.status == "compliance"
    assert r.current_A == pytest.approx(10.0 / z, rel=1e-3)
    assert abs(r.voltage_V) == pytest.approx(10.0, rel=1e-3)


def test_noise_is_seeded(clock: SimClock) -> None:
    def trace(seed: int) -> list[float]:
        c = SimClock()
        dev = SimulatedCurrentSource(clock=c, seed=seed)
        dev.connect()
        return [settle(dev, c, 1e-3, 1).current_A for _ in range(5)]

    assert trace(3) == trace(3)
    assert trace(3) != trace(4)


@pytest.mark.parametrize(
    ("fault", "check"),
    [
        (Fault.LEAD_BREAK, lambda r: abs(r.current_A) < 1e-5 and r.compliance),
        (Fault.ELECTRODE_LIFTED, lambda r: abs(r.current_A) < 1e-5 and r.compliance),
        (Fault.SWEAT_SHORT, lambda r: r.impedance_ohm < 30 and not r.compliance),
        (Fault.OVER_CURRENT, lambda r: r.current_A > 0.015),
        (Fault.LEADS_SWAPPED, lambda r: r.voltage_V < -1.0 and r.current_A > 1.9e-3),
        (Fault.COMPLIANCE_REACHED, lambda r: r.compliance and r.current_A < 1e-3),
        (Fault.PATIENT_STOP, lambda r: r.status == "stop"),
    ],
)
def test_faults(source: SimulatedCurrentSource, clock: SimClock, fault: Fault, check) -> None:
    settle(source, clock, 2e-3)
    source.inject(fault)
    r = settle(source, clock, 2e-3, periods=5)
    assert check(r), r
    source.clear()
    assert check(settle(source, clock, 2e-3)) is False


def test_driver_hang_stale_and_block(source: SimulatedCurrentSource, clock: SimClock) -> None:
    before = settle(source, clock, 1e-3)
    source.inject("driver_hang")
    clock.sleep(0.1)
    assert source.read() == before  # stale: the same time stamp
    source.hang = "block"
    with pytest.raises(DeviceTimeout):
        source.read()
    source.abort()  # the hardware interlock still works
    source.clear("driver_hang")
    clock.sleep(0.2)
    r = source.read()
    assert r.status == "aborted" and abs(r.current_A) < 1e-5
